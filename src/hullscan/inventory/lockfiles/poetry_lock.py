"""`poetry.lock` (TOML, lock-version 1.x and 2.x).

Dev packages: `category = "dev"` (1.x) or `groups` without `main` (2.x). Direct packages are the
ones no other locked package depends on (the lockfile does not record the project's own
requirements; the analyzer may refine with `pyproject.toml`)."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import as_dict, as_list, per_entry, record
from hullscan.inventory.lockfiles.load import load_toml
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_toml(data.decode("utf-8", errors="replace"), "poetry.lock TOML", warn)
    out = per_entry(as_list(doc.get("package")), _package, "poetry.lock [[package]]", warn)
    depended = {d for rec in out for d in rec.get("deps", ())}
    for rec in out:
        rec["indirect"] = rec["name"] in depended
    return out


def _package(pkg: Any) -> dict[str, Any] | None:
    if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
        return None
    deps = [canonicalize_name(d) for d in as_dict(pkg.get("dependencies"))]
    groups = pkg.get("groups")
    if isinstance(groups, list) and groups:
        dev = "main" not in groups
    else:
        dev = pkg.get("category") == "dev"
    return record(canonicalize_name(pkg["name"]), str(pkg["version"]), dev=dev, deps=deps)
