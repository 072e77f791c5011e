"""Cargo.lock, Cargo.toml and cargo-auditable (`.dep-v0`) dependency lists → plain crate records.

Records are `{name, version, source, id, deps: [id], root?, dev, indirect}` with `id` = `name@version`.
Cargo.lock records edges only; which crates are development-only comes from the sibling Cargo.toml
(`[dev-dependencies]`), and is propagated along the graph like Cargo does when building.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from hullscan.inventory.lockfiles.declared import as_list, per_entry
from hullscan.inventory.lockfiles.load import load_toml

Warn = Callable[[str], None]
MAX_AUDIT_JSON = 64 * 1024 * 1024


def _source_kind(source: str) -> str:
    if not source:
        return "local"
    if source.startswith("registry+https://github.com/rust-lang/crates.io-index") or source == (
        "sparse+https://index.crates.io/"
    ):
        return "crates.io"
    return source.split("+", 1)[0]  # git, registry (alternative registry), sparse, path


def parse_cargo_lock(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """[[package]] tables → records with resolved dependency ids."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        warn(f"unreadable Cargo.lock: {exc}")
        return []
    doc = load_toml(text, "Cargo.lock", warn)
    packages = doc.get("package")
    if not isinstance(packages, list):
        return []
    records = per_entry(packages, _lock_record, "Cargo.lock [[package]]", warn)
    by_name: dict[str, list[str]] = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(r["id"])
    for r in records:
        deps = []
        for spec in r.pop("raw_deps"):
            parts = spec.split()
            if len(parts) >= 2:
                deps.append(f"{parts[0]}@{parts[1]}")
            elif parts and len(by_name.get(parts[0], [])) == 1:
                deps.append(by_name[parts[0]][0])
        r["deps"] = sorted(set(deps))
    return records


def _lock_record(pkg: Any) -> dict[str, Any]:
    if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not isinstance(pkg.get("version"), str):
        raise ValueError("a [[package]] without name or version")
    source = pkg.get("source", "") if isinstance(pkg.get("source"), str) else ""
    return {"name": pkg["name"], "version": pkg["version"], "source": _source_kind(source),
            "id": f"{pkg['name']}@{pkg['version']}", "raw_deps": [str(d) for d in as_list(pkg.get("dependencies"))],
            "dev": False, "indirect": False}


def parse_cargo_toml(data: bytes, warn: Warn) -> dict[str, Any]:
    """{name, deps: [crate names], dev_deps: [crate names], workspace_members: [...]} of a manifest."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        warn(f"unreadable Cargo.toml: {exc}")
        return {}
    doc = load_toml(text, "Cargo.toml", warn, entries=False)
    if not doc:
        return {}
    tables: list[dict[str, Any]] = [doc]
    for target in (doc.get("target") or {}).values():
        if isinstance(target, dict):
            tables.append(target)

    def names(key: str) -> list[str]:
        out = set()
        for t in tables:
            deps = t.get(key)
            if isinstance(deps, dict):
                for alias, spec in deps.items():  # `alias = { package = "real-name" }`
                    real = spec.get("package") if isinstance(spec, dict) else None
                    out.add(real if isinstance(real, str) else alias)
        return sorted(out)

    pkg = p if isinstance(p := doc.get("package"), dict) else {}
    return {"name": pkg.get("name", ""), "deps": names("dependencies") + names("build-dependencies"),
            "dev_deps": names("dev-dependencies")}


def flag_cargo_graph(records: list[dict[str, Any]], manifest: dict[str, Any] | None) -> None:
    """Mark the root crate(s), `indirect` and `dev` in place.

    Roots are the local crates (no source) — the manifest's own package when there is one. A crate
    is dev when only dev-dependencies of the roots reach it."""
    by_id = {r["id"]: r for r in records}
    root_name = (manifest or {}).get("name", "")
    roots = [r for r in records if r["source"] == "local" and (not root_name or r["name"] == root_name)]
    if not roots:
        roots = [r for r in records if r["source"] == "local"]
    dev_names = set((manifest or {}).get("dev_deps", ())) - set((manifest or {}).get("deps", ()))
    prod_start: list[str] = []
    dev_start: list[str] = []
    for root in roots:
        root["root"] = True
        for dep in root["deps"]:
            (dev_start if by_id.get(dep, {}).get("name") in dev_names else prod_start).append(dep)
    direct = set(prod_start) | set(dev_start)
    prod, dev = _reach(by_id, prod_start), _reach(by_id, dev_start)
    for r in records:
        if r.get("root"):
            continue
        r["indirect"] = r["id"] not in direct if roots else False
        r["dev"] = r["id"] in dev and r["id"] not in prod


def _reach(by_id: dict[str, dict[str, Any]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        cur = stack.pop()
        if cur in seen or cur not in by_id:
            continue
        seen.add(cur)
        stack.extend(by_id[cur]["deps"])
    return seen


def parse_auditable(compressed: bytes) -> list[dict[str, Any]]:
    """cargo-auditable's `.dep-v0` section (zlib JSON) → records; raises ValueError when unreadable."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, MAX_AUDIT_JSON)
        if inflater.unconsumed_tail:
            raise ValueError("dependency list larger than 64 MiB")
        doc = json.loads(raw)
    except (zlib.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable .dep-v0 section: {exc}") from exc
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, list):
        raise ValueError(".dep-v0 has no packages list")
    records: list[dict[str, Any]] = []
    for pkg in packages:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not isinstance(pkg.get("version"), str):
            raise ValueError(".dep-v0 package without name or version")
        records.append({"name": pkg["name"], "version": pkg["version"], "source": str(pkg.get("source", "crates.io")),
                        "id": f"{pkg['name']}@{pkg['version']}", "kind": str(pkg.get("kind", "runtime")),
                        "dep_index": [d for d in pkg.get("dependencies") or [] if isinstance(d, int)],
                        "dev": False, "indirect": False})
        if pkg.get("root"):
            records[-1]["root"] = True
    for r in records:
        r["deps"] = sorted({records[i]["id"] for i in r.pop("dep_index") if 0 <= i < len(records)})
    roots = [r for r in records if r.get("root")]
    direct = {d for root in roots for d in root["deps"]}
    for r in records:
        if not r.get("root") and roots:
            r["indirect"] = r["id"] not in direct
    return records
