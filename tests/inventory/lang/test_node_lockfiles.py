"""npm-ecosystem lockfiles against trivy's integration goldens and every per-format fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from _lang_helpers import LOCKS, TRIVY, declared, golden_packages, scan_dir

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.node_lock import NodeLockAnalyzer

# case dir, golden, lockfile, include dev deps (CASES.tsv `includeDevDeps`)
CASES = [
    ("npm", "npm.json.golden", "package-lock.json", False),
    ("npm", "npm-with-dev.json.golden", "package-lock.json", True),
    ("yarn", "yarn.json.golden", "yarn.lock", False),
    ("pnpm", "pnpm.json.golden", "pnpm-lock.yaml", False),
    ("bun", "bun.json.golden", "bun.lock", False),
]


@pytest.mark.parametrize("case,golden,lockfile,dev", CASES, ids=[c[1] for c in CASES])
def test_trivy_golden(case: str, golden: str, lockfile: str, dev: bool) -> None:
    inv = scan_dir(TRIVY / "fixtures" / "repo" / case)
    assert not inv.warnings
    assert declared(inv, f"/app/{lockfile}", dev) == golden_packages(golden, lockfile)


def test_npm_purls_and_dev_flags() -> None:
    inv = scan_dir(TRIVY / "fixtures" / "repo" / "bun")
    by_name = {p.name: p for p in inv.packages}
    assert by_name["@types/bun"].purl == "pkg:npm/%40types/bun@1.2.14"
    # devDependency @types/bun pulls bun-types → @types/node → undici-types: all dev, the three indirect.
    assert [by_name[n].dev for n in ("@types/bun", "bun-types", "@types/node", "undici-types")] == [True] * 4
    assert [by_name[n].indirect for n in ("@types/bun", "bun-types", "@types/node")] == [False, True, True]


FORMATS = ["npm", "yarn", "pnpm", "bun"]


def _lockfiles() -> list[Path]:
    out = []
    for fmt in FORMATS:
        for p in sorted((LOCKS / fmt).rglob("*")):
            if p.is_file() and (p.suffix in (".json", ".lock", ".yaml") and "package.json" not in p.name):
                out.append(p)
    return out


# Per-format fixtures renamed to the name the analyzer looks for; a few (hand-checked) counts.
HAND_CHECKED = {
    "yarn/syft/yarn-berry-dev-deps/yarn.lock": {("dev-pkg", True), ("dev-only-transitive", True), ("prod-pkg", False),
                                                ("shared-pkg", False)},
}


def _as_lockfile(p: Path) -> str:
    if p.suffix == ".json":
        return "package-lock.json"
    if p.suffix == ".yaml":
        return "pnpm-lock.yaml"
    if "bun" in p.name:
        return "bun.lock"
    return "yarn.lock"


def test_every_per_format_fixture_parses() -> None:
    files = _lockfiles()
    assert len(files) >= 25
    for p in files:
        layer = {f"/src/{_as_lockfile(p)}": p.read_bytes()}
        sibling = p.parent / "package.json"
        if sibling.exists():
            layer["/src/package.json"] = sibling.read_bytes()
        inv = analyze_files([NodeLockAnalyzer()], [layer])
        assert not inv.warnings, (p, inv.warnings)
        pkgs = [x for x in inv.packages if x.kind == "declared"]
        assert pkgs, p
        for x in pkgs:
            assert x.version[:1].isdigit() and x.purl.startswith("pkg:npm/"), (p, x)
        rel = p.relative_to(LOCKS).as_posix()
        if rel in HAND_CHECKED:
            assert {(x.name, x.dev) for x in pkgs if not x.extra.get("relationship")} == HAND_CHECKED[rel]


@pytest.mark.parametrize("name,data", [
    ("package-lock.json", b'{"lockfileVersion": 2, "packages": {'),
    ("yarn.lock", b"__metadata:\n  version: 6\n\"a@npm:1\": [unclosed\n"),
    ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\npackages: {a: [\n"),
    ("bun.lock", b'{"lockfileVersion": 1, "packages": {"a": ["a@1.0.0", '),
])
def test_corrupt_lockfile_warns_and_scan_goes_on(name: str, data: bytes) -> None:
    good = b'{"lockfileVersion": 3, "packages": {"": {"dependencies": {"x": "1"}}, "node_modules/x": {"version": "1.0.0"}}}'
    inv = analyze_files([NodeLockAnalyzer()], [{f"/bad/{name}": data, "/good/package-lock.json": good}])
    assert any(w.path == f"/bad/{name}" for w in inv.warnings), inv.warnings
    assert [(p.name, p.version, p.indirect) for p in inv.packages] == [("x", "1.0.0", False)]


def test_npm_v1_direct_from_package_json() -> None:
    lock = b'''{"lockfileVersion": 1, "dependencies": {
      "express": {"version": "4.16.0", "requires": {"debug": "2.6.9"}},
      "debug": {"version": "2.6.9"},
      "mocha": {"version": "5.2.0", "dev": true, "dependencies": {"debug": {"version": "3.1.0", "dev": true}}}}}'''
    manifest = b'{"name": "p", "version": "1.0.0", "dependencies": {"express": "^4"}, "devDependencies": {"mocha": "5"}}'
    inv = analyze_files([NodeLockAnalyzer()], [{"/a/package-lock.json": lock, "/a/package.json": manifest}])
    got = sorted((p.name, p.version, p.dev, p.indirect, p.extra.get("relationship", "")) for p in inv.packages)
    assert got == [("debug", "2.6.9", False, True, ""), ("debug", "3.1.0", True, True, ""), ("express", "4.16.0", False, False, ""),
                   ("mocha", "5.2.0", True, False, ""), ("p", "1.0.0", False, False, "root")]


def test_pnpm_v5_scoped_keys_with_peer_suffixes() -> None:
    lock = b"""lockfileVersion: 5.4
dependencies:
  react: 16.0.0
devDependencies:
  '@babel/core': 7.0.0_react@16.0.0
packages:
  /@babel/core/7.0.0_react@16.0.0:
    dependencies:
      '@babel/types': 7.0.0
    dev: true
  /@babel/types/7.0.0:
    dev: true
  /react/16.0.0:
    dev: false
"""
    inv = analyze_files([NodeLockAnalyzer()], [{"/w/pnpm-lock.yaml": lock}])
    assert sorted((p.name, p.version, p.dev, p.indirect) for p in inv.packages) == [
        ("@babel/core", "7.0.0", True, False), ("@babel/types", "7.0.0", True, True), ("react", "16.0.0", False, False)]


def test_yarn_classic_alias_and_scoped_patterns() -> None:
    lock = (b'"string-width-cjs@npm:string-width@^4.2.0":\n  version "4.2.3"\n\n'
            b'"@babel/core@^7.0.0", "@babel/core@^7.1.0":\n  version "7.22.0"\n')
    inv = analyze_files([NodeLockAnalyzer()], [{"/y/yarn.lock": lock}])
    assert sorted((p.name, p.version, p.purl) for p in inv.packages) == [
        ("@babel/core", "7.22.0", "pkg:npm/%40babel/core@7.22.0"), ("string-width", "4.2.3", "pkg:npm/string-width@4.2.3")]
