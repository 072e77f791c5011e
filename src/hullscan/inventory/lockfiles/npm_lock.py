"""`package-lock.json` / `npm-shrinkwrap.json`, lockfileVersion 1 (nested `dependencies`) and 2/3
(flat `packages` keyed by install path). npm records `dev` per entry; direct dependencies are the
root's (and workspaces') declared ones installed at the top of `node_modules`."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.declared import as_dict, record
from hullscan.inventory.lockfiles.load import load_json
from hullscan.inventory.lockfiles.spdx import to_spdx
from hullscan.walk.analyzer import WarnFn

_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def _registry_version(version: Any) -> str:
    """A registry version, or '' for git/file/tarball/link references."""
    v = str(version or "")
    if v.startswith("npm:"):  # alias `npm:real@1.2.3`
        v = v.rsplit("@", 1)[-1]
    return v if v[:1].isdigit() else ""


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_json(data, "package-lock JSON", warn)
    if not isinstance(doc, dict):
        if doc is not None:
            warn("package-lock is not a JSON object")
        return []
    version = str(doc.get("lockfileVersion") or 0)
    if isinstance(doc.get("packages"), dict) and version.isdecimal() and len(version) < 4 and int(version) >= 2:
        return _v2(doc["packages"])
    if isinstance(doc.get("dependencies"), dict):
        return _v1(doc["dependencies"])
    return []


def _v2(packages: dict[str, Any]) -> list[dict[str, Any]]:
    direct: set[str] = set()
    for path, entry in packages.items():
        # The root ("") and workspace members (paths outside node_modules) declare direct deps.
        if isinstance(entry, dict) and "node_modules/" not in path:
            for field in _DEP_FIELDS:
                direct.update(k for k in as_dict(entry.get(field)) if isinstance(k, str))
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for path, entry in packages.items():
        if not path or "node_modules/" not in path or not isinstance(entry, dict) or entry.get("link"):
            continue
        name = entry.get("name") or path.rsplit("node_modules/", 1)[-1]
        version = _registry_version(entry.get("version"))
        if not version:
            continue
        top = path.count("node_modules/") == 1 and path.startswith("node_modules/")
        is_direct = top and path[len("node_modules/"):] in direct
        rec = record(
            name, version,
            dev=bool(entry.get("dev")),
            indirect=not is_direct,
            licenses=[to_spdx(entry["license"])] if isinstance(entry.get("license"), str) else [],
            deps=list(as_dict(entry.get("dependencies"))),
        )
        _merge(merged, rec)
    return list(merged.values())


def _v1(deps: dict[str, Any]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}

    def walk(level: dict[str, Any], depth: int) -> None:
        for name, entry in level.items():
            if not isinstance(entry, dict):
                continue
            name = name.rsplit("node_modules/", 1)[-1]  # a few v1 files key entries by install path
            version = _registry_version(entry.get("version"))
            if version:
                # v1 does not list the project's own dependencies; nested copies are surely indirect.
                rec = record(name, version, dev=bool(entry.get("dev")), indirect=depth > 0,
                             deps=list(as_dict(entry.get("requires"))))
                if depth == 0:
                    rec["top"] = True  # direct or hoisted: the project's package.json decides
                _merge(merged, rec)
            if isinstance(entry.get("dependencies"), dict):
                walk(entry["dependencies"], depth + 1)

    walk(deps, 0)
    return list(merged.values())


def _merge(merged: dict[tuple[str, str], dict[str, Any]], rec: dict[str, Any]) -> None:
    """One record per name@version: dev only if every copy is dev, indirect only if every copy is."""
    key = (rec["name"], rec["version"])
    old = merged.get(key)
    if old is None:
        merged[key] = rec
        return
    old["dev"] = old["dev"] and rec["dev"]
    old["indirect"] = old["indirect"] and rec["indirect"]
