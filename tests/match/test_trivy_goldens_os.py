"""trivy's own expected findings for real images (`testdata/goldens/trivy-image-vulns/*`) reproduced by
our matcher: trivy's package lists of the same images (`testdata/goldens/trivy-image-packages/*`) fed to
it as inventories, against trivy's integration-test DB (`testdata/trivy-db-fixtures`) converted into our
store by tests/match/trivy_db.py. Both goldens were computed by trivy from exactly that data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hullscan.match.loop import match_inventory
from hullscan.model.inventory import OSInfo

sys.path.insert(0, str(Path(__file__).parent))
from trivy_db import trivy_reader  # noqa: E402
from trivy_packages import inventory_from_golden  # noqa: E402

TESTDATA = Path(__file__).resolve().parent / "testdata"

IMAGES = {
    # package golden, vulnerability golden, the OS our detector names for that image
    "debian-buster": ("debian-buster", OSInfo("debian", "Debian GNU/Linux 10 (buster)", "10.1", "10", "buster",
                                              ecosystem="Debian:10")),
    "ubuntu-18.04": ("ubuntu-1804", OSInfo("ubuntu", "Ubuntu 18.04.3 LTS", "18.04", "18.04", "bionic",
                                           ecosystem="Ubuntu:18.04")),
    "alpine-310": ("alpine-310", OSInfo("alpine", "Alpine Linux v3.10", "3.10.2", "v3.10", ecosystem="Alpine:v3.10")),
    "amazon-2": ("amazon-2", OSInfo("amazon", "Amazon Linux 2", "2", "2", ecosystem="Amazon Linux:2")),
    "centos-6": ("centos-6", OSInfo("centos", "CentOS release 6.10 (Final)", "6.10", "6", ecosystem="CentOS:6")),
    "photon-30": ("photon-30", OSInfo("photon", "VMware Photon OS/Linux", "3.0", "3.0", ecosystem="Photon OS:3.0")),
    "opensuse-leap-151": ("opensuse-leap-151", OSInfo("opensuse-leap", "openSUSE Leap 15.1", "15.1", "15.1",
                                                      ecosystem="openSUSE:Leap 15.1")),
    # further images whose package list trivy also recorded (distroless-base's is gcr.io's image of
    # the same Debian 9.9 packages; oraclelinux-8's comes from the slim variant of the same release)
    "ubi-7": ("ubi-7", OSInfo("rhel", "Red Hat Enterprise Linux Server 7.7 (Maipo)", "7.7", "7", ecosystem="Red Hat:7")),
    "opensuse-tumbleweed": ("opensuse-tumbleweed", OSInfo("opensuse-tumbleweed", "openSUSE Tumbleweed", "20240607",
                                                          "tumbleweed", ecosystem="openSUSE:Tumbleweed")),
    "oraclelinux-8-slim": ("oraclelinux-8", OSInfo("oracle", "Oracle Linux Server 8.0", "8.0", "8",
                                                   ecosystem="Oracle Linux:8")),
    "gcr.io-distroless-base-latest": ("distroless-base", OSInfo("debian", "Distroless", "9.9", "9", "stretch",
                                                                ecosystem="Debian:9")),
}
# Where trivy is wrong, reviewed by hand (docs/matching.md "Differences from trivy"):
# (image, id, package) -> {field: our value}
DIFFERENCES = {
    # trivy-db's Debian 9 row says `State: postponed` (the tracker's "fix postponed to a later
    # update"); trivy reports it as plain `affected`, we keep the vendor's word as `fix_deferred`
    ("gcr.io-distroless-base-latest", "CVE-2019-1551", "libssl1.1"): {"status": "fix_deferred"},
    ("gcr.io-distroless-base-latest", "CVE-2019-1551", "openssl"): {"status": "fix_deferred"},
}


@pytest.fixture(scope="module")
def trivy_db():
    return trivy_reader(TESTDATA / "trivy-db-fixtures")


def _expected(golden: Path) -> dict[tuple[str, str], dict]:
    out = {}
    for result in json.loads(golden.read_text())["Results"]:
        for v in result.get("Vulnerabilities") or []:
            out[(v["VulnerabilityID"], v["PkgName"])] = v
    return out


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_os_image_reproduces_trivy_golden(trivy_db, image):
    vulns_name, os_info = IMAGES[image]
    goldens = TESTDATA / "goldens"
    inv = inventory_from_golden(goldens / f"trivy-image-packages/{image}.json.golden", os_info)
    expected = _expected(goldens / f"trivy-image-vulns/{vulns_name}.json.golden")
    assert expected, "the golden lists findings"
    found = match_inventory(inv, trivy_db).findings
    got = {(f.id, f.package.name): f for f in found}
    assert len(got) == len(found), "one finding per vulnerability per package"
    # Trivy asks Amazon/Red Hat/SUSE buckets by BINARY name, and its test DB holds only the `curl`
    # bucket of ALAS advisories that list `libcurl` too; we also ask by source package, so binary
    # siblings built from the same source RPM at the same version are found (docs/matching.md). Those
    # are the only extras allowed: same id, same source package and version as an expected finding.
    by_pkg = {p.name: p for p in inv.packages}
    for vid, name in set(got) - set(expected):
        pkg = by_pkg[name]
        siblings = [by_pkg[n] for (v, n) in expected if v == vid and n in by_pkg]
        assert any(s.source_name == pkg.source_name and s.version == pkg.version for s in siblings), (vid, name)
        assert pkg.type == "rpm", (vid, name)
    assert set(expected) <= set(got)
    for key, want in expected.items():
        f = got[key]
        want = {**want, **{k.capitalize(): v for k, v in DIFFERENCES.get((image, *key), {}).items()}}
        assert f.package.name == key[1]
        assert f.package.version == want["InstalledVersion"], key
        assert (f.fixed_version or None) == want.get("FixedVersion"), key
        assert f.status == want["Status"], key
        assert f.severity == want["Severity"], key
        for vendor_id in want.get("VendorIDs") or []:  # DSA / RHSA ids the vendor gave stay attached
            assert vendor_id in f.aliases, key
        # how it matched: every matching record once, the one that decided the status first
        assert sorted({d.advisory_id for d in f.details}) == list(f.advisory_ids), key
        decided = f.details[0]
        assert decided.feed == f.data_source, key
        assert decided.status == f.status or (decided.status, f.status) == ("fixed", "affected"), key


def _details(found, vid, name):
    (f,) = [f for f in found if (f.id, f.package.name) == (vid, name)]
    return [(d.matcher, d.feed, d.advisory_id, d.ecosystem, d.package, d.identity, d.version, d.scheme, d.constraint,
             d.status) for d in f.details]


def test_match_details_name_the_identity_that_matched(trivy_db):
    def found(image):
        golden = TESTDATA / f"goldens/trivy-image-packages/{image}.json.golden"
        return match_inventory(inventory_from_golden(golden, IMAGES[image][1]), trivy_db).findings

    # Debian: the tracker's row is filed under the source package (`libidn2` for `libidn2-0`)
    assert _details(found("debian-buster"), "CVE-2019-18224", "libidn2-0") == [
        ("dpkg", "debian", "CVE-2019-18224", "Debian:10", "libidn2", "source", "2.0.5-1", "deb",
         ">=0, <2.0.5-1+deb10u1", "fixed")]
    # an open Debian issue without a fix: the vendor's status speaks for every version
    assert _details(found("debian-buster"), "CVE-2019-18276", "bash") == [
        ("dpkg", "debian", "CVE-2019-18276", "Debian:10", "bash", "source", "5.0-4", "deb", "affected, no range",
         "affected")]
    # SUSE lists binary packages: `libopenssl1_1` is matched by its source RPM's row and by its own name's
    assert _details(found("opensuse-leap-151"), "openSUSE-SU-2020:0062-1", "libopenssl1_1") == [
        ("rpm", "suse", "openSUSE-SU-2020:0062-1", "openSUSE:Leap 15.1", "openssl-1_1", "source",
         "1.1.0i-lp151.8.3.1", "rpm", ">=0, <1.1.0i-lp151.8.6.1", "fixed"),
        ("rpm", "suse", "openSUSE-SU-2020:0062-1", "openSUSE:Leap 15.1", "libopenssl1_1", "binary",
         "1.1.0i-lp151.8.3.1", "rpm", ">=0, <1.1.0i-lp151.8.6.1", "fixed")]
    # CentOS has no feed of its own: matched through the Red Hat release it rebuilds (RHSA fix with epoch 0)
    assert _details(found("centos-6"), "CVE-2019-1559", "openssl") == [
        ("rpm", "redhat", "RHSA-2019:2471", "Red Hat:6", "openssl", "upstream", "1.0.1e-57.el6", "rpm",
         ">=0, <0:1.0.1e-58.el6_10", "fixed")]
