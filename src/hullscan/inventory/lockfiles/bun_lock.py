"""`bun.lock` (text lockfile, JSONC, lockfileVersion 0/1).

`workspaces` holds each workspace's declared dependencies (dev ones under `devDependencies`);
`packages` maps an install key (`name`, or `parent/name` for a non-hoisted copy) to
`["name@version", registry, {dependencies…}, integrity]`. Flags come from walking that graph."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles import jsonc
from hullscan.inventory.lockfiles.declared import as_dict, flag_by_graph, record
from hullscan.inventory.lockfiles.load import load_json
from hullscan.walk.analyzer import WarnFn

_PROD = ("dependencies", "optionalDependencies", "peerDependencies")


def split_spec(spec: str) -> tuple[str, str]:
    """`@scope/name@1.2.3` → (`@scope/name`, `1.2.3`)."""
    at = spec.rfind("@")
    if at <= 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_json(jsonc.strip(data.decode("utf-8-sig", errors="replace")), "bun.lock (JSONC)", warn)
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), dict):
        warn("bun.lock has no packages table")
        return []
    packages: dict[str, Any] = doc["packages"]

    def resolve(parent: str, dep: str) -> str | None:
        # bun's lookup: the closest copy, walking up from the dependent's own key.
        scope = parent
        while scope:
            if f"{scope}/{dep}" in packages:
                return f"{scope}/{dep}"
            scope = scope.rsplit("/", 1)[0] if "/" in scope else ""
            if scope.startswith("@") and "/" not in scope:  # don't stop inside a scoped name
                scope = ""
        return dep if dep in packages else None

    recs: list[dict[str, Any]] = []
    for key, entry in packages.items():
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
            continue
        name, version = split_spec(entry[0])
        if not version or not version[:1].isdigit():
            continue  # workspace:, file:, link:, git and tarball references
        meta = next((e for e in entry[1:] if isinstance(e, dict)), {})
        deps: list[str] = []
        for field in (*_PROD, "devDependencies"):
            for dep in as_dict(meta.get(field)):
                target = resolve(key, dep)
                if target:
                    deps.append(target)
        rec = record(name, version, deps=deps)
        rec["id"] = key
        recs.append(rec)
    prod: list[str] = []
    dev: list[str] = []
    for ws in as_dict(doc.get("workspaces")).values():
        if not isinstance(ws, dict):
            continue
        for field in _PROD:
            prod.extend(d for d in as_dict(ws.get(field)) if d in packages)
        dev.extend(d for d in as_dict(ws.get("devDependencies")) if d in packages)
    flag_by_graph(recs, prod, dev)
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in recs:
        rec.pop("id")
        k = (rec["name"], rec["version"])
        if k in merged:
            merged[k]["dev"] = merged[k]["dev"] and rec["dev"]
            merged[k]["indirect"] = merged[k]["indirect"] and rec["indirect"]
        else:
            merged[k] = rec
    return list(merged.values())
