"""`uv.lock` (TOML). The project itself is the package whose source is `editable`/`virtual`
(several in a workspace); its `dependencies` are direct, its `dev-dependencies` /
`optional-dependencies` groups development ones, everything else reached through them indirect."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import as_dict, as_list, flag_by_graph, per_entry, record
from hullscan.inventory.lockfiles.load import load_toml
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_toml(data.decode("utf-8", errors="replace"), "uv.lock TOML", warn)
    entries = per_entry(as_list(doc.get("package")), _package, "uv.lock [[package]]", warn)
    out = [rec for rec, _, _ in entries if rec is not None]
    flag_by_graph(out, [n for _, prod, _ in entries for n in prod], [n for _, _, dev in entries for n in dev])
    for rec in out:
        rec.pop("id", None)
    return out


def _names(deps: Any) -> list[str]:
    return [canonicalize_name(d["name"]) for d in as_list(deps) if isinstance(d, dict) and d.get("name")]


def _package(pkg: Any) -> tuple[dict[str, Any] | None, list[str], list[str]] | None:
    """(the record, or None for a workspace member without a version; the production and development
    dependencies it declares when it is the project itself)."""
    if not isinstance(pkg, dict) or not pkg.get("name"):
        return None
    name = canonicalize_name(pkg["name"])
    version = str(pkg.get("version") or "")
    source = pkg.get("source") or {}
    is_root = isinstance(source, dict) and ("editable" in source or "virtual" in source)
    deps = _names(pkg.get("dependencies"))
    prod: list[str] = []
    dev: list[str] = []
    if is_root:
        prod.extend(deps)
        for group in as_dict(pkg.get("dev-dependencies")).values():
            dev.extend(_names(group))
        for group in as_dict(pkg.get("optional-dependencies")).values():
            prod.extend(_names(group))
    if not version:
        return None, prod, dev  # a workspace member without a version is not a package version to match
    rec = record(name, version, deps=deps, root=is_root)
    rec["id"] = name
    return rec, prod, dev
