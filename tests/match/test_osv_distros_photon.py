"""Photon OS via its OSV records (captn3m0/photon-os-advisories, VMware's PHSA advisories in OSV form;
testdata/osv-distros/photon), on images whose rpm database rpm itself wrote from rpmbuild-made packages. The
package names and versions are those of a real Photon OS 3.0 image (Trivy's `photon-30` package golden:
curl + curl-libs 7.61.1-4.ph3, openssl 1.0.2s-1.ph3, sqlite-libs 3.27.2-3.ph3, expat-libs 2.2.6-2.ph3), zlib
raised to its fix.

The records (hand-read). Photon files each package under its SOURCE (spec) name; most entries come twice,
once with `ranges` as a list and once with a lone range written as an object (not a list), and the newer
records add a third entry of the package with no range at all:
- PHSA-2019-3.0-0032, `Photon OS:3.0`: curl fixed `7.61.1-5.ph3`, openssl fixed `1.0.2t-1.ph3` (libvirt too);
- PHSA-2020-3.0-0049, `Photon OS:3.0`: sqlite fixed `3.30.1-1.ph3` (bindutils too);
- PHSA-2023-3.0-0674, `Photon OS:3.0`: zlib fixed `1.2.11-5.ph3`, plus a zlib entry without a range;
- PHSA-2024-4.0-0582, `Photon OS:4.0` only: expat fixed `2.4.9-2.ph4`, plus an expat entry without a range.
No Photon record carries an epoch (none of the 11,441 fixed versions in the repository's 2,621 records): there is no
epoch case to derive here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from osv_distro_images import RECORDS, image, run, scan

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testsupport import require_tool  # noqa: E402

SPEC = """Name: {name}
Version: {version}
Release: {release}
Summary: hullscan test package {name}
License: MIT
BuildArch: noarch
%global debug_package %{{nil}}
%description
Test package {name}.
%install
mkdir -p %{{buildroot}}/usr/share/{name}
{body}
"""
#: the main package and its `-libs` sub-package, as Photon's specs build them: (what %install makes, %files)
MAIN = ("echo x > %{{buildroot}}/usr/share/{name}/README\n", "%files\n/usr/share/{name}/README\n")
LIBS = ("echo x > %{{buildroot}}/usr/share/{name}/README-libs\n",
        "%package libs\nSummary: {name} libs\n%description libs\nLibraries of {name}.\n"
        "%files libs\n/usr/share/{name}/README-libs\n")


def _rpmdb(tmp: Path, pkgs: list[tuple[str, str, str, bool, bool]]) -> bytes:
    """rpmdb.sqlite of noarch packages (source name, version, release, main package?, `-libs` package?) built
    and installed (`--justdb`) by rpm."""
    top, db = tmp / "top", tmp / "db"
    (top / "SPECS").mkdir(parents=True)
    for name, version, release, main, libs in pkgs:
        spec = top / "SPECS" / f"{name}.spec"
        parts = [p for p, wanted in ((MAIN, main), (LIBS, libs)) if wanted]
        body = "".join(p[0] for p in parts) + "".join(p[1] for p in parts)
        spec.write_text(SPEC.format(name=name, version=version, release=release, body=body.format(name=name)))
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)], check=True,
                       capture_output=True)
    rpms = sorted(str(p) for p in (top / "RPMS").rglob("*.rpm"))
    subprocess.run(["rpm", "--dbpath", str(db), "--initdb"], check=True)
    subprocess.run(["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", "--noscripts", *rpms], check=True,
                   capture_output=True)
    return (db / "rpmdb.sqlite").read_bytes()


def _photon(version_id: str) -> bytes:
    # Photon's os-release as shipped (syft's and Trivy's test data), for this release
    return (f'NAME="VMware Photon OS"\nVERSION="{version_id}"\nID=photon\nVERSION_ID={version_id}\n'
            'PRETTY_NAME="VMware Photon OS/Linux"\nANSI_COLOR="1;34"\nHOME_URL="https://vmware.github.io/photon/"\n'
            'BUG_REPORT_URL="https://github.com/vmware/photon/issues"\n').encode()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photon") / "vuln.db"
    r = run("db", "import", str(RECORDS / "photon"), "--db", str(path))
    assert r.returncode == 0, r.stderr
    # every record imported (a lone range object is read as a one-range list, not a malformed record); the
    # range-less entries are no rows and the list/object twins one row each: 0032 libvirt, openssl, curl;
    # 0049 bindutils, sqlite; 0674 zlib; 0582 expat
    assert "4 records (4 advisories), 0 skipped" in r.stdout and "7 affected rows" in r.stdout, r.stdout
    return path


@pytest.fixture(scope="module")
def rpmdb(tmp_path_factory) -> bytes:
    for tool in ("rpm", "rpmbuild"):
        require_tool(tool)
    return _rpmdb(tmp_path_factory.mktemp("rpm"), [
        ("curl", "7.61.1", "4.ph3", True, True),  # curl + curl-libs
        ("openssl", "1.0.2s", "1.ph3", True, False),
        ("sqlite", "3.27.2", "3.ph3", False, True),  # sqlite-libs only
        ("expat", "2.2.6", "2.ph3", False, True),  # expat-libs only
        ("zlib", "1.2.11", "5.ph3", True, False),
    ])


def test_photon_3(tmp_path, db, rpmdb):
    inv, got = scan(image(tmp_path / "photon3.tar", {"etc/os-release": _photon("3.0"),
                                                     "var/lib/rpm/rpmdb.sqlite": rpmdb}), db)
    assert inv.os is not None and inv.os.ecosystem == "Photon OS:3.0"
    names = {p.name: p for p in inv.packages}
    assert names["curl-libs"].source_name == "curl" and names["sqlite-libs"].source_name == "sqlite"
    # 7.61.1-4.ph3 < 7.61.1-5.ph3 (release 4 < 5): curl by its own name, which is its source name too, and
    # curl-libs by its source name curl (the record names no curl-libs)
    for name in ("curl", "curl-libs"):
        f = got[(name, "PHSA-2019-3.0-0032")]
        assert f.fixed_version == "7.61.1-5.ph3" and f.status == "fixed"
        assert {d.identity for d in f.details} == {"source"}
    # 1.0.2s < 1.0.2t (rpmvercmp: the letters compare as strings)
    assert got[("openssl", "PHSA-2019-3.0-0032")].fixed_version == "1.0.2t-1.ph3"
    # binary sqlite-libs, source sqlite: 3.27.2 < 3.30.1, found through the source name only
    f = got[("sqlite-libs", "PHSA-2020-3.0-0049")]
    assert f.fixed_version == "3.30.1-1.ph3" and {d.identity for d in f.details} == {"source"}
    # zlib 1.2.11-5.ph3 is the fix of PHSA-2023-3.0-0674: not affected, and the record's range-less zlib
    # entry affects no version; expat's fix is a Photon OS 4.0 record only: no match on 3.0
    assert set(got) == {("curl", "PHSA-2019-3.0-0032"), ("curl-libs", "PHSA-2019-3.0-0032"),
                        ("openssl", "PHSA-2019-3.0-0032"), ("sqlite-libs", "PHSA-2020-3.0-0049")}


def test_photon_4(tmp_path, db, rpmdb):
    inv, got = scan(image(tmp_path / "photon4.tar", {"etc/os-release": _photon("4.0"),
                                                     "var/lib/rpm/rpmdb.sqlite": rpmdb}), db)
    assert inv.os is not None and inv.os.ecosystem == "Photon OS:4.0"
    # expat-libs 2.2.6-2.ph3 < 2.4.9-2.ph4, through its source name expat; the 3.0 records do not apply here
    f = got[("expat-libs", "PHSA-2024-4.0-0582")]
    assert f.fixed_version == "2.4.9-2.ph4" and {d.identity for d in f.details} == {"source"}
    assert set(got) == {("expat-libs", "PHSA-2024-4.0-0582")}
