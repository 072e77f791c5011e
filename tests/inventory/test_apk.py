"""apk analyzer: the testdata/apk databases against Syft's reviewed view, edge cases, purls and ownership."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hullscan.inventory.apk import ApkAnalyzer, split_licenses
from hullscan.inventory.applier import analyze_files
from hullscan.inventory.os_release import OSReleaseAnalyzer
from testsupport import read_tree

APK = Path(__file__).parent / "testdata" / "apk"
REVIEWED = json.loads((Path(__file__).parent / "fixtures/os/apk-syft-reviewed.json").read_text())["cases"]
ANALYZERS = [OSReleaseAnalyzer(), ApkAnalyzer()]


def _layer(case: str) -> dict[str, bytes]:
    if case.startswith("syft-variants/"):
        return {"/lib/apk/db/installed": (APK / case).read_bytes()}
    return read_tree(APK / case)


@pytest.mark.parametrize("case", sorted(REVIEWED))
def test_matches_syft(case: str) -> None:
    inv = analyze_files(ANALYZERS, [_layer(case)])
    got = [{"name": p.name, "version": p.version, "arch": p.arch, "origin": p.source_name,
            "licenses": sorted(p.extra.get("declared_licenses", [])),  # Syft keeps L: as declared
            "files": len(p.files)} for p in sorted(inv.packages, key=lambda p: p.name)]
    assert got == REVIEWED[case]
    assert all(p.source_version == p.version and p.paths == ("/lib/apk/db/installed",) for p in inv.packages)


@pytest.mark.parametrize("case,line", [("alpine-3.4__trivy", 23), ("syft-variants/corrupt", 1)])
def test_bad_entries_warn_with_line(case: str, line: int) -> None:
    inv = analyze_files(ANALYZERS, [_layer(case)])
    assert any(w.path == "/lib/apk/db/installed" and w.message.startswith(f"apk: line {line}:")
               for w in inv.warnings), inv.warnings
    assert inv.packages


def test_purl_ecosystem_and_files() -> None:
    inv = analyze_files(ANALYZERS, [_layer("alpine-3.10__trivy-image")])
    assert inv.os is not None and inv.os.ecosystem == "Alpine:v3.10"
    musl = next(p for p in inv.packages if p.name == "musl")
    assert musl.purl == "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10"
    assert musl.ecosystem == "Alpine:v3.10"
    assert "/lib/ld-musl-x86_64.so.1" in musl.files and "/lib" in musl.files
    assert musl.extra["commit"] and musl.extra["maintainer"].startswith("Timo")
    ssl = next(p for p in inv.packages if p.name == "libssl1.1")
    assert ssl.source_name == "openssl"


@pytest.mark.parametrize("os_release,namespace,distro,ecosystem", [
    (b"ID=wolfi\nVERSION_ID=20230201\n", "wolfi", "", "Wolfi"),
    (b"ID=chainguard\nNAME=Chainguard\n", "chainguard", "", "Chainguard"),
])
def test_wolfi_and_chainguard(os_release: bytes, namespace: str, distro: str, ecosystem: str) -> None:
    db = b"P:glibc\nV:2.38-r5\nA:x86_64\no:glibc\nL:LGPL-2.1-or-later\n"
    inv = analyze_files(ANALYZERS, [{"/etc/os-release": os_release, "/lib/apk/db/installed": db}])
    (p,) = inv.packages
    assert p.purl == f"pkg:apk/{namespace}/glibc@2.38-r5?arch=x86_64"
    assert p.ecosystem == ecosystem


def test_license_field_forms() -> None:
    assert split_licenses("MIT BSD GPL2+") == ("MIT", "BSD", "GPL2+")
    assert split_licenses("(Apache-2.0 OR MIT) AND MPL-2.0") == ("(Apache-2.0 OR MIT) AND MPL-2.0",)
    assert split_licenses("") == ()


def test_upgrade_in_a_later_layer_goes_to_history() -> None:
    v1 = b"P:zlib\nV:1.2.11-r1\nA:x86_64\n\nP:busybox\nV:1.31.1-r9\nA:x86_64\n"
    v2 = b"P:zlib\nV:1.2.11-r3\nA:x86_64\n\nP:busybox\nV:1.31.1-r9\nA:x86_64\n"
    inv = analyze_files(ANALYZERS, [{"/lib/apk/db/installed": v1}, {"/lib/apk/db/installed": v2}])
    assert {(p.name, p.layer.index if p.layer else -1) for p in inv.packages} == {("zlib", 1), ("busybox", 0)}
    ((h),) = inv.history
    assert (h.package.version, h.removed_in.index, h.replaced_by) == ("1.2.11-r1", 1, "1.2.11-r3")


def test_mangled_databases_never_raise() -> None:
    import random

    rnd = random.Random(99)
    real = (APK / "alpine-3.18__scalibr/lib/apk/db/installed").read_bytes()
    for _ in range(60):
        data = bytearray(real[: rnd.randrange(len(real))])
        for _ in range(rnd.randrange(20)):
            data[rnd.randrange(len(data) or 1):0] = rnd.choice([b"\n", b"\n\n", b":", b"V:", b"\xff", b"\r", b"P:"])
        analyze_files(ANALYZERS, [{"/lib/apk/db/installed": bytes(data)}])
