"""Each OSV distro family's image ecosystem, release spelling, version scheme and stored variants.

The os-release files are real (tests/inventory/testdata/os-release, from trivy and syft; PROVENANCE.md
there). The expected spellings are OSV's: Ubuntu's own OSV docs list `Ubuntu:22.04:LTS`, `Ubuntu:25.04`
and the Pro streams `Ubuntu:Pro:18.04:LTS` (the records in testdata/osv-distros/ubuntu use them); the
AlmaLinux records use `AlmaLinux:8` / `AlmaLinux:10` (major only); SUSE/openSUSE are keyed by the
product name (`SUSE:Linux Enterprise Server 15 SP3`, `openSUSE:Leap 15.5`, `openSUSE:Tumbleweed`: osv.dev
API queries in osv-scanner's cassettes use `openSUSE:Leap 15.5`); openEuler by version and support
qualifier (`openEuler:24.03-LTS-SP1`, as google/osv-scalibr derives it from PRETTY_NAME); Azure Linux by
`VERSION_ID` (`Azure Linux:3.0`, as osv-scalibr names it; CBL-Mariner is Azure Linux's former name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.inventory.os_release import UA_STATUS, OSReleaseAnalyzer, detect_os, parse_os_release
from hullscan.match.apk import ApkMatcher
from hullscan.match.dpkg import DpkgMatcher
from hullscan.model.inventory import Package
from hullscan.versions import scheme_for_ecosystem
from hullscan.vulndb.ecosystems import lookup_variants

OS_RELEASE = Path(__file__).resolve().parents[1] / "inventory" / "testdata" / "os-release"
TRIVY = OS_RELEASE / "trivy-release"


def _parse(path: str, data: bytes):
    """The analyzer's own parse of one of its files."""
    rule = next(r for r in OSReleaseAnalyzer.files if path in r.paths)
    return rule.parse(path, data, print)


def _os(path: Path, extra: dict | None = None):
    return detect_os({"/etc/os-release": {"fields": parse_os_release(path.read_text())}, **(extra or {})})


@pytest.mark.parametrize(("path", "ecosystem", "scheme"), [
    (TRIVY / "sles", "SUSE:Linux Enterprise Server 15 SP3", "rpm"),
    (TRIVY / "opensusetumbleweed", "openSUSE:Tumbleweed", "rpm"),
    (TRIVY / "opensuseleap-15.2.1", "openSUSE:Leap 15.2", "rpm"),  # "Leap 15.2.1 Beta" is filed as 15.2
    (OS_RELEASE / "syft/opensuse-leap/etc/os-release", None, "rpm"),
    (TRIVY / "azurelinux-3.0", "Azure Linux:3.0", "rpm"),
    (TRIVY / "mariner-2.0", "Azure Linux:2.0", "rpm"),
    (TRIVY / "mariner-1.0", "Azure Linux:1.0", "rpm"),
    (TRIVY / "rocky", None, "rpm"),
    (TRIVY / "alma", None, "rpm"),
    (TRIVY / "photon", "Photon OS:4.0", "rpm"),
    (TRIVY / "echo", "Echo", "deb"),
    (TRIVY / "minimos", "MinimOS", "apk"),
])
def test_family_ecosystem_and_scheme(path, ecosystem, scheme):
    info = _os(path)
    assert info is not None
    if ecosystem is None:  # Leap / Rocky / Alma: the release from the file, in OSV's shape
        fields = parse_os_release(path.read_text())
        ecosystem = {"opensuse": f"openSUSE:Leap {fields.get('VERSION_ID')}",
                     "rocky": f"Rocky Linux:{fields['VERSION_ID'].split('.')[0]}",
                     "almalinux": f"AlmaLinux:{fields['VERSION_ID'].split('.')[0]}"}[info.family]
    assert info.ecosystem == ecosystem
    assert scheme_for_ecosystem(info.ecosystem).name == scheme


