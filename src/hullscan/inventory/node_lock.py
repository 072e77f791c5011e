"""npm-ecosystem lockfiles as *declared* packages: `package-lock.json` / `npm-shrinkwrap.json`
(v1–v3), `yarn.lock` (classic and berry), `pnpm-lock.yaml` (v5–v9), `bun.lock`.

The project's own `package.json` beside a lockfile (outside node_modules) is read too: it names the
project (reported with relationship `root`) and, for yarn, whose lockfile records no flags, its
dependencies/devDependencies are the roots from which dev and indirect flags are derived."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hullscan.inventory.lockfiles import bun_lock, npm_lock, pnpm_lock, yarn_lock
from hullscan.inventory.lockfiles.declared import declared_package, flag_by_graph
from hullscan.inventory.node_package import npm_licenses, npm_purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, MiB, PathHints, WarnFn

_LOCKS: dict[str, tuple[str, Callable[[bytes, WarnFn], Any]]] = {
    "package-lock.json": ("npm", npm_lock.parse),
    "npm-shrinkwrap.json": ("npm", npm_lock.parse),
    "yarn.lock": ("yarn", yarn_lock.parse),
    "pnpm-lock.yaml": ("pnpm", pnpm_lock.parse),
    "bun.lock": ("bun", bun_lock.parse),
}


class NodeLockAnalyzer(Analyzer):
    """Declared npm dependencies from lockfiles."""

    hints = PathHints(names=frozenset({*_LOCKS, "package.json"}))
    name = "node-lock"
    version = 1
    max_size = 64 * MiB  # monorepo lockfiles reach tens of MiB

    def wants(self, path: str, size: int, mode: int) -> bool:
        if "/node_modules/" in path:
            return False  # installed copies are the node-package analyzer's; .package-lock.json is npm's cache
        base = path.rsplit("/", 1)[-1]
        return base in _LOCKS or (base == "package.json" and size <= 4 * MiB)

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        base = path.rsplit("/", 1)[-1]
        if base == "package.json":
            return _manifest(data)
        kind, parse = _LOCKS[base]
        try:
            result = parse(data, warn)
        except Exception as exc:  # a parser bug on hostile input must not stop the scan
            warn(f"cannot parse {kind} lockfile: {type(exc).__name__}: {exc}")
            return None
        if isinstance(result, dict):  # yarn: packages plus the pattern map
            return {"format": kind, **result} if result.get("packages") else None
        for rec in result:
            rec.pop("deps", None)  # edges already used; keep cached facts small
        return {"format": kind, "packages": result} if result else None

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


def _manifest(data: bytes) -> Any:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None  # a broken project manifest only loses flags; the lockfile still counts
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


def _yarn_flags(records: list[dict[str, Any]], patterns: dict[str, str], manifest: dict[str, Any] | None) -> None:
    if not manifest:
        return
    roots = lambda deps: [i for i in (yarn_lock.resolve(patterns, f"{n}@{r}") for n, r in deps.items()) if i]  # noqa: E731
    flag_by_graph(records, roots(manifest.get("prod") or {}), roots(manifest.get("dev") or {}))
    for rec in records:
        rec.pop("deps", None)
