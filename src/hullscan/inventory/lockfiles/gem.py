"""RubyGems: Bundler's Gemfile.lock (declared) and installed `specifications/*.gemspec` (installed).

Gemfile.lock is an indentation format: source sections (GEM, GIT, PATH, PLUGIN SOURCE) list
`    name (version[-platform])` at four spaces under `  specs:`; DEPENDENCIES lists the Gemfile's
direct requirements. Installed gemspecs are Ruby code written by RubyGems from a fixed template,
so the few assignments needed (name, version, license(s)) are read with patterns, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Warn = Callable[[str], None]

_SOURCE_SECTIONS = {"GEM": "rubygems", "GIT": "git", "PATH": "path", "PLUGIN SOURCE": "plugin"}
_SPEC = re.compile(r"^    (\S+) \(([^)]+)\)\s*$")
_DEP = re.compile(r"^  (\S+?)!?(?: \(.*\))?\s*$")


def parse_gemfile_lock(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """[{name, version, platform, source, indirect}] from the source sections of a Gemfile.lock."""
    text = data.decode("utf-8", "replace")
    section = ""
    gems: list[dict[str, Any]] = []
    direct: set[str] = set()
    saw_section = False
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.strip()
            saw_section = True
            continue
        if section in _SOURCE_SECTIONS:
            m = _SPEC.match(line)
            if m:
                name, full = m.groups()
                version, _, platform = full.partition("-")  # gem versions carry no '-': the rest is the platform
                gems.append({"name": name, "version": version, "platform": platform,
                             "source": _SOURCE_SECTIONS[section]})
        elif section == "DEPENDENCIES":
            m = _DEP.match(line)
            if m:
                direct.add(m.group(1))
    if not saw_section:
        warn("not a Gemfile.lock: no sections")
        return []
    seen: set[tuple[str, str, str]] = set()
    out = []
    for g in gems:
        key = (g["name"], g["version"], g["platform"])
        if key in seen:
            continue
        seen.add(key)
        g["indirect"] = bool(direct) and g["name"] not in direct
        out.append(g)
    return out


_ASSIGN = r"^\s*\w+\.{field}\s*=\s*(.+?)\s*(?:#.*)?$"
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')


def _strings(expr: str) -> list[str]:
    return [a if a or not b else b for a, b in _STRING.findall(expr)]


def _field(text: str, field: str) -> str | None:
    m = re.search(_ASSIGN.format(field=field), text, re.MULTILINE)
    return m.group(1) if m else None


def parse_gemspec(data: bytes, warn: Warn) -> dict[str, Any] | None:
    """{name, version, licenses} of an installed gemspec, or None (with a warning) when unreadable."""
    text = data.decode("utf-8", "replace")
    name_expr, version_expr = _field(text, "name"), _field(text, "version")
    name = (_strings(name_expr) or [""])[0] if name_expr else ""
    version = (_strings(version_expr) or [""])[0] if version_expr else ""
    if not (name and version):
        stub = re.search(r"^# stub: (\S+) (\S+)", text, re.MULTILINE)  # RubyGems' stub header line
        if stub:
            name, version = name or stub.group(1), version or stub.group(2)
    if not (name and version):
        warn("gemspec without a literal name and version")
        return None
    licenses: list[str] = []
    for fld in ("licenses", "license"):
        expr = _field(text, fld)
        if expr:
            licenses.extend(_strings(expr))
    return {"name": name, "version": version, "licenses": list(dict.fromkeys(licenses))}
