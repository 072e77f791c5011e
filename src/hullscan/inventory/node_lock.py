"""npm-ecosystem lockfiles as *declared* packages: `package-lock.json` / `npm-shrinkwrap.json`
(v1–v3), `yarn.lock` (classic and berry), `pnpm-lock.yaml` (v5–v9), `bun.lock`.

The project's own `package.json` beside a lockfile (outside node_modules) is read too: it names the
project (reported with relationship `root`) and, for yarn, whose lockfile records no flags, its
dependencies/devDependencies are the roots from which dev and indirect flags are derived."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hullscan.inventory.lockfiles import bun_lock, npm_lock, pnpm_lock, yarn_lock
from hullscan.inventory.lockfiles.declared import declared_package, flag_by_graph
from hullscan.inventory.lockfiles.load import load_json
from hullscan.inventory.node_package import npm_licenses, npm_purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, Parser, WarnFn


def _lockfile(kind: str, parse: Callable[[bytes, WarnFn], Any]) -> Parser:
    def parse_lockfile(path: str, data: bytes, warn: WarnFn) -> Any:
        result = parse(data, warn)
        if isinstance(result, dict):  # yarn: packages plus the pattern map
            return {"format": kind, **result} if result.get("packages") else None
        for rec in result:
            rec.pop("deps", None)  # edges already used; keep cached facts small
        return {"format": kind, "packages": result} if result else None

    return parse_lockfile


def _manifest(path: str, data: bytes, warn: WarnFn) -> Any:
    """The project's own package.json: its name and declared dependencies."""
    # a broken project manifest only loses flags, without a warning: the lockfile still counts
    doc = load_json(data, "package.json", lambda message: None)
    if not isinstance(doc, dict):
        return None
    deps = lambda field: {k: str(v) for k, v in (doc.get(field) or {}).items()} if isinstance(doc.get(field), dict) else {}  # noqa: E731
    return {
        "name": doc.get("name") if isinstance(doc.get("name"), str) else "",
        "version": doc.get("version") if isinstance(doc.get("version"), str) else "",
        "licenses": npm_licenses(doc),
        "prod": {**deps("dependencies"), **deps("optionalDependencies"), **deps("peerDependencies")},
        "dev": deps("devDependencies"),
    }


# Installed copies are the node-package analyzer's; .package-lock.json is npm's cache.
_NOT_INSTALLED = ("**/node_modules/**",)


class NodeLockAnalyzer(Analyzer):
    """Declared npm dependencies from lockfiles."""

    name = "node-lock"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(names=("package-lock.json", "npm-shrinkwrap.json"), exclude=_NOT_INSTALLED,
                 parse=_lockfile("npm", npm_lock.parse)),
        FileRule(names=("yarn.lock",), exclude=_NOT_INSTALLED, parse=_lockfile("yarn", yarn_lock.parse)),
        FileRule(names=("pnpm-lock.yaml",), exclude=_NOT_INSTALLED, parse=_lockfile("pnpm", pnpm_lock.parse)),
        FileRule(names=("bun.lock",), exclude=_NOT_INSTALLED, parse=_lockfile("bun", bun_lock.parse)),
        FileRule(names=("package.json",), max_size=4 * MiB, exclude=_NOT_INSTALLED, parse=_manifest),
    )
    max_size = 64 * MiB  # monorepo lockfiles reach tens of MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            fact = ff.fact
            if "format" not in fact:
                continue
            directory = path.rsplit("/", 1)[0]
            manifest_ff = view.files.get(f"{directory}/package.json")
            manifest = manifest_ff.fact if manifest_ff is not None else None
            records = [dict(r) for r in fact["packages"]]
            if fact["format"] == "yarn":
                _yarn_flags(records, fact.get("patterns") or {}, manifest)
            elif fact["format"] == "npm" and manifest:
                # lockfile v1 does not record the project's own dependencies: hoisted ones are indirect
                declared = set(manifest.get("prod") or {}) | set(manifest.get("dev") or {})
                for rec in records:
                    if rec.get("top") and rec["name"] not in declared:
                        rec["indirect"] = True
            if manifest and manifest.get("name") and manifest.get("version"):
                records.insert(0, {"name": manifest["name"], "version": manifest["version"], "root": True,
                                   "licenses": manifest.get("licenses") or []})
            pkgs += [
                declared_package(rec, type="npm", ecosystem="npm", name=rec["name"], analyzer=self.name, path=path,
                                 purl=npm_purl(rec["name"], rec["version"]), lockfile=fact["format"])
                for rec in records
            ]
        return Assembled(packages=pkgs)


def _yarn_flags(records: list[dict[str, Any]], patterns: dict[str, str], manifest: dict[str, Any] | None) -> None:
    if not manifest:
        return
    roots = lambda deps: [i for i in (yarn_lock.resolve(patterns, f"{n}@{r}") for n, r in deps.items()) if i]  # noqa: E731
    flag_by_graph(records, roots(manifest.get("prod") or {}), roots(manifest.get("dev") or {}))
    for rec in records:
        rec.pop("deps", None)
