""".NET: deps.json, packages.lock.json, packages.config, Directory.Packages.props (trivy goldens + fixtures)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.dotnet import DotnetAnalyzer
from testsupport import REPO, read_tree

LOCKS = Path(__file__).resolve().parent / "testdata"  # per-format fixtures (PROVENANCE.md there)
TRIVY = REPO / "tests/match/testdata/trivy-integration"  # kept by the match tests


def golden(name: str) -> dict[tuple[str, str], dict]:
    doc = json.loads((TRIVY / "goldens" / name).read_text())
    return {(p["Name"], p["Version"]): p for r in doc["Results"] for p in r.get("Packages") or []}


@pytest.mark.parametrize("case,name", [("nuget", "nuget.json.golden"), ("dotnet", "dotnet.json.golden"),
                                       ("packagesprops", "packagesprops.json.golden")])
def test_trivy_goldens(case, name):
    inv = analyze_files([DotnetAnalyzer()], [read_tree(TRIVY / "fixtures/repo" / case, "/src")])
    assert not inv.warnings
    want = golden(name)
    assert {(p.name, p.version, p.purl) for p in inv.packages} == {
        (n, v, g["Identifier"]["PURL"]) for (n, v), g in want.items()}
    for p in inv.packages:
        rel = want[(p.name, p.version)].get("Relationship")
        if rel == "root":
            assert p.extra["relationship"] == "root"
        elif rel in ("direct", "indirect"):
            assert p.indirect == (rel == "indirect")
        assert p.ecosystem == "NuGet"


@pytest.mark.parametrize("rel", ["deps-json/syft/TestLibrary.deps.json", "deps-json/trivy-parser/self-contained.deps.json",
                                 "deps-json/trivy-parser/multi-project.deps.json", "deps-json/trivy-parser/happy.deps.json",
                                 "deps-json/trivy-parser/without-runtime.deps.json"])
def test_deps_json_fixtures(rel):
    data = (LOCKS / "dotnet" / rel).read_bytes()
    inv = analyze_files([DotnetAnalyzer()], [{"/app/" + rel.rsplit("/", 1)[1]: data}])
    assert not inv.warnings
    libs = json.loads(data)["libraries"]
    expected = {(k.rsplit("/", 1)[0].removeprefix("runtimepack."), k.rsplit("/", 1)[1]) for k, v in libs.items()
                if v["type"] in ("package", "project", "runtimepack")}
    assert {(p.name, p.version) for p in inv.packages} == expected
    assert all(p.kind == "installed" for p in inv.packages)


def test_deps_json_without_runtime_assets_is_dev():
    data = (LOCKS / "dotnet/deps-json/trivy-parser/without-runtime.deps.json").read_bytes()
    inv = analyze_files([DotnetAnalyzer()], [{"/app/hello2.deps.json": data}])
    # hand-checked: only JsonDiffPatch (runtime dll) and Libuv (native runtimeTargets) are loaded at run time
    assert {p.name for p in inv.packages if not p.dev and not p.extra.get("relationship")} == {"JsonDiffPatch", "Libuv"}


@pytest.mark.parametrize("rel", ["packages_lock_subdependencies.json", "packages_lock_simple.json", "packages_lock_multi.json"])
def test_packages_lock_fixtures(rel):
    data = (LOCKS / "dotnet/packages-lock/trivy-parser" / rel).read_bytes()
    inv = analyze_files([DotnetAnalyzer()], [{"/src/packages.lock.json": data}])
    assert not inv.warnings
    doc = json.loads(data)
    expected = {(n, d["resolved"]) for fw in doc["dependencies"].values() for n, d in fw.items() if d["type"] != "Project"}
    assert {(p.name, p.version) for p in inv.packages} == expected
    direct = {(n, d["resolved"]) for fw in doc["dependencies"].values() for n, d in fw.items() if d["type"] == "Direct"}
    assert {(p.name, p.version) for p in inv.packages if not p.indirect} == direct


def test_packages_config_and_props():
    cfg = (LOCKS / "dotnet/packages-config/trivy-parser/packages.config").read_bytes()
    props = (LOCKS / "dotnet/packages-props/trivy-parser/Directory.Packages.props").read_bytes()
    inv = analyze_files([DotnetAnalyzer()], [{"/s/packages.config": cfg, "/s/Directory.Packages.props": props}])
    assert not inv.warnings
    root = ET.fromstring(cfg.decode("utf-8-sig"))
    expected = {("/s/packages.config", e.get("id"), e.get("version")) for e in root.iter("package")}
    # props: Include/Version attributes with surrounding spaces trimmed (hand-checked file)
    expected |= {("/s/Directory.Packages.props", "PackageOne", "6.2.3"), ("/s/Directory.Packages.props", "PackageTwo", "6.0.0"),
                 ("/s/Directory.Packages.props", "PackageThree", "2.4.1")}
    assert {(p.paths[0], p.name, p.version) for p in inv.packages} == expected
    assert all(p.kind == "declared" for p in inv.packages)


def test_malformed_dotnet_files_warn_and_go_on():
    good = (TRIVY / "fixtures/repo/nuget/packages.lock.json").read_bytes()
    inv = analyze_files([DotnetAnalyzer()], [{"/a/app.deps.json": b"{", "/b/packages.config": b"<packages><package",
                                              "/c/packages.lock.json": good,
                                              "/d/Directory.Packages.props": b"<!DOCTYPE x [<!ENTITY a 'b'>]><Project>&a;</Project>"}])
    assert {w.path for w in inv.warnings} == {"/a/app.deps.json", "/b/packages.config", "/d/Directory.Packages.props"}
    assert {p.name for p in inv.packages} == {"Newtonsoft.Json", "NuGet.Frameworks"}
