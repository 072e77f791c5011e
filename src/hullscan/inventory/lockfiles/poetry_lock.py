"""`poetry.lock` (TOML, lock-version 1.x and 2.x).

Dev packages: `category = "dev"` (1.x) or `groups` without `main` (2.x). Direct packages are the
ones no other locked package depends on (the lockfile does not record the project's own
requirements; the analyzer may refine with `pyproject.toml`)."""

from __future__ import annotations

import tomllib
from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import record
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    try:
        doc = tomllib.loads(data.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        warn(f"malformed poetry.lock TOML: {exc}")
        return []
    out: list[dict[str, Any]] = []
    depended: set[str] = set()
    for pkg in doc.get("package") or []:
        if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
            continue
        deps = [canonicalize_name(d) for d in (pkg.get("dependencies") or {})]
        depended.update(deps)
        groups = pkg.get("groups")
        if isinstance(groups, list) and groups:
            dev = "main" not in groups
        else:
            dev = pkg.get("category") == "dev"
        out.append(record(canonicalize_name(pkg["name"]), str(pkg["version"]), dev=dev, deps=deps))
    for rec in out:
        rec["indirect"] = rec["name"] in depended
    return out
