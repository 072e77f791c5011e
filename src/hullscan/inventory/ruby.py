"""Ruby gems: installed `specifications/*.gemspec` (RubyGems' record of each installed gem,
`specifications/default/` for default gems) and Bundler's Gemfile.lock (declared)."""

from __future__ import annotations

import re
from typing import Any

from packageurl import PackageURL

from hullscan.inventory.lockfiles.gem import parse_gemfile_lock, parse_gemspec
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, MiB, PathHints, WarnFn

ECOSYSTEM = "RubyGems"
_GEMSPEC = re.compile(r"/specifications/(?:default/)?[^/]+\.gemspec$")
# Lockfiles shipped inside installed gems describe the gem's own development, not the image.
_INSIDE_GEM = re.compile(r"/gems/[^/]+/gems/|/bundler/gems/")


def gem_purl(name: str, version: str) -> str:
    return PackageURL(type="gem", name=name, version=version or None).to_string()


class RubyGemsAnalyzer(Analyzer):
    hints = PathHints(names=frozenset({"Gemfile.lock", "gems.locked"}), extensions=frozenset({"gemspec"}))
    name = "rubygems"
    version = 1
    max_size = 8 * MiB

    def wants(self, path: str, size: int, mode: int) -> bool:
        if _GEMSPEC.search(path):
            return True
        return path.endswith(("/Gemfile.lock", "/gems.locked")) and not _INSIDE_GEM.search(path)

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        if path.endswith(".gemspec"):
            spec = parse_gemspec(data, warn)
            return {"gemspec": spec} if spec else None
        return {"lock": parse_gemfile_lock(data, warn)}

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
