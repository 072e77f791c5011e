"""`pylock.toml` / `pylock.NAME.toml` (PEP 751, TOML): `[[packages]]` with name and version.

PEP 751 records no dev/indirect flags per package (groups are a whole-lockfile property), so none are set."""

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
        warn(f"malformed pylock TOML: {exc}")
        return []
    out: list[dict[str, Any]] = []
    for pkg in doc.get("packages") or []:
        if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
            continue  # VCS/directory packages may omit the version
        deps = [canonicalize_name(d["name"]) for d in pkg.get("dependencies") or [] if isinstance(d, dict) and d.get("name")]
        out.append(record(canonicalize_name(pkg["name"]), str(pkg["version"]), deps=deps))
    return out
