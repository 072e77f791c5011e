"""`uv.lock` (TOML). The project itself is the package whose source is `editable`/`virtual`
(several in a workspace); its `dependencies` are direct, its `dev-dependencies` /
`optional-dependencies` groups development ones, everything else reached through them indirect."""

from __future__ import annotations

import tomllib
from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import flag_by_graph, record
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    try:
        doc = tomllib.loads(data.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        warn(f"malformed uv.lock TOML: {exc}")
        return []
    out: list[dict[str, Any]] = []
    prod_roots: list[str] = []
    dev_roots: list[str] = []
    for pkg in doc.get("package") or []:
        if not isinstance(pkg, dict) or not pkg.get("name"):
            continue
        name = canonicalize_name(pkg["name"])
        version = str(pkg.get("version") or "")
        source = pkg.get("source") or {}
        is_root = isinstance(source, dict) and ("editable" in source or "virtual" in source)
        deps = [canonicalize_name(d["name"]) for d in pkg.get("dependencies") or [] if isinstance(d, dict) and d.get("name")]
        if is_root:
            prod_roots.extend(deps)
            for group in (pkg.get("dev-dependencies") or {}).values():
                dev_roots.extend(canonicalize_name(d["name"]) for d in group if isinstance(d, dict) and d.get("name"))
            for group in (pkg.get("optional-dependencies") or {}).values():
                prod_roots.extend(canonicalize_name(d["name"]) for d in group if isinstance(d, dict) and d.get("name"))
        if not version:
            continue  # a workspace member without a version is not a package version to match
        rec = record(name, version, deps=deps, root=is_root)
        rec["id"] = name
        out.append(rec)
    flag_by_graph(out, prod_roots, dev_roots)
    for rec in out:
        rec.pop("id", None)
    return out
