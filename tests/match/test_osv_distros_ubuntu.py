"""Ubuntu via its OSV records (canonical/ubuntu-security-notices, testdata/osv-distros/ubuntu), standard and
Ubuntu Pro (ESM) streams, on dpkg images built here and scanned through the CLI.

The record, UBUNTU-CVE-2023-38408 (OpenSSH ssh-agent PKCS#11, priority "medium"), names SOURCE packages
with the binaries they build, and files each release's fix under its own stream:
- `Ubuntu:Pro:18.04:LTS` openssh: introduced 0, fixed 1:7.6p1-4ubuntu0.7+esm1 (the fix came after 18.04's
  standard support ended, so only ESM has it; there is NO `Ubuntu:18.04:LTS` openssh entry);
- `Ubuntu:18.04:LTS` openssh-ssh1: introduced 0 and no fix, versions 1:7.5p1-8 … 1:7.5p1-10 (binary
  openssh-client-ssh1): affected, never fixed;
- `Ubuntu:Pro:FIPS-updates:18.04:LTS` openssh: fixed 1:7.9p1-10~ubuntu18.04.fips.0.8 (a FIPS stream: no
  image here reads it);
- `Ubuntu:20.04:LTS` openssh fixed 1:8.2p1-4ubuntu0.8; `Ubuntu:22.04:LTS` openssh fixed 1:8.9p1-3ubuntu0.3.
Every version carries the epoch 1: dpkg compares it first, so `1:7.6p1-4ubuntu0.7` < `1:7.6p1-4ubuntu0.7+esm1`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from osv_distro_images import dpkg_status, image, import_db, scan

ADV = "UBUNTU-CVE-2023-38408"


def os_release(version: str, codename: str) -> bytes:
    return (f'NAME="Ubuntu"\nVERSION="{version} LTS ({codename.title()})"\nID=ubuntu\nID_LIKE=debian\n'
            f'PRETTY_NAME="Ubuntu {version} LTS"\nVERSION_ID="{version[:5]}"\nVERSION_CODENAME={codename}\n').encode()


# The Ubuntu Pro client's status file of an attached machine (esm-infra enabled): trivy's real one
# (tests/inventory/testdata/os-release/trivy-ubuntu-esm, PROVENANCE.md there).
UA_STATUS = (Path(__file__).resolve().parents[1] / "inventory/testdata/os-release/trivy-ubuntu-esm"
             / "esm_enabled_status.json").read_bytes()
ESM_SOURCES = b"deb https://esm.ubuntu.com/infra/ubuntu bionic-infra-security main\n"
BIONIC_SSH = ("openssh-client", "openssh", "1:7.6p1-4ubuntu0.7")
BIONIC_SSH1 = ("openssh-client-ssh1", "openssh-ssh1", "1:7.5p1-10")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return import_db(tmp_path_factory.mktemp("ubuntu") / "vuln.db", "ubuntu")


def _scan(tmp_path: Path, db: Path, files: dict[str, bytes]):
    return scan(image(tmp_path / "img.tar", files), db)


def test_bionic_without_esm_gets_the_standard_stream_only(tmp_path, db):
    inv, got = _scan(tmp_path, db, {
        "etc/os-release": os_release("18.04.6", "bionic"),
        "var/lib/dpkg/status": dpkg_status(BIONIC_SSH, BIONIC_SSH1)})
    assert inv.os.ecosystem == "Ubuntu:18.04"
    # openssh-client-ssh1 is asked for by its SOURCE openssh-ssh1: 1:7.5p1-10 is a listed version of the
    # never-fixed `Ubuntu:18.04:LTS` entry
    ssh1 = got[("openssh-client-ssh1", ADV)]
    assert ssh1.status == "affected" and not ssh1.fixed_version
    assert ssh1.details[0].ecosystem == "Ubuntu:18.04" and ssh1.details[0].identity == "source"
    # openssh 1:7.6p1-4ubuntu0.7 is fixed in the Pro (ESM) stream, in 20.04 and 22.04 only: a plain 18.04
    # image cannot install the ESM fix, and the other releases' fixes are not its own
    assert ("openssh-client", ADV) not in got
    assert set(got) == {("openssh-client-ssh1", ADV)}


@pytest.mark.parametrize("esm_file", ["var/lib/ubuntu-advantage/status.json",
                                      "etc/apt/sources.list.d/ubuntu-esm-infra.list"])
def test_bionic_with_esm_reads_the_pro_stream_too(tmp_path, db, esm_file):
    inv, got = _scan(tmp_path, db, {
        "etc/os-release": os_release("18.04.6", "bionic"),
        esm_file: UA_STATUS if esm_file.endswith(".json") else ESM_SOURCES,
        "var/lib/dpkg/status": dpkg_status(BIONIC_SSH, BIONIC_SSH1)})
    assert inv.os.ecosystem == "Ubuntu:Pro:18.04:LTS"
    # Pro stream: 1:7.6p1-4ubuntu0.7 < fixed 1:7.6p1-4ubuntu0.7+esm1
    ssh = got[("openssh-client", ADV)]
    assert ssh.status == "fixed" and ssh.fixed_version == "1:7.6p1-4ubuntu0.7+esm1"
    # the standard stream still applies to an ESM image
    assert got[("openssh-client-ssh1", ADV)].status == "affected"
    assert set(got) == {("openssh-client", ADV), ("openssh-client-ssh1", ADV)}


def test_bionic_esm_fixed_package_and_a_commented_out_source(tmp_path, db):
    fixed = ("openssh-client", "openssh", "1:7.6p1-4ubuntu0.7+esm1")  # the ESM fix itself: not affected
    _, got = _scan(tmp_path, db, {
        "etc/os-release": os_release("18.04.6", "bionic"),
        "var/lib/ubuntu-advantage/status.json": UA_STATUS,
        "var/lib/dpkg/status": dpkg_status(fixed, BIONIC_SSH1)})
    assert set(got) == {("openssh-client-ssh1", ADV)}
    # `pro detach` leaves the ESM line commented out: no longer an ESM image
    inv, _ = _scan(tmp_path, db, {
        "etc/os-release": os_release("18.04.6", "bionic"),
        "etc/apt/sources.list.d/ubuntu-esm-infra.list": b"# " + ESM_SOURCES,
        "var/lib/dpkg/status": dpkg_status(BIONIC_SSH)})
    assert inv.os.ecosystem == "Ubuntu:18.04"


def test_jammy_standard_stream_and_vendor_priority(tmp_path, db):
    inv, got = _scan(tmp_path, db, {
        "etc/os-release": os_release("22.04.3", "jammy"),
        "var/lib/dpkg/status": dpkg_status(("openssh-client", "openssh", "1:8.9p1-3ubuntu0.1"),
                                           ("openssh-server", "openssh", "1:8.9p1-3ubuntu0.1"))})
    assert inv.os.ecosystem == "Ubuntu:22.04"  # reads the record's `Ubuntu:22.04:LTS`
    # 1:8.9p1-3ubuntu0.1 < fixed 1:8.9p1-3ubuntu0.3; both binaries of source openssh
    for name in ("openssh-client", "openssh-server"):
        f = got[(name, ADV)]
        assert f.fixed_version == "1:8.9p1-3ubuntu0.3"
        assert f.severity == "MEDIUM"  # Ubuntu's priority "medium" (the record's `Ubuntu` severity)
    assert set(got) == {("openssh-client", ADV), ("openssh-server", ADV)}


def test_jammy_at_the_fix_is_clean(tmp_path, db):
    _, got = _scan(tmp_path, db, {
        "etc/os-release": os_release("22.04.3", "jammy"),
        "var/lib/dpkg/status": dpkg_status(("openssh-client", "openssh", "1:8.9p1-3ubuntu0.3"))})
    assert got == {}
