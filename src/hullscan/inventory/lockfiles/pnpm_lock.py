"""`pnpm-lock.yaml`, lockfileVersion 5.x, 6.x, 7/8 (written as 6.x) and 9.x.

Package keys: v5 `/name/1.0.0[_peers]`, v6 `/name@1.0.0[(peers)]`, v9 `name@1.0.0[(peers)]` with
dependencies in `snapshots`. The project's (importers') dependencies and devDependencies are the
roots; dev/indirect come from walking the graph (v5/v6 also say `dev:` per package). A file holding
several YAML documents (pnpm's `env` lockfile prefix) is read document by document."""

from __future__ import annotations

import re
from typing import Any

import yaml

from hullscan.inventory.lockfiles.declared import as_dict, flag_by_graph, record, yaml_documents
from hullscan.walk.analyzer import WarnFn

_PEER = re.compile(r"\(.*$")


def parse_key(key: str, major: int) -> tuple[str, str]:
    """A packages key → (name, version); version '' for non-registry keys."""
    k = _PEER.sub("", key.lstrip("/"))
    if major < 6:
        # v5: `/name/1.0.0[_peers]`, `/@scope/name/1.0.0[_react@16.0.0]`
        parts = k.split("/")
        n = 2 if parts[0].startswith("@") else 1
        if len(parts) == n + 1:
            return "/".join(parts[:n]), parts[n].split("_", 1)[0]
        if len(parts) == n and "@" in k[1:]:  # a v6-style key in a 5.x file
            at = k.rfind("@")
            return k[:at], k[at + 1 :]
        return k, ""
    at = k.rfind("@")
    return (k[:at], k[at + 1 :]) if at > 0 else (k, "")


def _ref(name: str, ref: Any, major: int) -> str | None:
    """A dependency reference (`1.0.0`, `1.0.0(peer)`, `/other/1.0.0`, `link:..`) → package id."""
    if isinstance(ref, dict):
        ref = ref.get("version")
    r = _PEER.sub("", str(ref or ""))
    if major < 6:
        r = r.split("_", 1)[0]
    if not r or r.startswith(("link:", "file:")):
        return None
    if r[:1].isdigit():
        return f"{name}@{r}"
    if r.startswith("/") or "@" in r[1:]:
        n, v = parse_key(r, major if r.startswith("/") else 9)
        return f"{n}@{v}" if v else None
    return None


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml_documents(data.decode("utf-8-sig", errors="replace")) if isinstance(d, dict)]
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: an int over 4,300 digits
        warn(f"malformed pnpm-lock.yaml: {exc}")
        return []
    doc = next((d for d in docs if "packages" in d or "importers" in d), None)
    if doc is None:
        if not docs:
            warn("pnpm-lock.yaml holds no YAML mapping")
        return []
    try:
        major = int(float(str(doc.get("lockfileVersion", "5")).strip("'\"")))
    except ValueError:
        warn(f"unknown pnpm lockfileVersion {doc.get('lockfileVersion')!r}")
        major = 6
    importers = i if isinstance(i := doc.get("importers"), dict) else {".": doc}
    prod: list[str] = []
    dev: list[str] = []
    for imp in importers.values():
        if not isinstance(imp, dict):
            continue
        for field, bucket in (("dependencies", prod), ("optionalDependencies", prod), ("devDependencies", dev)):
            for name, ref in as_dict(imp.get(field)).items():
                ident = _ref(name, ref, major)
                if ident:
                    bucket.append(ident)
    snapshots: dict[str, list[dict[str, Any]]] = {}
    for skey, snap in (doc.get("snapshots") or {}).items() if isinstance(doc.get("snapshots"), dict) else ():
        if isinstance(snap, dict):
            snapshots.setdefault(_PEER.sub("", str(skey)), []).append(snap)
    recs: dict[str, dict[str, Any]] = {}
    for key, entry in as_dict(doc.get("packages")).items():
        entry = entry if isinstance(entry, dict) else {}
        name, version = parse_key(str(key), major)
        name = str(entry.get("name") or name)
        version = str(entry.get("version") or version)
        if not version[:1].isdigit():
            continue
        ident = f"{name}@{version}"
        deps: set[str] = set()
        sources = [entry, *snapshots.get(_PEER.sub("", str(key)), [])]
        for src in sources:
            for field in ("dependencies", "optionalDependencies"):
                for dn, dref in as_dict(src.get(field)).items():
                    d = _ref(dn, dref, major)
                    if d:
                        deps.add(d)
        rec = recs.get(ident)
        if rec is None:
            rec = record(name, version, dev=bool(entry.get("dev")), licenses=[])
            rec["id"] = ident
            recs[ident] = rec
        rec["deps"] = sorted(set(rec.get("deps", [])) | deps)
    # Importer dependencies missing from `packages` (trimmed lockfiles) are still resolved versions.
    for ident in dict.fromkeys([*prod, *dev]):
        if ident not in recs:
            name, _, version = ident.rpartition("@")
            if name and version[:1].isdigit():
                recs[ident] = record(name, version, dev=ident not in prod)
                recs[ident]["id"] = ident
    out = list(recs.values())
    if prod or dev:
        flag_by_graph(out, prod, dev)
    for rec in out:
        rec.pop("id")
    return out
