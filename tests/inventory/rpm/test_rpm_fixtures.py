"""The rpmdb fixtures of tests/inventory/testdata/rpm (SQLite, NDB, BerkeleyDB, Mariner manifest) against
lists made by other tools.

Expectations: `*.expected.tsv` (rpm 4.18 `-qa`, see each file's header) and the upstream `packages.csv`
(`rpm -qa` on the original distro, go-rpmdb's test data; for the shrunk Amazon Linux database, its rows
for the packages kept) and `curl.expected.json`; PROVENANCE.md there says how each was made.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hullscan.inventory.rpm.analyzer import read_database
from hullscan.inventory.rpm.header import RpmHeader

sys.path.insert(0, str(Path(__file__).parent))
from _rpmdb_build import TESTDATA, fixture_bytes  # noqa: E402

FIELDS = ("name", "epoch", "version", "release", "arch", "sourcerpm", "vendor", "modularitylabel")


def _expected_tsv(path: Path) -> list[tuple[str, ...]]:
    rows = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#") or line.startswith("name\t"):
            continue
        row = tuple(line.split("\t"))
        assert len(row) == len(FIELDS), line
        if row[0] != "gpg-pubkey":  # rpm lists imported keys; hullscan does not count them as packages
            rows.append(row)
    return sorted(rows)


def _row(h: RpmHeader) -> tuple[str, ...]:
    return (h.name, "" if h.epoch is None else str(h.epoch), h.version, h.release, h.arch, h.sourcerpm,
            h.vendor, h.modularitylabel)


def _read(rel: str, image_path: str) -> list[RpmHeader]:
    warnings: list[str] = []
    headers = read_database(image_path, fixture_bytes(rel), warnings.append)
    assert warnings == []
    assert headers is not None
    return [h for h in headers if h.name != "gpg-pubkey"]


# database → packages rpm -qa lists in it (gpg-pubkey left out), counted when the fixture was shrunk
SQLITE = {"amazonlinux-2023__rpmdb.sqlite": 21, "cbl-mariner-2.0__rpmdb.sqlite": 24}


@pytest.mark.parametrize("name", sorted(SQLITE))
def test_sqlite_matches_rpm_qa(name: str) -> None:
    got = sorted(_row(h) for h in _read(f"sqlite/{name}", "/var/lib/rpm/rpmdb.sqlite"))
    expected = _expected_tsv(TESTDATA / "sqlite" / f"{name}.expected.tsv")
    assert len(expected) == SQLITE[name]
    assert got == expected


def _csv(path: Path) -> list[tuple[str, ...]]:
    """go-rpmdb's packages.csv: %{EPOCH}¶%{NAME}¶%{VERSION}¶%{RELEASE}¶%{ARCH}¶%{SOURCERPM}¶%{SIZE}¶
    %{LICENSE}¶%{VENDOR}¶%{SUMMARY}¶%{SIGMD5} → (name, epoch, version, release, arch, srpm, license, vendor)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split("¶")
        if f[1] == "gpg-pubkey":
            continue
        epoch = "" if f[0] == "(none)" else f[0]
        rows.append((f[1], epoch, f[2], f[3], f[4], f[5], f[7], f[8]))
    return sorted(rows)


@pytest.mark.parametrize(("sub", "db", "csv", "image_path"), [
    ("sqlite", "amazonlinux-2023__rpmdb.sqlite", "amazonlinux-2023__packages.csv", "/var/lib/rpm/rpmdb.sqlite"),
    ("ndb", "sles-15.3-bci__Packages.db", "sles-15.3-bci__packages.csv", "/var/lib/rpm/Packages.db"),
])
def test_upstream_packages_csv(sub: str, db: str, csv: str, image_path: str) -> None:
    got = sorted((h.name, "" if h.epoch is None else str(h.epoch), h.version, h.release, h.arch, h.sourcerpm,
                  h.license, h.vendor) for h in _read(f"{sub}/{db}", image_path))
    expected = _csv(TESTDATA / sub / csv)
    assert len(expected) == {"sqlite": 21, "ndb": 36}[sub]
    assert got == expected


def test_mariner_curl_header_and_files() -> None:
    exp = json.loads((TESTDATA / "sqlite" / "cbl-mariner-2.0__curl.expected.json").read_text())
    curl = [h for h in _read("sqlite/cbl-mariner-2.0__rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
            if h.name == "curl"]
    assert len(curl) == 1
    h = curl[0]
    assert (h.epoch, h.version, h.release, h.arch, h.sourcerpm, h.license, h.vendor) == (
        exp["Epoch"], exp["Version"], exp["Release"], exp["Arch"], exp["SourceRpm"], exp["License"], exp["Vendor"])
    files = [exp["DirNames"][i] + b for b, i in zip(exp["BaseNames"], exp["DirIndexes"], strict=False)]
    assert list(h.files) == files


@pytest.mark.parametrize("name", [
    "centos-8-osrelease__grype-match-coverage__Packages",
    "centos-8-rpm__dive-only__syft__Packages",
    "libuuid__Packages",
    "scalibr-epoch__Packages",
    "sles-osrelease__grype-match-coverage__Packages",
])
def test_bdb_one_package(name: str) -> None:
    got = sorted(_row(h) for h in _read(f"bdb/{name}", "/var/lib/rpm/Packages"))
    expected = _expected_tsv(TESTDATA / "bdb" / f"{name}.expected.tsv")
    assert len(expected) == 1
    assert got == expected


def test_mariner_distroless_manifest() -> None:
    # Hand-read from the 5-line file: NAME, VERSION-RELEASE, INSTALLTIME, BUILDTIME, VENDOR, EPOCH, SIZE,
    # ARCH, EPOCHNUM, SOURCERPM.
    got = sorted(_row(h) for h in _read("cbl-mariner-2.0-distroless__container-manifest-2",
                                        "/var/lib/rpmmanifest/container-manifest-2"))
    vendor = "Microsoft Corporation"
    assert got == [
        ("filesystem", "", "1.1", "9.cm2", "x86_64", "filesystem-1.1-9.cm2.src.rpm", vendor, ""),
        ("glibc", "", "2.35", "2.cm2", "x86_64", "glibc-2.35-2.cm2.src.rpm", vendor, ""),
        ("mariner-release", "", "2.0", "12.cm2", "noarch", "mariner-release-2.0-12.cm2.src.rpm", vendor, ""),
        ("openssl-libs", "", "1.1.1k", "15.cm2", "x86_64", "openssl-1.1.1k-15.cm2.src.rpm", vendor, ""),
        ("vim", "2", "9.0", "1.cm2", "x86_64", "vim-9.0-1.cm2.src.rpm", vendor, ""),
    ]
