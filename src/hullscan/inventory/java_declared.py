"""Declared Java dependencies: `pom.xml` (direct dependencies, versions resolved through parents,
properties and imported BOMs found in the same image) and `gradle.lockfile`.

POMs outside a project (`*.pom` in a local repository such as ~/.m2/repository or Debian's
/usr/share/maven-repo) are read only to resolve parents and BOMs; POMs inside jars belong to the
java-archive analyzer. Transitive dependencies are not resolved (that needs the artifacts' own POMs
from a repository; a gradle.lockfile already lists the whole graph)."""

from __future__ import annotations

import posixpath
from typing import Any

from hullscan.inventory.lockfiles import gradle_lock, maven_pom
from hullscan.inventory.lockfiles.spdx import to_spdx
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn


def _parse_gradle(path: str, data: bytes, warn: WarnFn) -> Any:
    pkgs = gradle_lock.parse(data, warn)
    return {"format": "gradle", "packages": pkgs} if pkgs else None


def _parse_pom(path: str, data: bytes, warn: WarnFn) -> Any:
    pom = maven_pom.parse(data, warn)
    return {"pom": pom} if pom else None


_NOT_IN_JARS = ("**/META-INF/**",)  # exploded archives: the java-archive analyzer's


class JavaDeclaredAnalyzer(Analyzer):
    """Maven dependencies declared by pom.xml and gradle.lockfile."""

    name = "java-declared"
    version = 1
    files = (
        FileRule(names=("gradle.lockfile",), globs=("**/gradle/dependency-locks/**/*.lockfile",), exclude=_NOT_IN_JARS,
                 parse=_parse_gradle),
        FileRule(globs=("**/pom.xml", "**/*.pom"), exclude=_NOT_IN_JARS, parse=_parse_pom),
    )
    max_size = 8 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        poms = {p: ff.fact["pom"] for p, ff in view.files.items() if isinstance(ff.fact, dict) and "pom" in ff.fact}
        by_coords: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        for p, pom in sorted(poms.items()):
            par = pom.get("parent") or {}
            key = (pom.get("group") or par.get("group", ""), pom.get("artifact", ""), pom.get("version") or par.get("version", ""))
            by_coords.setdefault(key, (p, pom))

        def lookup(from_path: str, group: str, artifact: str, version: str, relative: str) -> tuple[str, dict[str, Any]] | None:
            if relative != "-":
                rel = relative or "../pom.xml"
                cand = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), rel))
                if not cand.endswith((".xml", ".pom")):
                    cand = posixpath.join(cand, "pom.xml")
                hit = poms.get(cand)
                if hit is not None and hit.get("artifact") == artifact:
                    return cand, hit
            return by_coords.get((group, artifact, version))

        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            fact = ff.fact
            if not isinstance(fact, dict):
                continue
            if fact.get("format") == "gradle":
                for rec in fact["packages"]:
                    group, _, artifact = rec["name"].partition(":")
                    pkgs.append(_package(self.name, path, group, artifact, rec["version"], dev=rec["dev"], extra={"lockfile": "gradle"}))
                continue
            if "pom" not in fact or not path.endswith("/pom.xml"):
                continue
            res = maven_pom.resolve(path, fact["pom"], lookup)
            if res["unresolved"]:
                view.warn(path, f"{res['unresolved']} dependencies without a resolvable version left out")
            if res["group"] and res["artifact"] and res["version"] and "${" not in res["version"]:
                lic = [to_spdx(x) for x in fact["pom"].get("licenses") or [] if x]
                pkgs.append(_package(self.name, path, res["group"], res["artifact"], res["version"], licenses=lic,
                                     extra={"lockfile": "pom", "relationship": "root"}))
            for d in res["deps"]:
                extra: dict[str, Any] = {"lockfile": "pom", "scope": d["scope"]}
                if d["optional"]:
                    extra["optional"] = True
                pkgs.append(_package(self.name, path, d["group"], d["artifact"], d["version"], dev=d["scope"] == "test", extra=extra))
        return Assembled(packages=pkgs)


def _package(analyzer: str, path: str, group: str, artifact: str, version: str, *, dev: bool = False,
             licenses: list[str] | None = None, extra: dict[str, Any]) -> Package:
    return Package(
        type="maven",
        name=f"{group}:{artifact}",
        version=version,
        ecosystem="Maven",
        purl=purl("maven", artifact, version, group),
        analyzer=analyzer,
        paths=(path,),
        licenses=tuple(x for x in licenses or () if x),
        kind="declared",
        dev=dev,
        extra=extra,
    )
