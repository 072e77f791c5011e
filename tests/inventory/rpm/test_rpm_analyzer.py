"""RpmAnalyzer end to end over in-memory layers: purls, versions, source packages, ecosystems, layers.

Expected purls follow DESIGN.md "purls" (namespace = distro id, `distro=<id>-<release>`), written by hand
from the fixtures' rpm -qa lists (see test_rpm_fixtures.py) and the os-release files given here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.inventory.registry import all_analyzers
from hullscan.inventory.rpm.analyzer import RpmAnalyzer

sys.path.insert(0, str(Path(__file__).parent))
from _rpmdb_build import fixture_bytes  # noqa: E402

AL2023 = b'''NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023"
'''
SLES153 = b'''NAME="SLES"
VERSION="15-SP3"
VERSION_ID="15.3"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP3"
ID="sles"
ID_LIKE="suse"
'''


def _analyzers():
    return [OSReleaseAnalyzer(), RpmAnalyzer()]


def test_registered() -> None:
    assert any(isinstance(a, RpmAnalyzer) for a in all_analyzers())


def test_amazon_linux_2023_sqlite() -> None:
    db = fixture_bytes("sqlite/amazonlinux-2023__rpmdb.sqlite")
    inv = analyze_files(_analyzers(), [{"/etc/os-release": AL2023, "/var/lib/rpm/rpmdb.sqlite": db}])
    assert inv.warnings == []
    pkgs = {p.name: p for p in inv.packages}
    assert len(inv.packages) == 21  # 22 rows of rpm -qa (the shrunk fixture) minus gpg-pubkey
    assert "gpg-pubkey" not in pkgs
    gmp = pkgs["gmp"]
    assert gmp.type == "rpm" and gmp.analyzer == "rpm"
    assert gmp.version == "1:6.2.1-2.amzn2023.0.2"
    assert gmp.purl == "pkg:rpm/amazon/gmp@6.2.1-2.amzn2023.0.2?arch=x86_64&distro=amazon-2023&epoch=1"
    assert (gmp.source_name, gmp.source_version) == ("gmp", "1:6.2.1-2.amzn2023.0.2")
    assert gmp.ecosystem == "Amazon Linux:2023"
    assert gmp.paths == ("/var/lib/rpm/rpmdb.sqlite",)
    assert gmp.extra["vendor"] == "Amazon Linux" and gmp.extra["epoch"] == 1
    assert gmp.layer is not None and gmp.layer.index == 0
    repo = pkgs["amazon-linux-repo-cdn"]  # a sub-package whose source rpm has another name
    assert (repo.source_name, repo.source_version) == ("system-release", "2023.1.20230825-0.amzn2023")
    assert repo.purl == ("pkg:rpm/amazon/amazon-linux-repo-cdn@2023.1.20230825-0.amzn2023"
                         "?arch=noarch&distro=amazon-2023")
    glibc = pkgs["glibc-minimal-langpack"]
    assert glibc.extra["declared_licenses"][0].startswith("LGPLv2+ and LGPLv2+ with exceptions")
    assert glibc.licenses[0].startswith("LGPL-2.0-or-later AND LicenseRef-LGPLv2-plus-with-exceptions AND ")
    # rpm -qa --qf '[%{FILENAMES}\n]' over the 21 packages prints 448 lines (PROVENANCE.md)
    assert sum(len(p.files) for p in inv.packages) == 448
    assert "/usr/lib64/libgmp.so.10" in gmp.files


def test_sles_ndb() -> None:
    db = fixture_bytes("ndb/sles-15.3-bci__Packages.db")
    inv = analyze_files(_analyzers(), [{"/etc/os-release": SLES153, "/usr/lib/sysimage/rpm/Packages.db": db}])
    pkgs = {p.name: p for p in inv.packages}
    assert len(pkgs) == 36
    glibc = pkgs["glibc"]
    assert glibc.purl == "pkg:rpm/suse/glibc@2.31-150300.41.1?arch=x86_64&distro=sles-15.3"
    assert glibc.ecosystem == "SUSE:Linux Enterprise Server 15 SP3"
    assert (pkgs["libpcre1"].source_name, pkgs["libpcre1"].source_version) == ("pcre", "8.45-150000.20.13.1")


def test_mariner_distroless_without_os_release() -> None:
    manifest = fixture_bytes("cbl-mariner-2.0-distroless__container-manifest-2")
    inv = analyze_files(_analyzers(), [{"/var/lib/rpmmanifest/container-manifest-2": manifest}])
    pkgs = {p.name: p for p in inv.packages}
    assert pkgs["vim"].purl == "pkg:rpm/mariner/vim@9.0-1.cm2?arch=x86_64&distro=mariner-2.0&epoch=2"
    assert pkgs["vim"].version == "2:9.0-1.cm2"
    assert pkgs["vim"].ecosystem == "Azure Linux:2.0"  # CBL-Mariner's advisories are Azure Linux's
    assert pkgs["openssl-libs"].source_name == "openssl"


def test_unknown_os_has_no_namespace() -> None:
    db = fixture_bytes("bdb/scalibr-epoch__Packages")
    inv = analyze_files(_analyzers(), [{"/var/lib/rpm/Packages": db}])
    [hello] = inv.packages
    assert hello.purl == "pkg:rpm/hello@0.0.1-rls?arch=x86_64&epoch=1"
    assert hello.ecosystem == ""


def test_layers_replace_and_prefer_sqlite() -> None:
    """Layer 0 holds a BerkeleyDB (CentOS 8 + dive); layer 1 adds an SQLite DB (rpm --rebuilddb to
    the new backend): the SQLite one is live, dive is gone into history."""
    bdb_db = fixture_bytes("bdb/centos-8-rpm__dive-only__syft__Packages")
    sql = fixture_bytes("sqlite/cbl-mariner-2.0__rpmdb.sqlite")
    inv = analyze_files(_analyzers(), [
        {"/var/lib/rpm/Packages": bdb_db},
        {"/var/lib/rpm/rpmdb.sqlite": sql},
    ])
    names = {p.name for p in inv.packages}
    assert "dive" not in names and "curl" in names
    assert all(p.layer is not None and p.layer.index == 1 for p in inv.packages)
    assert [h.package.name for h in inv.history] == ["dive"]


def test_whiteout_removes_database() -> None:
    db = fixture_bytes("bdb/libuuid__Packages")
    inv = analyze_files(_analyzers(), [{"/var/lib/rpm/Packages": db}, {"/var/lib/rpm/Packages": None}])
    assert inv.packages == []
    assert [h.package.name for h in inv.history] == ["libuuid"]


def test_rpmdb_on_a_non_rpm_distro_gets_no_ecosystem() -> None:
    debian = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
    db = fixture_bytes("bdb/scalibr-epoch__Packages")
    inv = analyze_files(_analyzers(), [{"/etc/os-release": debian, "/var/lib/rpm/Packages": db}])
    [hello] = inv.packages
    assert hello.ecosystem == ""  # not matched against Debian's advisories
