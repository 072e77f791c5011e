"""`Pipfile.lock` (pipenv, JSON): `default` are runtime packages, `develop` development ones."""

from __future__ import annotations

import json
from typing import Any

from hullscan.inventory.lockfiles.declared import record
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        warn(f"malformed Pipfile.lock JSON: {exc}")
        return []
    if not isinstance(doc, dict):
        warn("Pipfile.lock is not a JSON object")
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for section, dev in (("default", False), ("develop", True)):
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            continue
        for name, spec in entries.items():
            if not isinstance(spec, dict):
                continue
            version = str(spec.get("version") or "")
            if not version.startswith("=="):
                continue  # git/path/editable entries have no registry version
            version = version[2:].lstrip("=")
            if name in seen:
                continue  # both sections: the runtime entry wins
            seen.add(name)
            out.append(record(name, version, dev=dev))
    return out
