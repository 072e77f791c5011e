"""purl namespace, `distro=` qualifier and ecosystem for each rpm distro, from the real os-release files in
tests/inventory/testdata/os-release (the conventions of docs/rpm.md, written out by hand per file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.inventory.rpm.analyzer import RpmAnalyzer
from hullscan.inventory.rpm.distro import describe
from hullscan.model.inventory import OSInfo
from testsupport import read_tree

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
OSR = TESTDATA / "os-release"
CASES = [  # os-release dir, purl of hello 1:0.0.1-rls (x86_64), ecosystem
    ("syft/redhat/from-os-release", "pkg:rpm/redhat/hello@0.0.1-rls?arch=x86_64&distro=rhel-7&epoch=1", "Red Hat:7"),
    ("syft/centos", "pkg:rpm/centos/hello@0.0.1-rls?arch=x86_64&distro=centos-8&epoch=1", "CentOS:8"),
    ("syft/rockylinux/from-os-release", "pkg:rpm/rocky/hello@0.0.1-rls?arch=x86_64&distro=rocky-8&epoch=1",
     "Rocky Linux:8"),
    ("syft/almalinux/from-os-release",
     "pkg:rpm/almalinux/hello@0.0.1-rls?arch=x86_64&distro=almalinux-8&epoch=1", "AlmaLinux:8"),
    ("syft/fedora", "pkg:rpm/fedora/hello@0.0.1-rls?arch=x86_64&distro=fedora-36&epoch=1", "Fedora:36"),
    ("syft/amazon", "pkg:rpm/amazon/hello@0.0.1-rls?arch=x86_64&distro=amazon-2&epoch=1", "Amazon Linux:2"),
    ("syft/oraclelinux", "pkg:rpm/oracle/hello@0.0.1-rls?arch=x86_64&distro=oracle-8&epoch=1", "Oracle Linux:8"),
    ("syft/sles", "pkg:rpm/suse/hello@0.0.1-rls?arch=x86_64&distro=sles-15.2&epoch=1",
     "SUSE:Linux Enterprise Server 15 SP2"),
    ("syft/opensuse-leap",
     "pkg:rpm/opensuse/hello@0.0.1-rls?arch=x86_64&distro=opensuse-leap-15.2&epoch=1", "openSUSE:Leap 15.2"),
    ("syft/photon", "pkg:rpm/photon/hello@0.0.1-rls?arch=x86_64&distro=photon-2.0&epoch=1", "Photon OS:2.0"),
    ("syft/mariner", "pkg:rpm/mariner/hello@0.0.1-rls?arch=x86_64&distro=mariner-1.0&epoch=1", "Azure Linux:1.0"),
]


@pytest.mark.parametrize(("case", "purl", "ecosystem"), CASES, ids=[c[0] for c in CASES])
def test_names_per_distro(case: str, purl: str, ecosystem: str) -> None:
    layer = read_tree(OSR / case)
    layer["/var/lib/rpm/Packages"] = (TESTDATA / "rpm/bdb/scalibr-epoch__Packages").read_bytes()
    inv = analyze_files([OSReleaseAnalyzer(), RpmAnalyzer()], [layer])
    [hello] = inv.packages
    assert (hello.purl, hello.ecosystem) == (purl, ecosystem)


@pytest.mark.parametrize(("os", "expected"), [
    # Without an ecosystem from OS detection (raw os-release ids), the same names are derived here.
    (OSInfo("amzn", "Amazon Linux AMI 2018.03", "2018.03", ""), ("amazon", "amazon-1", "Amazon Linux:1")),
    (OSInfo("amzn", "Amazon Linux 2023", "2023", ""), ("amazon", "amazon-2023", "Amazon Linux:2023")),
    (OSInfo("rhel", "", "9.3", ""), ("redhat", "rhel-9", "Red Hat:9")),
    (OSInfo("opensuse-tumbleweed", "openSUSE Tumbleweed", "20240101", ""),
     ("opensuse", "opensuse-tumbleweed-20240101", "openSUSE:Tumbleweed")),
    (OSInfo("azurelinux", "", "3.0", ""), ("azurelinux", "azurelinux-3.0", "Azure Linux:3.0")),
    (OSInfo("debian", "Debian GNU/Linux 12", "12", "12", ecosystem="Debian:12"), ("debian", "debian-12", "")),
    (None, ("", "", "")),
])
def test_describe_without_detector(os: OSInfo | None, expected: tuple[str, str, str]) -> None:
    d = describe(os)
    assert (d.namespace, d.distro, d.ecosystem) == expected
