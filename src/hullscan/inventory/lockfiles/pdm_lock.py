"""`pdm.lock` (TOML): every `[[package]]` is pinned; `groups` without `default` are dev groups."""

from __future__ import annotations

import re
from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import as_list, per_entry, record
from hullscan.inventory.lockfiles.load import load_toml
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_toml(data.decode("utf-8", errors="replace"), "pdm.lock TOML", warn)
    return per_entry(as_list(doc.get("package")), _package, "pdm.lock [[package]]", warn)


def _package(pkg: Any) -> dict[str, Any] | None:
    if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
        return None
    groups = pkg.get("groups")
    dev = isinstance(groups, list) and bool(groups) and "default" not in groups
    deps = [re.split(r"[\s<>=!~;\[(]", d, maxsplit=1)[0] for d in as_list(pkg.get("dependencies")) if isinstance(d, str)]
    name = canonicalize_name(pkg["name"])
    return record(name, str(pkg["version"]), dev=dev, deps=[canonicalize_name(d) for d in deps if d])
