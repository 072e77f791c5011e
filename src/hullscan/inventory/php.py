"""PHP packages: Composer's installed.json (installed) and composer.lock (declared).

composer.json beside a composer.lock says which packages are direct requirements; the rest of the
lock is marked indirect. Names are Composer's lowercase `vendor/name`.
"""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.composer import parse_composer_json, parse_composer_lock, parse_installed_json
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

ECOSYSTEM = "Packagist"


def composer_purl(name: str, version: str) -> str:
    vendor, _, project = name.rpartition("/")
    return purl("composer", project, version, vendor)


def _parse_installed(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"installed": parse_installed_json(data, warn)}


def _parse_lock(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"lock": parse_composer_lock(data, warn)}


def _parse_manifest(path: str, data: bytes, warn: WarnFn) -> Any:
    manifest = parse_composer_json(data, warn)
    return {"manifest": manifest} if manifest else None


class ComposerAnalyzer(Analyzer):
    name = "composer"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(globs=("**/vendor/composer/installed.json",), parse=_parse_installed),
        # composer.json of every vendored package is not the project's
        FileRule(names=("composer.lock",), exclude=("**/vendor/**",), parse=_parse_lock),
        FileRule(names=("composer.json",), exclude=("**/vendor/**",), parse=_parse_manifest),
    )
    max_size = 32 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            if "installed" in ff.fact:
                pkgs.extend(self._package(r, path, "installed", False) for r in ff.fact["installed"])
            elif "lock" in ff.fact:
                sibling = view.files.get(path[: -len("composer.lock")] + "composer.json")
                manifest = sibling.fact.get("manifest") if sibling is not None else None
                direct = set(manifest["require"]) | set(manifest["require_dev"]) if manifest else None
                for r in ff.fact["lock"]:
                    indirect = direct is not None and r["name"] not in direct
                    pkgs.append(self._package(r, path, "declared", indirect))
        return Assembled(packages=pkgs)

    def _package(self, rec: dict[str, Any], path: str, kind: str, indirect: bool) -> Package:
        return Package("composer", rec["name"], rec["version"], ECOSYSTEM, composer_purl(rec["name"], rec["version"]),
                       self.name, (path,), licenses=tuple(rec["licenses"]), kind=kind, dev=rec["dev"],
                       indirect=indirect)
