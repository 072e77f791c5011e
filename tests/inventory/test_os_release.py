"""OS detection on the 58 os-release / *-release files of testdata/os-release, against hand-written rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.os_release import OSReleaseAnalyzer
from testsupport import read_tree

HERE = Path(__file__).parent
EXPECTED = HERE / "fixtures" / "os" / "os-release-expected.tsv"
ROOT = HERE / "testdata" / "os-release"


def _rows() -> list[list[str]]:
    lines = [ln for ln in EXPECTED.read_text().splitlines() if ln and not ln.startswith("#")]
    return [ln.split("\t") for ln in lines[1:]]


def _layer(case: str) -> dict[str, bytes]:
    d = ROOT / case
    if case.startswith("trivy-release/"):
        return {"/etc/os-release": d.read_bytes()}
    if case == "trivy-ubuntu-esm":
        return {"/etc/lsb-release": (d / "lsb-release").read_bytes(),
                "/var/lib/ubuntu-advantage/status.json": (d / "esm_enabled_status.json").read_bytes()}
    return read_tree(d)


def test_every_fixture_file_is_covered() -> None:
    covered = set()
    for row in _rows():
        d = ROOT / row[0]
        covered |= {d} if d.is_file() else {p for p in d.rglob("*") if p.is_file()}
    files = {p for p in ROOT.rglob("*") if p.is_file()}
    assert len(files) == 58
    assert files == covered


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r[0])
def test_detect(row: list[str]) -> None:
    inv = analyze_files([OSReleaseAnalyzer()], [_layer(row[0])])
    if row[1] == "-":
        assert inv.os is None
        return
    row = row + [""] * (6 - len(row))
    os = inv.os
    assert os is not None
    assert (os.family, os.version, os.release, os.codename, os.ecosystem) == tuple(row[1:6])
    assert os.name and os.source_path


def test_ubuntu_esm_and_lsb() -> None:
    os = analyze_files([OSReleaseAnalyzer()], [_layer("trivy-ubuntu-esm")]).os
    assert os is not None and os.source_path == "/etc/lsb-release" and "ESM" in os.name


def test_distroless_is_debian_marked_in_name() -> None:
    layer = read_tree(HERE / "testdata/dpkg/distroless-deb__syft")
    layer["/etc/os-release"] = b'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="11"\n'
    os = analyze_files([OSReleaseAnalyzer()], [layer]).os
    assert os is not None
    assert (os.family, os.release, os.codename, os.ecosystem) == ("debian", "11", "bullseye", "Debian:11")
    assert os.name == "Debian GNU/Linux 11 (bullseye) distroless"
    plain = analyze_files([OSReleaseAnalyzer()], [{"/etc/os-release": b'ID=debian\nVERSION_ID="12"\n'}]).os
    assert plain is not None and "distroless" not in plain.name


def test_a_later_layer_changes_the_os() -> None:
    layers = [{"/etc/os-release": b"ID=alpine\nVERSION_ID=3.18.4\n"},
              {"/etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"}]
    os = analyze_files([OSReleaseAnalyzer()], layers).os
    assert os is not None and os.ecosystem == "Alpine:v3.19"


def test_debian_testing_from_debian_version() -> None:
    os = analyze_files([OSReleaseAnalyzer()], [{"/etc/debian_version": b"trixie/sid\n"}]).os
    assert os is not None and (os.family, os.release, os.codename) == ("debian", "13", "trixie")
