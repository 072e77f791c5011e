"""Ruby gems: installed `specifications/*.gemspec` (RubyGems' record of each installed gem,
`specifications/default/` for default gems) and Bundler's Gemfile.lock (declared)."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.gem import parse_gemfile_lock, parse_gemspec
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

ECOSYSTEM = "RubyGems"
# Lockfiles shipped inside installed gems describe the gem's own development, not the image.
_INSIDE_GEMS = ("**/gems/*/gems/**", "**/bundler/gems/**")


def gem_purl(name: str, version: str) -> str:
    return purl("gem", name, version)


def _parse_gemspec(path: str, data: bytes, warn: WarnFn) -> Any:
    spec = parse_gemspec(data, warn)
    return {"gemspec": spec} if spec else None


def _parse_lock(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"lock": parse_gemfile_lock(data, warn)}


class RubyGemsAnalyzer(Analyzer):
    name = "rubygems"
    version = 1
    files = (
        FileRule(globs=("**/specifications/?*.gemspec", "**/specifications/default/?*.gemspec"), parse=_parse_gemspec),
        FileRule(names=("Gemfile.lock", "gems.locked"), exclude=_INSIDE_GEMS, parse=_parse_lock),
    )
    max_size = 8 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            if "gemspec" in ff.fact:
                s = ff.fact["gemspec"]
                extra: dict[str, Any] = {"default_gem": True} if "/specifications/default/" in path else {}
                pkgs.append(Package("gem", s["name"], s["version"], ECOSYSTEM, gem_purl(s["name"], s["version"]),
                                    self.name, (path,), licenses=tuple(s["licenses"]), extra=extra))
            for g in ff.fact.get("lock", []):
                extra = {"source": g["source"]}
                if g["platform"]:
                    extra["platform"] = g["platform"]
                pkgs.append(Package("gem", g["name"], g["version"], ECOSYSTEM, gem_purl(g["name"], g["version"]),
                                    self.name, (path,), kind="declared", indirect=g["indirect"], extra=extra))
        return Assembled(packages=pkgs)
