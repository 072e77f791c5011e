"""`pdm.lock` (TOML): every `[[package]]` is pinned; `groups` without `default` are dev groups."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import record
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    try:
        doc = tomllib.loads(data.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        warn(f"malformed pdm.lock TOML: {exc}")
        return []
    out: list[dict[str, Any]] = []
    for pkg in doc.get("package") or []:
        if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
            continue
        groups = pkg.get("groups")
        dev = isinstance(groups, list) and bool(groups) and "default" not in groups
        deps = [re.split(r"[\s<>=!~;\[(]", d, maxsplit=1)[0] for d in pkg.get("dependencies") or [] if isinstance(d, str)]
        name = canonicalize_name(pkg["name"])
        out.append(record(name, str(pkg["version"]), dev=dev, deps=[canonicalize_name(d) for d in deps if d]))
    return out
