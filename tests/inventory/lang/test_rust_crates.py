"""Rust: Cargo.lock (trivy's cargo golden, per-format fixtures) and cargo-auditable `.dep-v0` sections."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import zlib
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.rust import CargoLockAnalyzer, RustBinaryAnalyzer
from testsupport import REPO, read_tree, require_tool

LOCKS = Path(__file__).resolve().parent / "testdata"  # per-format fixtures (PROVENANCE.md there)
TRIVY = REPO / "tests/match/testdata/trivy-integration"  # kept by the match tests


def golden_packages(name: str) -> set[tuple[str, str, str]]:
    doc = json.loads((TRIVY / "goldens" / name).read_text())
    return {(p["Name"], p["Version"], p["Identifier"]["PURL"]) for r in doc["Results"] for p in r.get("Packages") or []}


def test_trivy_cargo_golden():
    inv = analyze_files([CargoLockAnalyzer()], [read_tree(TRIVY / "fixtures/repo/cargo", "/src")])
    assert not inv.warnings
    # trivy lists the non-dev crates (includeDevDeps off): winapi and its two crates are dev-only
    prod = {(p.name, p.version, p.purl) for p in inv.packages if not p.dev}
    assert prod == golden_packages("cargo.lock.json.golden")
    assert {p.name for p in inv.packages if p.dev} == {"winapi", "winapi-i686-pc-windows-gnu", "winapi-x86_64-pc-windows-gnu"}
    doc = json.loads((TRIVY / "goldens/cargo.lock.json.golden").read_text())
    relationship = {p["Name"] + "@" + p["Version"]: p["Relationship"] for p in doc["Results"][0]["Packages"]}
    for p in inv.packages:
        if not p.dev:
            want = relationship[f"{p.name}@{p.version}"]
            got = "root" if p.extra.get("root") else "indirect" if p.indirect else "direct"
            assert got == want, p.name
        assert p.ecosystem == "crates.io" and p.kind == "declared" and p.paths == ("/src/Cargo.lock",)


@pytest.mark.parametrize("name", ["syft/Cargo.lock", "syft/Cargo.lock-with-git-deps", "trivy-parser/cargo_normal.lock",
                                  "trivy-parser/cargo_v3.lock", "trivy-parser/cargo_mixed.lock"])
def test_cargo_lock_fixtures(name):
    data = (LOCKS / "rust" / name).read_bytes()
    inv = analyze_files([CargoLockAnalyzer()], [{"/w/Cargo.lock": data}])
    assert not inv.warnings
    # independent view: every [[package]] table of the TOML document
    tables = tomllib.loads(data.decode())["package"]
    assert sorted((p.name, p.version) for p in inv.packages) == sorted((t["name"], t["version"]) for t in tables)
    def kind(src: str) -> str:
        return "local" if not src else "crates.io" if "crates.io-index" in src else src.split("+")[0]

    assert sorted((p.name, p.version, p.extra["source"]) for p in inv.packages) == sorted(
        (t["name"], t["version"], kind(t.get("source", ""))) for t in tables)


def test_malformed_cargo_lock_warns_and_goes_on():
    good = (LOCKS / "rust/trivy-parser/cargo_v3.lock").read_bytes()
    inv = analyze_files([CargoLockAnalyzer()], [{"/a/Cargo.lock": b"[[package]]\nname = \"x\"\nversion = ", "/b/Cargo.lock": good}])
    assert len(inv.warnings) == 1 and inv.warnings[0].path == "/a/Cargo.lock"
    assert inv.packages and all(p.paths == ("/b/Cargo.lock",) for p in inv.packages)


# cargo-auditable's format (https://github.com/rust-secure-code/cargo-auditable, README "format"):
AUDIT = {"packages": [
    {"name": "adler", "version": "1.0.2", "source": "crates.io"},
    {"name": "cc", "version": "1.0.73", "source": "crates.io", "kind": "build"},
    {"name": "miniz_oxide", "version": "0.5.3", "source": "crates.io", "dependencies": [0]},
    {"name": "rust-tool", "version": "0.1.0", "source": "local", "dependencies": [1, 2], "root": True},
]}


def _with_section(tmp_path: Path, name: str, payload: bytes) -> bytes:
    objcopy = require_tool("objcopy")
    base = Path(shutil.which("true") or "/bin/true")
    target, blob = tmp_path / "tool", tmp_path / "blob"
    blob.write_bytes(payload)
    subprocess.run([objcopy, f"--add-section={name}={blob}", str(base), str(target)], check=True, capture_output=True)
    return target.read_bytes()


def test_auditable_section(tmp_path):
    data = _with_section(tmp_path, ".dep-v0", zlib.compress(json.dumps(AUDIT).encode()))
    inv = analyze_files([RustBinaryAnalyzer()], [{"/usr/local/bin/rust-tool": data}])
    assert not inv.warnings
    got = {(p.name, p.version, p.purl, p.dev, p.indirect) for p in inv.packages}
    assert got == {
        ("adler", "1.0.2", "pkg:cargo/adler@1.0.2", False, True),
        ("cc", "1.0.73", "pkg:cargo/cc@1.0.73", True, False),  # build-time only
        ("miniz_oxide", "0.5.3", "pkg:cargo/miniz_oxide@0.5.3", False, False),
        ("rust-tool", "0.1.0", "pkg:cargo/rust-tool@0.1.0", False, False),
    }
    assert all(p.kind == "installed" and p.ecosystem == "crates.io" for p in inv.packages)


def test_bad_auditable_section_warns(tmp_path):
    data = _with_section(tmp_path, ".dep-v0", b"not zlib at all")
    inv = analyze_files([RustBinaryAnalyzer()], [{"/usr/bin/broken": data, "/usr/bin/true": Path(shutil.which("true")).read_bytes()}])
    assert inv.packages == [] and len(inv.warnings) == 1 and inv.warnings[0].path == "/usr/bin/broken"
    truncated = _with_section(tmp_path, ".dep-v0", zlib.compress(json.dumps(AUDIT).encode()))[:2000]
    inv = analyze_files([RustBinaryAnalyzer()], [{"/usr/bin/cut": truncated}])
    assert inv.packages == []


def test_registry_sources_are_not_the_images_lockfiles():
    an = CargoLockAnalyzer()
    assert an.rule_for("/src/app/Cargo.lock", 100, 0o644)
    assert not an.rule_for("/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.0/Cargo.toml", 100, 0o644)
