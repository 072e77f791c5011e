""".NET packages from NuGet metadata: `*.deps.json` beside a built app (installed), and the project
files `packages.lock.json`, `packages.config`, `Directory.Packages.props` (declared)."""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from hullscan.inventory.lockfiles.nuget import (
    parse_deps_json,
    parse_packages_config,
    parse_packages_lock,
    parse_packages_props,
)
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, MiB, PathHints, WarnFn

ECOSYSTEM = "NuGet"

_PARSERS = {
    "deps.json": (parse_deps_json, "installed"),
    "packages.lock.json": (parse_packages_lock, "declared"),
    "packages.config": (parse_packages_config, "declared"),
    "Directory.Packages.props": (parse_packages_props, "declared"),
}


def nuget_purl(name: str, version: str) -> str:
    return PackageURL(type="nuget", name=name, version=version or None).to_string()


def _format(path: str) -> str | None:
    base = path.rsplit("/", 1)[-1]
    if base.endswith(".deps.json"):
        return "deps.json"
    return base if base in _PARSERS else None


class DotnetAnalyzer(Analyzer):
    hints = PathHints(names=frozenset(_PARSERS), extensions=frozenset({"json"}))  # NAME.deps.json
    name = "dotnet"
    version = 1
    max_size = 32 * MiB

    def wants(self, path: str, size: int, mode: int) -> bool:
        return _format(path) is not None

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        fmt = _format(path)
        if fmt is None:
            return None
        parse, kind = _PARSERS[fmt]
        return {"format": fmt, "kind": kind, "packages": parse(data, warn)}

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
