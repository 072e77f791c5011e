"""pom.xml and gradle.lockfile as declared Maven packages: trivy's integration cases (the golden's
vulnerable package must be among ours), every java fixture, and POM resolution cases checked by
reading the fixture POMs by hand (parents, properties, imported BOMs from a local repository tree)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _lang_helpers import LOCKS, TRIVY, read_tree

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.java_declared import JavaDeclaredAnalyzer


def _scan(root: Path):
    return analyze_files([JavaDeclaredAnalyzer()], [read_tree(root, "/src")])


@pytest.mark.parametrize("case,golden,target", [("pom", "pom.json.golden", "pom.xml"), ("gradle", "gradle.json.golden", "gradle.lockfile")])
def test_trivy_cases(case: str, golden: str, target: str) -> None:
    inv = _scan(TRIVY / "fixtures/repo" / case)
    assert not inv.warnings
    doc = json.loads((TRIVY / "goldens" / golden).read_text())
    vulnerable = {(v["PkgName"], v["InstalledVersion"]) for r in doc["Results"] if r["Target"] == target for v in r["Vulnerabilities"]}
    ours = {(p.name, p.version) for p in inv.packages if not p.dev and p.extra.get("scope") not in ("provided",)}
    assert vulnerable and vulnerable <= ours
    for p in inv.packages:
        assert p.purl == f"pkg:maven/{p.name.replace(':', '/')}@{p.version}" and p.kind == "declared"


def test_pom_scopes() -> None:
    inv = _scan(TRIVY / "fixtures/repo/pom")
    by = {p.name: p for p in inv.packages}
    assert (by["org.junit.jupiter:junit-jupiter-api"].dev
            and by["org.junit.jupiter:junit-jupiter-api"].version == "5.7.1")  # ${junit.version}
    assert by["com.example:log4shell"].extra["relationship"] == "root"
    assert by["javax.servlet:javax.servlet-api"].extra["scope"] == "provided"


# pom → its direct dependencies, read by hand from the fixture POMs
EXPECTED = {
    "happy/pom.xml": {("org.example:example-api", "1.7.30"), ("org.example:example-runtime", "1.0.0"),
                      ("org.example:example-provided", "999")},
    "parent-properties/child/pom.xml": {("org.example:example-api", "1.7.30")},  # overrides the parent's 2.2.2
    "parent-properties/pom.xml": {("org.example:example-api", "2.2.2")},
    # child's bom.version=2.0.0 selects example-bom 2.0.0 imported by the parent → example-api 2.0.0
    "inherit-props/base/pom.xml": {("org.example:example-api", "2.0.0")},
    # BOM example-dependency-management 3.3.3 imports example-dependency-management2 ${…}=1.1.1 → 1.7.30
    "import-dependency-management/pom.xml": {("org.example:example-api", "1.7.30")},
    "soft-requirement/pom.xml": {("org.example:example-api", "1.7.30"), ("org.example:example-dependency", "1.2.3")},
    "dep-without-version/pom.xml": set(),  # no version anywhere in the image: left out, with a warning
}


def test_pom_resolution() -> None:
    inv = _scan(LOCKS / "java/pom/trivy-parser")
    got: dict[str, set[tuple[str, str]]] = {}
    for p in inv.packages:
        if not p.extra.get("relationship"):
            got.setdefault(p.paths[0].removeprefix("/src/"), set()).add((p.name, p.version))
    for rel, expected in EXPECTED.items():
        assert got.get(rel, set()) == expected, rel
    assert [w.path for w in inv.warnings] == ["/src/dep-without-version/pom.xml"]


def test_every_java_fixture_parses() -> None:
    inv = _scan(LOCKS / "java")
    assert [w.path for w in inv.warnings] == ["/src/pom/trivy-parser/dep-without-version/pom.xml"]
    assert {(p.name, p.version, p.dev) for p in inv.packages if p.extra.get("lockfile") == "gradle"} == {
        ("joda-time:joda-time", "2.2", False), ("junit:junit", "4.12", True), ("org.hamcrest:hamcrest-core", "1.3", True),
        ("org.apache.commons:commons-text", "1.8", False)}


@pytest.mark.parametrize("name,data", [
    ("pom.xml", b"<project><dependencies><dependency>"),
    ("pom.xml", b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><project>&lol;</project>'),
    ("gradle.lockfile", b"not-a-coordinate=compileClasspath\n"),
])
def test_bad_input_warns(name: str, data: bytes) -> None:
    inv = analyze_files([JavaDeclaredAnalyzer()], [{f"/bad/{name}": data, "/ok/gradle.lockfile": b"a:b:1.0=runtimeClasspath\n"}])
    assert any(w.path == f"/bad/{name}" for w in inv.warnings)
    assert [(p.name, p.version) for p in inv.packages] == [("a:b", "1.0")]
