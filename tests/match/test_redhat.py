"""Red Hat: OSV `Red Hat` ranges and CSAF VEX statuses scoped by the image's product streams.

The images are real rpm databases (rpmbuild-made packages installed with `rpm --dbpath`), read by the
analyzers with an os-release and, in one variant, a content manifest; the DB is `db import` of the real
records in testdata/redhat (PROVENANCE.md). Expected findings are derived by hand in the comments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.match.loop import match_inventory
from hullscan.match.rpm import RpmMatcher, covers, redhat_streams
from hullscan.record import replace
from hullscan.vulndb import importer
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testsupport import require_tool  # noqa: E402

DATA = Path(__file__).parent / "testdata" / "redhat"

SPEC = """Name: {source}
Version: {version}
Release: {release}
{epoch}
Summary: test
License: MIT
%global debug_package %{{nil}}
%description
test
%package {sub}
Summary: test
%description {sub}
test
%install
mkdir -p %{{buildroot}}/usr/share/{source}
echo x > %{{buildroot}}/usr/share/{source}/x
%files {sub}
/usr/share/{source}/x
"""
RHEL8 = [  # (source, sub-package, epoch, version, release): the binary is `source-sub`
    ("openssl", "libs", 1, "1.1.1k", "14.el8_6"),
    ("vim", "minimal", 2, "8.0.1763", "19.el8_6.4"),
    ("kernel", "core", None, "4.18.0", "477.10.1.el8_8"),
]
RHEL9 = [("curl", "minimal", None, "7.76.1", "23.el9_2.2")]


def _rpmdb(tmp: Path, pkgs: list[tuple[str, str, int | None, str, str]]) -> bytes:
    require_tool("rpmbuild")
    top = tmp / "top"
    (top / "SPECS").mkdir(parents=True)
    for source, sub, epoch, version, release in pkgs:
        spec = top / "SPECS" / f"{source}.spec"
        spec.write_text(SPEC.format(source=source, sub=sub, version=version, release=release,
                                    epoch=f"Epoch: {epoch}" if epoch is not None else ""))
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)], check=True,
                       capture_output=True)
    db = tmp / "rpmdb"
    subprocess.run(["rpm", "--dbpath", str(db), "--initdb"], check=True)
    subprocess.run(["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", "--noscripts",
                    *map(str, (top / "RPMS").rglob("*.rpm"))], check=True, capture_output=True)
    return (db / "rpmdb.sqlite").read_bytes()


def _os_release(major: str, version: str) -> bytes:
    return (f'NAME="Red Hat Enterprise Linux"\nVERSION="{version}"\nID="rhel"\nVERSION_ID="{version}"\n'
            f'CPE_NAME="cpe:/o:redhat:enterprise_linux:{major}::baseos"\n').encode()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "db.sqlite"
    with VulnDB.open(path, create=True) as w:
        result = importer.read([DATA / "osv", DATA / "csaf", DATA / "repository-to-cpe.json"])
        importer.write(w, result)
    with open_reader(str(path)) as r:
        yield r


def _found(inv, db) -> set[tuple[str, str, str]]:
    return {(f.package.name, f.id, f.status) for f in match_inventory(inv, db).findings}


def test_rhel8_image_matches_its_main_streams_only(db, tmp_path):
    inv = analyze_files(all_analyzers(), [{"/etc/os-release": _os_release("8", "8.8"),
                                          "/var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, RHEL8)}])
    assert inv.os is not None and inv.os.cpe == "cpe:/o:redhat:enterprise_linux:8::baseos"
    assert {p.name: p.version for p in inv.packages} == {
        "openssl-libs": "1:1.1.1k-14.el8_6", "vim-minimal": "2:8.0.1763-19.el8_6.4", "kernel-core": "4.18.0-477.10.1.el8_8"}
    # openssl-libs 1:1.1.1k-14.el8_6 (source openssl) against Red Hat:enterprise_linux:8::baseos:
    #   RHSA-2022:5818 fixed 1:1.1.1k-7.el8_6, RHSA-2023:1405 -9.el8_7, RHSA-2023:7877 -12.el8_9,
    #   RHSA-2024:7848 -14.el8_6: release 14.el8_6 >= each → not affected.
    #   RHSA-2026:0337 -14.el8_10: 14 = 14, el8 = el8, 6 < 10 → affected: CVE-2025-9230.
    #   RHSA-2026:3042 -15.el8_6 → CVE-2025-69419; RHSA-2026:26275 -16.el8_6 → CVE-2024-4741, CVE-2026-45447;
    #   RHSA-2026:38503 -17.el8_6 → CVE-2026-28390 (all with epoch 1 on both sides: without the epoch the
    #   installed 1.1.1k would sit below every 1:… fix and all nine would match).
    #   RHBA-2025:6314 (CVE-2024-12797) is fixed in Red Hat:enterprise_linux:10.0 only: another stream, no match.
    # vim-minimal (source vim): CSAF CVE-2023-0049 red_hat_enterprise_linux_8:vim known_affected with
    #   remediation no_fix_planned "Will not fix" → will_not_fix (matched by its source name);
    #   CVE-2023-0051 red_hat_enterprise_linux_8:vim known_not_affected → nothing.
    # kernel-core (source kernel): CVE-2023-0045 red_hat_enterprise_linux_8:kernel "Will not fix" → will_not_fix
    #   (kernel-rt's "Affected" concerns another package).
    assert _found(inv, db) == {
        ("openssl-libs", "CVE-2025-9230", "fixed"), ("openssl-libs", "CVE-2025-69419", "fixed"),
        ("openssl-libs", "CVE-2024-4741", "fixed"), ("openssl-libs", "CVE-2026-45447", "fixed"),
        ("openssl-libs", "CVE-2026-28390", "fixed"),
        ("vim-minimal", "CVE-2023-0049", "will_not_fix"), ("kernel-core", "CVE-2023-0045", "will_not_fix"),
    }


def _curl_image(tmp_path: Path, manifest: bool) -> dict[str, bytes]:
    files = {"/etc/os-release": _os_release("9", "9.2"), "/var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, RHEL9)}
    if manifest:  # an EUS-based image (the guidelines' ose-console example)
        files["/root/buildinfo/content_manifests/ose-console.json"] = json.dumps({
            "metadata": {"icm_version": 1, "image_layer_index": 0},
            "content_sets": ["rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2", "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_2"],
        }).encode()
    return files


def test_content_sets_scope_a_rhel9_image_to_its_eus_stream_with_the_main_stream_as_fallback(db, tmp_path):
    # CVE-2023-38545 (curl) is fixed in the main stream (AppStream-9.2.0.Z.MAIN.EUS and AppStream-9.3.0.Z.MAIN:
    # cpe enterprise_linux:9::appstream, earliest curl-0:7.76.1-23.el9_2.4) and in EUS 9.0 (rhel_eus:9.0,
    # 7.76.1-14.el9_0.9). curl-minimal 7.76.1-23.el9_2.2 (source curl):
    # - os-release only → main stream of 9 → 23.el9_2.2 < 23.el9_2.4: fixed finding.
    main = analyze_files(all_analyzers(), [_curl_image(tmp_path / "a", manifest=False)])
    assert _found(main, db) == {("curl-minimal", "CVE-2023-38545", "fixed")}
    # - content sets …eus-rpms__9_DOT_2 → repository-to-cpe → rhel_eus:9.2::appstream/baseos (+ channel-less
    #   rhel_eus:9.2): the CVE has no row in any of them (its EUS rows are 9.0's), so by Red Hat's xUS rule the
    #   main stream of major 9 answers: 23.el9_2.2 < 23.el9_2.4 → the same fixed finding, the main fix shown.
    #   The EUS 9.0 fix (14.el9_0.9) is another xUS branch: never read.
    eus = analyze_files(all_analyzers(), [_curl_image(tmp_path / "b", manifest=True)])
    assert eus.os is not None and eus.os.content_sets == (
        "rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2", "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_2")
    found = match_inventory(eus, db).findings
    assert [(f.package.name, f.id, f.status, f.fixed_version) for f in found] == [
        ("curl-minimal", "CVE-2023-38545", "fixed", "7.76.1-23.el9_2.4")]
    assert {d.ecosystem for d in found[0].details} == {"Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos"}


class _Bound(RpmMatcher):
    """The rpm matcher bound to streams given as CPEs of the CSAF document (no content-set label needed)."""

    def for_image(self, inventory, db):
        return self


def test_an_xus_streams_own_row_shuts_out_the_main_stream(db, tmp_path):
    # curl-minimal 7.76.1-14.el9_0.9 on EUS 9.0 (cpe:/a:redhat:rhel_eus:9.0::appstream, the CSAF's product
    # AppStream-9.0.0.Z.EUS): its own row says fixed in 0:7.76.1-14.el9_0.9 = installed → not affected. The main
    # stream's row (fixed 23.el9_2.4 > 14.el9_0.9) would match, but the xUS stream holds a row for the CVE, so
    # the main stream is not read for it → no finding.
    files = {"/etc/os-release": _os_release("9", "9.0"),
             "/var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, [("curl", "minimal", None, "7.76.1", "14.el9_0.9")])}
    inv = analyze_files(all_analyzers(), [files])
    os = replace(inv.os, content_sets=("eus-9.0-appstream",))
    streams, fallback = redhat_streams(os, {"eus-9.0-appstream": ["cpe:/a:redhat:rhel_eus:9.0::appstream"]})
    assert "Red Hat:enterprise_linux:9::appstream" in fallback and "Red Hat:rhel_eus:9.0::appstream" not in fallback
    assert match_inventory(inv, db, matchers=(_Bound(streams, fallback),)).findings == []
    # the same package on the main stream (os-release only): 14.el9_0.9 < 23.el9_2.4 → fixed finding
    assert _found(inv, db) == {("curl-minimal", "CVE-2023-38545", "fixed")}


# A record of a second feed contradicting Red Hat's VEX: CVE-2023-38545 said fixed for curl in RHEL 8's
# BaseOS (7.61.1-34.el8, the fix of an unrelated RHEL 8 curl erratum). Red Hat's CSAF for the CVE says
# red_hat_enterprise_linux_8 (cpe:/o:redhat:enterprise_linux:8) curl and libcurl-minimal known_not_affected.
# No real feed publishes this conflict: the record is built here, in OSV's shape, to exercise the rule.
_CONFLICT = {"schema_version": "1.6.0", "id": "TEST-2023-38545", "aliases": ["CVE-2023-38545"],
             "modified": "2023-10-11T00:00:00Z",
             "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:8::baseos", "name": "curl"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:7.61.1-34.el8"}]}]}]}


def test_vex_not_affected_drops_another_feeds_match_of_the_same_cve_and_stream(tmp_path):
    (tmp_path / "conflict.json").write_text(json.dumps(_CONFLICT))
    files = {"/etc/os-release": _os_release("8", "8.8"),
             "/var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, [("curl", "minimal", None, "7.61.1", "30.el8")])}
    inv = analyze_files(all_analyzers(), [files])

    def found(*paths: Path) -> set[tuple[str, str, str]]:
        path = tmp_path / f"db{len(paths)}.sqlite"
        with VulnDB.open(path, create=True) as w:
            importer.write(w, importer.read(list(paths)))
        with open_reader(str(path)) as r:
            return _found(inv, r)

    # alone, the second feed's row matches: curl-minimal (source curl) 7.61.1-30.el8 < 7.61.1-34.el8
    assert found(tmp_path / "conflict.json") == {("curl-minimal", "CVE-2023-38545", "fixed")}
    # with Red Hat's VEX: its not_affected row for curl under enterprise_linux:8 covers the stream
    # enterprise_linux:8::baseos the match came from, for the same CVE and package → no finding
    assert found(tmp_path / "conflict.json", DATA / "csaf" / "cve-2023-38545.json.gz") == set()


def test_statement_streams_cover_their_channels_and_minors():
    assert covers("Red Hat:enterprise_linux:8", "Red Hat:enterprise_linux:8::baseos")
    assert covers("Red Hat:enterprise_linux:10", "Red Hat:enterprise_linux:10.0")
    assert covers("Red Hat:rhel_eus:9.2", "Red Hat:rhel_eus:9.2::appstream")
    assert not covers("Red Hat:enterprise_linux:1", "Red Hat:enterprise_linux:10.0")
    assert not covers("Red Hat:enterprise_linux:8::appstream", "Red Hat:enterprise_linux:8::baseos")
    assert not covers("Red Hat:enterprise_linux:9", "Red Hat:rhel_eus:9.2::baseos")
