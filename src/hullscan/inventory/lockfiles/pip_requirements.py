"""Pinned `requirements*.txt` (pip's requirements-file format): only `name==version` lines are
packages; ranges, URLs, editables and options are not a resolved version and are left out."""

from __future__ import annotations

import codecs
import re
from typing import Any

from hullscan.inventory.lockfiles.declared import record
from hullscan.walk.analyzer import WarnFn

_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*"
    r"(?P<op>===|==)\s*(?P<version>[^\s;,#\\]+)\s*(?P<rest>.*)$"
)


def decode(data: bytes) -> str:
    """Text of a requirements file: UTF-8 (with or without BOM) or UTF-16 with a BOM, as pip reads it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    text = decode(data)
    out: list[dict[str, Any]] = []
    # Join continuation lines first (pip does this before stripping comments).
    text = re.sub(r"\\\r?\n", " ", text)
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("-"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        rest = m.group("rest").strip()
        # A second specifier (`==1.0,<2`) or a wildcard is not one pinned version.
        if rest.startswith(",") or "*" in m.group("version"):
            continue
        out.append(record(m.group("name"), m.group("version")))
    return out
