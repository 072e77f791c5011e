"""`Pipfile.lock` (pipenv, JSON): `default` are runtime packages, `develop` development ones."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.declared import as_dict, record
from hullscan.inventory.lockfiles.load import load_json
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    doc = load_json(data, "Pipfile.lock JSON", warn)
    if not isinstance(doc, dict):
        if doc is not None:
            warn("Pipfile.lock is not a JSON object")
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for section, dev in (("default", False), ("develop", True)):
        entries = as_dict(doc.get(section))
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
