"""`pylock.toml` / `pylock.NAME.toml` (PEP 751, TOML): `[[packages]]` with name and version.

PEP 751 records no dev/indirect flags per package (groups are a whole-lockfile property), so none are set."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.declared import as_list, per_entry, record
from hullscan.inventory.lockfiles.load import load_toml
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_toml(data.decode("utf-8", errors="replace"), "pylock TOML", warn)
    return per_entry(as_list(doc.get("packages")), _package, "pylock [[packages]]", warn)


def _package(pkg: Any) -> dict[str, Any] | None:
    if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("version"):
        return None  # VCS/directory packages may omit the version
    deps = [canonicalize_name(d["name"]) for d in as_list(pkg.get("dependencies")) if isinstance(d, dict) and d.get("name")]
    return record(canonicalize_name(pkg["name"]), str(pkg["version"]), deps=deps)
