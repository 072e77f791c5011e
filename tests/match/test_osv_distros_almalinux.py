"""AlmaLinux via its OSV records (AlmaLinux/osv-database, as kept in grype's test data; testdata/osv-distros/
almalinux), on images whose rpm database rpm itself wrote from rpmbuild-made packages.

The records (hand-read):
- ALSA-2025:7467, ecosystem `AlmaLinux:10`: BINARY packages `skopeo` and `skopeo-tests`, each introduced 0,
  fixed `2:1.18.1-1.el10_0` (epoch 2);
- ALSA-2020:1636, ecosystem `AlmaLinux:8`: binary `libsndfile-devel` (source rpm libsndfile), fixed
  `1.0.28-10.el8`.
Each image holds skopeo + skopeo-tests (both from source rpm skopeo, epoch 2) and libsndfile-devel.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from osv_distro_images import image, import_db, scan

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testsupport import require_tool  # noqa: E402

SPEC = """Name: {name}
Version: {version}
Release: {release}
{epoch}
Summary: hullscan test package {name}
License: MIT
BuildArch: noarch
%global debug_package %{{nil}}
%description
Test package {name}.
{sub}
%install
mkdir -p %{{buildroot}}/usr/share/{name}
echo x > %{{buildroot}}/usr/share/{name}/README
%files
/usr/share/{name}/README
"""
SUB = """%package {sub}
Summary: {name} {sub}
%description {sub}
Sub-package {sub} of {name}.
%files {sub}
"""


def _rpmdb(tmp: Path, pkgs: list[tuple[str, str, str, str, str]]) -> bytes:
    """rpmdb.sqlite of noarch packages (name, epoch, version, release, sub-package or '') built and
    installed (`--justdb`) by rpm."""
    top, db = tmp / "top", tmp / "db"
    (top / "SPECS").mkdir(parents=True)
    for name, epoch, version, release, sub in pkgs:
        spec = top / "SPECS" / f"{name}.spec"
        spec.write_text(SPEC.format(name=name, version=version, release=release, epoch=f"Epoch: {epoch}" if epoch else "",
                                    sub=SUB.format(name=name, sub=sub) if sub else ""))
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)], check=True,
                       capture_output=True)
    rpms = sorted(str(p) for p in (top / "RPMS").rglob("*.rpm"))
    subprocess.run(["rpm", "--dbpath", str(db), "--initdb"], check=True)
    subprocess.run(["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", "--noscripts", *rpms], check=True,
                   capture_output=True)
    return (db / "rpmdb.sqlite").read_bytes()


def _alma(major: str, version_id: str) -> bytes:
    return (f'NAME="AlmaLinux"\nVERSION="{version_id}"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
            f'VERSION_ID="{version_id}"\nPRETTY_NAME="AlmaLinux {version_id}"\n'
            f'CPE_NAME="cpe:/o:almalinux:almalinux:{major}::baseos"\n').encode()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return import_db(tmp_path_factory.mktemp("alma") / "vuln.db", "almalinux")


@pytest.fixture(scope="module")
def rpmdb(tmp_path_factory) -> bytes:
    for tool in ("rpm", "rpmbuild"):
        require_tool(tool)
    # skopeo 2:1.18.0-1 (below the 2:1.18.1-1.el10_0 fix) with its `tests` sub-package; libsndfile's -devel
    # package at 1.0.28-9.el8 (below the AlmaLinux 8 fix 1.0.28-10.el8)
    return _rpmdb(tmp_path_factory.mktemp("rpm"), [("skopeo", "2", "1.18.0", "1.el10", "tests"),
                                                   ("libsndfile", "", "1.0.28", "9.el8", "devel")])


def test_almalinux_10(tmp_path, db, rpmdb):
    inv, got = scan(image(tmp_path / "alma10.tar", {"etc/os-release": _alma("10", "10.0"),
                                                    "var/lib/rpm/rpmdb.sqlite": rpmdb}), db)
    assert inv.os.ecosystem == "AlmaLinux:10"
    names = {p.name: p for p in inv.packages}
    assert names["skopeo-tests"].source_name == "skopeo" and names["skopeo"].version.startswith("2:")
    # epoch 2 on both sides: 2:1.18.0-1.el10 < 2:1.18.1-1.el10_0
    for name in ("skopeo", "skopeo-tests"):
        f = got[(name, "ALSA-2025:7467")]
        assert f.fixed_version == "2:1.18.1-1.el10_0" and f.status == "fixed"
    # skopeo-tests is filed under its BINARY name: that query decides it
    assert "binary" in {d.identity for d in got[("skopeo-tests", "ALSA-2025:7467")].details}
    # libsndfile-devel is affected only in the AlmaLinux:8 record: fixed in another release, no match here
    assert set(got) == {("skopeo", "ALSA-2025:7467"), ("skopeo-tests", "ALSA-2025:7467")}


def test_almalinux_8(tmp_path, db, rpmdb):
    inv, got = scan(image(tmp_path / "alma8.tar", {"etc/os-release": _alma("8", "8.10"),
                                                   "var/lib/rpm/rpmdb.sqlite": rpmdb}), db)
    assert inv.os.ecosystem == "AlmaLinux:8"
    # 1.0.28-9.el8 < 1.0.28-10.el8, found by the binary name libsndfile-devel (its source rpm is libsndfile)
    f = got[("libsndfile-devel", "ALSA-2020:1636")]
    assert f.fixed_version == "1.0.28-10.el8"
    assert {d.identity for d in f.details} == {"binary"}
    # skopeo's fix is an AlmaLinux 10 record only
    assert set(got) == {("libsndfile-devel", "ALSA-2020:1636")}
