"""Installed npm packages: every `node_modules/<name>/package.json` and
`node_modules/@scope/<name>/package.json`, wherever it is (nested copies and pnpm's
`.pnpm/<id>/node_modules/<name>` store each count at their own path), and Debian's node-* packages
under /usr/share/nodejs/ and /usr/lib/nodejs/ (owned by dpkg, so marked `owned_by`)."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.load import load_json
from hullscan.inventory.lockfiles.spdx import to_spdx
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

_DISTRO_ROOTS = ("/usr/share/nodejs/", "/usr/lib/nodejs/")


def npm_licenses(manifest: dict[str, Any]) -> list[str]:
    """`license` (SPDX string, or the old `{type}` object) and the deprecated `licenses` list."""
    out: list[str] = []
    lic = manifest.get("license")
    items = [lic] if lic else []
    if isinstance(manifest.get("licenses"), list):
        items.extend(manifest["licenses"])
    for item in items:
        value = item.get("type") if isinstance(item, dict) else item
        if isinstance(value, str):
            spdx = to_spdx(value.strip("()") if value.count("(") == 1 and value.startswith("(") and value.endswith(")") else value)
            if spdx and spdx not in out:
                out.append(spdx)
    return out


def npm_purl(name: str, version: str) -> str:
    namespace, _, short = name.rpartition("/")
    return purl("npm", short, version, namespace)


def _parse_manifest(path: str, data: bytes, warn: WarnFn) -> Any:
    doc = load_json(data, "package.json", warn)
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None  # stubs and partial manifests describe no installable version
    fact: dict[str, Any] = {"name": name.strip(), "version": version.strip(), "licenses": npm_licenses(doc)}
    if doc.get("private") is True:
        fact["private"] = True
    return fact


class NodePackageAnalyzer(Analyzer):
    """npm packages installed under node_modules."""

    name = "node-package"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    # Only a package's own manifest, <name>/package.json (scoped: @s/<name>/package.json), below the
    # last node_modules of its path — or, for Debian's node-* packages, below a distro root.
    files = (
        FileRule(
            globs=("**/node_modules/*/package.json", "**/node_modules/@*/*/package.json"),
            exclude=("**/node_modules/package.json", "**/node_modules/@*/package.json", "**/node_modules/.bin/package.json"),
            parse=_parse_manifest,
        ),
        FileRule(
            globs=tuple(g for root in _DISTRO_ROOTS for g in (f"{root}*/package.json", f"{root}@*/*/package.json")),
            exclude=("**/node_modules/**",
                     *(g for root in _DISTRO_ROOTS for g in (f"{root}@*/package.json", f"{root}.bin/package.json"))),
            parse=_parse_manifest,
        ),
    )
    max_size = 4 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            f = ff.fact
            pkgs.append(
                Package(
                    type="npm",
                    name=f["name"],
                    version=f["version"],
                    ecosystem="npm",
                    purl=npm_purl(f["name"], f["version"]),
                    analyzer=self.name,
                    paths=(path,),
                    licenses=tuple(f.get("licenses") or ()),
                    kind="installed",
                    extra={"private": True} if f.get("private") else {},
                )
            )
        return Assembled(packages=pkgs)
