"""Installed npm packages: trivy's npm fixture tree (package.json files read by hand), nested and
scoped copies, license spellings, Debian's /usr/share/nodejs layout, malformed manifests."""

from __future__ import annotations

import json

from _lang_helpers import TRIVY, read_tree

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.node_package import NodePackageAnalyzer


def _pj(name: str, version: str, **more) -> bytes:  # type: ignore[no-untyped-def]
    return json.dumps({"name": name, "version": version, **more}).encode()


def test_trivy_npm_node_modules() -> None:
    root = TRIVY / "fixtures/repo/npm"
    inv = analyze_files([NodePackageAnalyzer()], [read_tree(root, "/app")])
    # hand-read from node_modules/*/package.json: all MIT
    assert sorted((p.name, p.version, p.licenses) for p in inv.packages) == [
        ("jquery", "3.3.9", ("MIT",)), ("promise", "8.0.3", ("MIT",)), ("react", "16.8.6", ("MIT",)),
        ("react-is", "16.8.6", ("MIT",)), ("redux", "4.0.1", ("MIT",)), ("z-lock", "1.0.0", ("MIT",))]
    assert all(p.kind == "installed" and p.paths[0].endswith("/package.json") for p in inv.packages)


def test_nested_scoped_licenses_and_debian_layout() -> None:
    layer = {
        "/srv/node_modules/debug/package.json": _pj("debug", "2.6.9", license="MIT"),
        "/srv/node_modules/send/node_modules/debug/package.json": _pj("debug", "2.6.9", license="MIT"),
        "/srv/node_modules/@babel/core/package.json": _pj("@babel/core", "7.22.0", license={"type": "MIT"}),
        "/srv/node_modules/old/package.json": _pj("old", "1.0.0", licenses=[{"type": "BSD-3-Clause"}, {"type": "Apache 2.0"}]),
        "/srv/node_modules/dual/package.json": _pj("dual", "1.0.0", license="(MIT OR Apache-2.0)"),
        "/srv/node_modules/debug/src/package.json": _pj("not-a-package", "0.0.0"),  # a sub-manifest, not a package
        "/srv/node_modules/stub/package.json": b'{"name": "stub"}',
        "/srv/node_modules/bad/package.json": b"{nope",
        "/usr/share/nodejs/ms/package.json": _pj("ms", "2.1.3", license="MIT"),
        "/srv/package.json": _pj("project", "1.0.0"),  # the project itself: the lockfile analyzer's
    }
    inv = analyze_files([NodePackageAnalyzer()], [layer])
    got = sorted((p.name, p.version, p.licenses, p.paths[0]) for p in inv.packages)
    assert got == [
        ("@babel/core", "7.22.0", ("MIT",), "/srv/node_modules/@babel/core/package.json"),
        ("debug", "2.6.9", ("MIT",), "/srv/node_modules/debug/package.json"),
        ("debug", "2.6.9", ("MIT",), "/srv/node_modules/send/node_modules/debug/package.json"),
        ("dual", "1.0.0", ("MIT OR Apache-2.0",), "/srv/node_modules/dual/package.json"),
        ("ms", "2.1.3", ("MIT",), "/usr/share/nodejs/ms/package.json"),
        ("old", "1.0.0", ("BSD-3-Clause", "Apache-2.0"), "/srv/node_modules/old/package.json"),
    ]
    assert {p.purl for p in inv.packages if p.name == "@babel/core"} == {"pkg:npm/%40babel/core@7.22.0"}
    assert [(w.path, "malformed" in w.message) for w in inv.warnings] == [("/srv/node_modules/bad/package.json", True)]


def test_layers_replacement_and_history() -> None:
    base = {"/app/node_modules/lodash/package.json": _pj("lodash", "4.17.4"),
            "/app/node_modules/minimist/package.json": _pj("minimist", "0.0.8")}
    upgrade = {"/app/node_modules/lodash/package.json": _pj("lodash", "4.17.21"),
               "/app/node_modules/minimist": None}  # whiteout
    inv = analyze_files([NodePackageAnalyzer()], [base, upgrade])
    assert [(p.name, p.version, p.layer.index) for p in inv.packages] == [("lodash", "4.17.21", 1)]
    assert sorted((h.package.name, h.package.version, h.removed_in.index, h.replaced_by) for h in inv.history) == [
        ("lodash", "4.17.4", 1, "4.17.21"), ("minimist", "0.0.8", 1, "")]
