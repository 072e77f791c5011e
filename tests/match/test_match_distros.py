"""Distro matching on real data: expected findings come from the data pack's independent checks
(DATA.md "Useful pairings") or from an oracle computed here (dpkg's own comparison via apt_pkg)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.match.loop import match_inventory
from hullscan.model.inventory import OSInfo
from hullscan.vulndb import importer
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB

sys.path.insert(0, str(Path(__file__).parent))
from trivy_packages import inventory_from_golden  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))
from testsupport import REPO, missing, read_tree  # noqa: E402

TESTDATA = Path(__file__).resolve().parent / "testdata"
PACKAGE_GOLDENS = TESTDATA / "goldens/trivy-image-packages"
VULNDATA = REPO / "tests/vulndb/testdata"  # the real feed files (tests/vulndb/testdata/PROVENANCE.md)
APK_34 = REPO / "tests/inventory/testdata/apk/alpine-3.4__trivy"
IMAGES = REPO / "tests/image/testdata"


def _memory_db(*paths: Path) -> MemoryReader:
    return MemoryReader(importer.read(list(paths)).batches.values())


@pytest.fixture(scope="module")
def alpine_db_file(tmp_path_factory) -> Path:
    """The Alpine secdb files in a SQLite DB: these tests read through the store a scan reads."""
    secdb = VULNDATA / "alpine-secdb"
    path = tmp_path_factory.mktemp("alpine") / "vuln.db"
    with VulnDB.open(path, create=True) as db:
        importer.write(db, importer.read([secdb / "v3.4", secdb / "v3.10", secdb / "v3.11"]))
    return path


@pytest.fixture
def alpine_db(alpine_db_file):
    with open_reader(alpine_db_file) as db:
        yield db


def pairs(findings):
    return {(f.package.name, f.id) for f in findings}


def test_alpine_310_golden_gives_the_six_openssl_findings(alpine_db):
    os_info = OSInfo("alpine", "Alpine Linux v3.10", "3.10.2", "v3.10", ecosystem="Alpine:v3.10")
    inv = inventory_from_golden(PACKAGE_GOLDENS / "alpine-310.json.golden", os_info)
    found = match_inventory(inv, alpine_db).findings
    expected = {(p, c) for p in ("libcrypto1.1", "libssl1.1") for c in ("CVE-2019-1547", "CVE-2019-1549", "CVE-2019-1563")}
    assert pairs(found) == expected
    for f in found:
        assert f.status == "fixed" and f.fixed_version == "1.1.1d-r0"
        assert f.package.version == "1.1.1c-r0"
        # the secdb row is filed under the origin `openssl`, at the package's own apk version
        (d,) = f.details
        assert (d.matcher, d.feed, d.advisory_id, d.ecosystem, d.package, d.identity, d.version, d.scheme) == (
            "apk", "alpine", f.id, "Alpine:v3.10", "openssl", "source", "1.1.1c-r0", "apk")
        assert (d.constraint, d.status) == (">=0, <1.1.1d-r0", "fixed")  # secdb: fixed in 1.1.1d-r0


def test_alpine_34_database_gives_57_findings_and_skips_the_entry_without_version(alpine_db):
    tree = read_tree(APK_34)
    tree["/etc/alpine-release"] = b"3.4.6\n"
    inv = analyze_files(all_analyzers(), [tree])
    assert inv.os is not None and inv.os.ecosystem == "Alpine:v3.4"
    assert any("invalidPackageWithoutAVersion" in w.message for w in inv.warnings)
    found = match_inventory(inv, alpine_db).findings
    assert len(pairs(found)) == 57
    names = {p for p, _ in pairs(found)}
    assert names == {"busybox", "libcrypto1.0", "libssl1.0", "musl", "musl-utils", "zlib"}
    assert ("zlib", "CVE-2016-9840") in pairs(found)
    # musl 1.1.14-r10 is below the 1.1.14-r13 fix of CVE-2016-8859 (apk -rN ordering)
    musl = [f for f in found if f.package.name == "musl" and f.id == "CVE-2016-8859"]
    assert musl and musl[0].fixed_version == "1.1.14-r13"


@pytest.mark.parametrize("image", ["alpine-3.10", "alpine-3.11"])
def test_real_alpine_images_end_to_end_have_no_findings(alpine_db_file, image, tmp_path):
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.wiring import build_service

    report = build_service(ScanOptions(scanners=frozenset({"vuln"}), db=str(alpine_db_file), cache_dir=tmp_path)).scan(
        f"docker-archive:{IMAGES}/{image}.docker-save.tar.gz")
    assert report.os is not None
    assert report.os.ecosystem == ("Alpine:v3.10" if image == "alpine-3.10" else "Alpine:v3.11")
    musl = [p for p in report.packages if p.name == "musl"]
    assert musl and musl[0].layer is not None and musl[0].layer.index == 0
    assert len(report.packages) > 10
    assert report.vulnerabilities == ()


APT_ORACLE = r'''
import json, re, sys
import apt_pkg
apt_pkg.init()
pkgs = json.load(open(sys.argv[1]))
src = {}
for p in pkgs:
    v = p.get("SrcVersion", p["Version"])
    if p.get("SrcEpoch"): v = f"{p['SrcEpoch']}:{v}"
    src[p.get("SrcName", p["Name"])] = v
hits = set()
for lst in sys.argv[2:]:
    adv = None
    for line in open(lst, encoding="utf-8", errors="replace"):
        m = re.match(r"^\[[^\]]+\]\s+((?:DSA|DLA)-\d+(?:-\d+)?)", line)
        if m:
            adv = m.group(1); continue
        m = re.match(r"^\s+\[buster\]\s+-\s+(\S+)\s+(\S+)", line)
        if m and adv and m.group(1) in src and not m.group(2).startswith("<"):
            if apt_pkg.version_compare(src[m.group(1)], m.group(2)) < 0:
                hits.add((adv, m.group(1)))
print(json.dumps(sorted(hits)))
'''


def test_debian_buster_golden_against_dsa_dla_lists_agrees_with_apt_pkg(tmp_path):
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-c", "import apt_pkg"], capture_output=True)
    if probe.returncode != 0:
        missing("python3-apt (apt_pkg for /usr/bin/python3) is the oracle; scripts/test installs it")
    golden = PACKAGE_GOLDENS / "debian-buster.json.golden"
    # the whole DSA and DLA lists, stored gzip-compressed: the oracle and the importer read the same text
    lists = []
    for name in ("DSA", "DLA"):
        (tmp_path / name).mkdir()
        lists.append(tmp_path / name / "list")
        lists[-1].write_bytes(gzip.decompress((VULNDATA / f"debian-tracker/data/{name}/list.gz").read_bytes()))
    oracle = subprocess.run([system_python, "-c", APT_ORACLE, str(golden), *map(str, lists)], capture_output=True, text=True, check=True)
    expected = {tuple(x) for x in json.loads(oracle.stdout)}
    expected_ids = {a for a, _ in expected}
    assert len(expected_ids) == 28 and len({s for _, s in expected}) == 19  # DATA.md pairing 4

    db = _memory_db(*lists)
    os_info = OSInfo("debian", "Debian GNU/Linux 10", "10.1", "10", "buster", ecosystem="Debian:10")
    inv = inventory_from_golden(golden, os_info)
    found = match_inventory(inv, db).findings
    got = {(a, f.package.source_name) for f in found for a in f.advisory_ids if re.match(r"^D[SL]A-", a)}
    assert got == expected
    # one finding per vulnerability per package: no (package, id) twice
    assert len(pairs(found)) == len(found)
    apt = [f for f in found if f.package.name == "apt" and "DSA-4685-1" in f.advisory_ids]
    assert apt and apt[0].fixed_version == "1.8.2.1"
    # a DSA is written for the source package and its source version: `libapt-pkg5.0` matches as `apt`
    libapt = [f for f in found if f.package.name == "libapt-pkg5.0" and "DSA-4685-1" in f.advisory_ids]
    (d,) = [d for d in libapt[0].details if d.advisory_id == "DSA-4685-1"]
    assert (d.matcher, d.ecosystem, d.package, d.identity, d.version, d.scheme, d.status) == (
        "dpkg", "Debian:10", "apt", "source", "1.8.2", "deb", "fixed")
    assert d.constraint == ">=0, <1.8.2.1"
    # every record that matched says how, with the source version it compared
    for f in found:
        assert {d.advisory_id for d in f.details} == set(f.advisory_ids)
        assert all(d.version == (f.package.source_version or f.package.version) for d in f.details)