def test_openeuler_keeps_its_support_qualifier():
    text = 'NAME="openEuler"\nVERSION="24.03 (LTS-SP1)"\nID="openEuler"\nVERSION_ID="24.03"\n' \
           'PRETTY_NAME="openEuler 24.03 (LTS-SP1)"\nANSI_COLOR="0;31"\n'
    info = detect_os({"/etc/os-release": {"fields": parse_os_release(text)}})
    assert info.ecosystem == "openEuler:24.03-LTS-SP1" and info.family == "openeuler"
    plain = detect_os({"/etc/os-release": {"fields": parse_os_release(text.replace(" (LTS-SP1)", ""))}})
    assert plain.ecosystem == "openEuler:24.03"


def test_ubuntu_esm_from_the_real_pro_status_file():
    # trivy's real `ua status` file of an attached 18.04 machine (esm-infra enabled)
    status = (OS_RELEASE / "trivy-ubuntu-esm/esm_enabled_status.json").read_text()
    lsb = parse_os_release((OS_RELEASE / "trivy-ubuntu-esm/lsb-release").read_text())
    facts = {"/etc/lsb-release": {"fields": lsb}, UA_STATUS: _parse(UA_STATUS, status.encode())}
    info = detect_os(facts)
    assert info.ecosystem == "Ubuntu:Pro:18.04:LTS" and "ESM" in info.name
    del facts[UA_STATUS]
    assert detect_os(facts).ecosystem == "Ubuntu:18.04"


@pytest.mark.parametrize(("ecosystem", "variants"), [
    ("Ubuntu:22.04", ["Ubuntu:22.04", "Ubuntu:22.04:LTS"]),
    ("Ubuntu:25.04", ["Ubuntu:25.04", "Ubuntu:25.04:LTS"]),
    # an ESM image reads the Pro stream and the standard one, never the FIPS streams
    ("Ubuntu:Pro:18.04:LTS", ["Ubuntu:Pro:18.04:LTS", "Ubuntu:18.04:LTS", "Ubuntu:18.04"]),
    ("Azure Linux:2.0", ["Azure Linux:2.0", "Azure Linux:2", "Mariner:2.0", "Mariner:2"]),
    ("SUSE:Linux Enterprise Server 15 SP3",
     ["SUSE:Linux Enterprise Server 15 SP3", "SUSE:Linux Enterprise Server 15 SP3-LTSS"]),
    ("openSUSE:Leap 15.5", ["openSUSE:Leap 15.5"]),
    ("openEuler:24.03-LTS", ["openEuler:24.03-LTS"]),
    ("Echo", ["Echo"]),
])
def test_lookup_variants(ecosystem, variants):
    assert lookup_variants(ecosystem) == variants


def test_echo_language_streams_use_their_language_scheme():
    # Echo's OSV records carry `Echo` (its Debian-based packages, dpkg) and `Echo:PyPI`-style streams
    assert scheme_for_ecosystem("Echo").name == "deb"
    assert scheme_for_ecosystem("Echo:PyPI").name == "pep440"
    assert scheme_for_ecosystem("Echo:npm").name == "npm"


def test_rolling_dpkg_and_apk_distros_are_queried():
    echo = Package(name="python3-pip", version="25.1+dfsg-1", type="deb", ecosystem="Echo",
                   source_name="python-pip", source_version="25.1+dfsg-1", purl="pkg:deb/echo/python3-pip@25.1%2Bdfsg-1", analyzer="dpkg")
    assert DpkgMatcher().queries(echo) == [("Echo", "python-pip", "source")]
    mini = Package(name="libcrypto3", version="3.5.0-r0", type="apk", ecosystem="MinimOS", source_name="openssl",
                   purl="pkg:apk/minimos/libcrypto3@3.5.0-r0", analyzer="apk")
    assert ApkMatcher().queries(mini) == [("MinimOS", "openssl", "source")]
