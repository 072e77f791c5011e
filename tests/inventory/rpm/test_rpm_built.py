"""Real multi-package rpm databases built with Debian's rpm tools (see _rpmdb_build.py), read by hullscan
and compared exactly with what rpm itself lists from the same database (`rpm -qa --dbpath`)."""

from __future__ import annotations

import struct
import sys
from collections import Counter
from pathlib import Path

import pytest
from packageurl import PackageURL

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.inventory.rpm.analyzer import RpmAnalyzer, read_database
from hullscan.inventory.rpm.bdb import read_hash_db
from testsupport import require_tool

sys.path.insert(0, str(Path(__file__).parent))
import _rpmdb_build  # noqa: E402

DBS = {
    "sqlite": ("rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"),
    **dict.fromkeys(_rpmdb_build.BDB_VARIANTS, ("Packages", "/var/lib/rpm/Packages")),
}


@pytest.fixture(scope="module")
def built() -> Path:
    for tool in ("rpm", "rpmbuild", "db5.3_load"):
        require_tool(tool)
    return _rpmdb_build.built_db()


def _lines(path: Path) -> list[str]:
    return sorted(line for line in path.read_text().splitlines() if line)


@pytest.mark.parametrize("kind", list(DBS))
def test_packages_match_rpm_qa(built: Path, kind: str) -> None:
    fname, image_path = DBS[kind]
    warnings: list[str] = []
    headers = read_database(image_path, (built / kind / fname).read_bytes(), warnings.append)
    assert warnings == [] and headers is not None
    got = sorted("\t".join((h.name, "" if h.epoch is None else str(h.epoch), h.version, h.release, h.arch,
                            h.sourcerpm, h.vendor, h.modularitylabel, h.license)) for h in headers)
    expected = _lines(built / kind / "qa.txt")
    copies = _rpmdb_build.BDB_VARIANTS[kind][3] if kind in _rpmdb_build.BDB_VARIANTS else 1
    assert len(expected) == 13 * copies
    assert got == expected
    got_files = Counter(f"{h.name}\t{f}" for h in headers for f in h.files)
    expected_files = Counter(x for x in _lines(built / kind / "files.txt") if not x.endswith("\t(none)"))
    assert sum(expected_files.values()) > 400 * copies
    assert got_files == expected_files


def test_bdb_byte_orders_and_overflow_chains(built: Path) -> None:
    le = read_hash_db((built / "bdb-le" / "Packages").read_bytes())
    be = read_hash_db((built / "bdb-be" / "Packages").read_bytes())
    assert (le.big_endian, be.big_endian) == (False, True)
    assert le.problems == [] and be.problems == []
    # Same records (key 0 is rpm's counter, stored in the file's byte order).
    assert sorted(v for v in le.values if v[0]) == sorted(v for v in be.values if v[0])
    # The bigfiles header is several pages long: read back through a multi-page overflow chain.
    assert max(len(v) for _, v in le.values) > 3 * 4096


def test_assembled_names_and_purls(built: Path) -> None:
    fedora = b'NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\n' \
             b'PRETTY_NAME="Fedora Linux 40 (Container Image)"\n'
    inv = analyze_files([OSReleaseAnalyzer(), RpmAnalyzer()], [{
        "/etc/os-release": fedora,
        "/var/lib/rpm/Packages": (built / "bdb-be" / "Packages").read_bytes(),
    }])
    pkgs = {p.name: p for p in inv.packages}
    assert len(pkgs) == 13
    for sub in ("toolkit-libs", "toolkit-devel", "python3-toolkit"):
        assert (pkgs[sub].source_name, pkgs[sub].source_version) == ("toolkit", "4.2-3.fc40")
    assert pkgs["beta"].version == "2:3.4.5-7.el9"
    assert pkgs["zeta"].version == "0:0.1-0"
    assert pkgs["beta"].purl == "pkg:rpm/fedora/beta@3.4.5-7.el9?arch=x86_64&distro=fedora-40&epoch=2"
    assert PackageURL.from_string(pkgs["delta"].purl).version == "2.0^git20240101.abc123-1"
    assert PackageURL.from_string(pkgs["gamma"].purl).version == "1.0~rc1-1"
    assert pkgs["modular"].extra["modularity_label"] == "perl:5.30:8090020231120112233:abcdef12"
    assert pkgs["python3-toolkit"].licenses == ("PSF-2.0",)
    assert pkgs["eta"].files == ("/etc/eta-link.conf", "/etc/eta.conf", "/var/log/eta.log")
    assert pkgs["meta"].files == ()


def test_bdb_page_layouts_exercised(built: Path) -> None:
    """The variants really take the paths they are meant to: chained bucket pages (512-byte pages, two
    buckets for 260 records) and many buckets (64 KiB pages, a bucket per record)."""
    small = (built / "bdb-le-512" / "Packages").read_bytes()
    chained = [pg for pg in range(1, len(small) // 512)
               if small[pg * 512 + 25] == 13 and struct.unpack_from("<I", small, pg * 512 + 16)[0]]
    assert chained
    big = (built / "bdb-be-64k" / "Packages").read_bytes()
    max_bucket, = struct.unpack_from(">I", big, 72)
    assert max_bucket >= 7


def test_python_dist_owned_by_rpm(built: Path) -> None:
    """python3-toolkit ships a dist-info: the installed-Python package is marked as owned by the rpm."""
    from hullscan.inventory.python_dist import PythonDistAnalyzer

    metadata = b"Metadata-Version: 2.1\nName: toolkit\nVersion: 4.2\n"  # as the spec writes it
    inv = analyze_files([OSReleaseAnalyzer(), RpmAnalyzer(), PythonDistAnalyzer()], [{
        "/var/lib/rpm/rpmdb.sqlite": (built / "sqlite" / "rpmdb.sqlite").read_bytes(),
        "/usr/lib/python3/site-packages/toolkit-4.2.dist-info/METADATA": metadata,
    }])
    [py] = [p for p in inv.packages if p.type == "pypi"]
    assert py.owned_by == "python3-toolkit"
