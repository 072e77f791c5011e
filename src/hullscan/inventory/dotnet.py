""".NET packages from NuGet metadata: `*.deps.json` beside a built app (installed), and the project
files `packages.lock.json`, `packages.config`, `Directory.Packages.props` (declared)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hullscan.inventory.lockfiles.nuget import (
    parse_deps_json,
    parse_packages_config,
    parse_packages_lock,
    parse_packages_props,
)
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, Parser, WarnFn

ECOSYSTEM = "NuGet"


def nuget_purl(name: str, version: str) -> str:
    return purl("nuget", name, version)


def _nuget(fmt: str, kind: str, parse: Callable[[bytes, WarnFn], list[dict[str, Any]]]) -> Parser:
    def parse_file(path: str, data: bytes, warn: WarnFn) -> Any:
        return {"format": fmt, "kind": kind, "packages": parse(data, warn)}

    return parse_file


class DotnetAnalyzer(Analyzer):
    name = "dotnet"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(globs=("**/*.deps.json",), names=("deps.json",), parse=_nuget("deps.json", "installed", parse_deps_json)),
        FileRule(names=("packages.lock.json",), parse=_nuget("packages.lock.json", "declared", parse_packages_lock)),
        FileRule(names=("packages.config",), parse=_nuget("packages.config", "declared", parse_packages_config)),
        FileRule(names=("Directory.Packages.props",),
                 parse=_nuget("Directory.Packages.props", "declared", parse_packages_props)),
    )
    max_size = 32 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            for rec in ff.fact["packages"]:
                extra: dict[str, Any] = {"format": ff.fact["format"]}
                if rec.get("root"):
                    extra["relationship"] = "root"
                if rec.get("type") == "runtimepack":
                    extra["runtimepack"] = True
                pkgs.append(Package("nuget", rec["name"], rec["version"], ECOSYSTEM,
                                    nuget_purl(rec["name"], rec["version"]), self.name, (path,),
                                    kind=ff.fact["kind"], dev=rec["dev"], indirect=rec["indirect"], extra=extra))
        return Assembled(packages=pkgs)
