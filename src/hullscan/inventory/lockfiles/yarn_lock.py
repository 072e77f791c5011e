"""`yarn.lock`: classic v1 (yarn's own indented format) and berry v2+ (YAML with `__metadata`).

Neither records dev or direct flags: each entry maps its *patterns* (`name@range`) to one resolved
version, so the parser returns the pattern → id map and the dependency edges, and the analyzer walks
them from the sibling `package.json`'s dependencies (`flag_by_graph`)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from hullscan.inventory.lockfiles.declared import as_dict, record, yaml_documents
from hullscan.walk.analyzer import WarnFn


def split_pattern(pattern: str) -> tuple[str, str]:
    """`@scope/name@^1.0.0` → (`@scope/name`, `^1.0.0`); `name@npm:^1` keeps the protocol in the range."""
    pattern = pattern.strip().strip('"')
    at = pattern.find("@", 1)
    if at < 0:
        return pattern, ""
    return pattern[:at], pattern[at + 1 :]


def parse(data: bytes, warn: WarnFn) -> dict[str, Any]:
    """→ {"packages": [records with id and deps (ids)], "patterns": {pattern: id}}."""
    text = data.decode("utf-8-sig", errors="replace")
    if "__metadata:" in text:
        entries = _berry(text, warn)
    else:
        entries = _classic(text, warn)
    patterns: dict[str, str] = {}
    recs: dict[str, dict[str, Any]] = {}
    raw_deps: dict[str, list[str]] = {}
    for pats, version, deps, name_hint in entries:
        if not pats:
            continue
        name = name_hint or split_pattern(pats[0])[0]
        alias = split_pattern(pats[0])[1]
        if not name_hint and alias.startswith("npm:") and alias.find("@", 5) > 0:
            name = split_pattern(alias[4:])[0]  # `alias@npm:real@^1`: the installed package is `real`
        if not version or not version[:1].isdigit():
            continue
        ident = f"{name}@{version}"
        for p in pats:
            patterns[p] = ident
        if ident not in recs:
            recs[ident] = record(name, version)
            recs[ident]["id"] = ident
            raw_deps[ident] = []
        raw_deps[ident].extend(deps)
    for ident, deps in raw_deps.items():
        ids = [resolve(patterns, d) for d in deps]
        recs[ident]["deps"] = sorted({i for i in ids if i})
    return {"packages": list(recs.values()), "patterns": patterns}


def resolve(patterns: dict[str, str], pattern: str) -> str | None:
    """The id a `name@range` dependency resolved to (berry writes ranges without protocol as `npm:`)."""
    if pattern in patterns:
        return patterns[pattern]
    name, rng = split_pattern(pattern)
    return patterns.get(f"{name}@npm:{rng}")


_HEADER = re.compile(r"^(\S.*):\s*$")


def _classic(text: str, warn: WarnFn) -> list[tuple[list[str], str, list[str], str]]:
    entries: list[tuple[list[str], str, list[str], str]] = []
    pats: list[str] = []
    version = ""
    deps: list[str] = []
    in_deps = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            if pats:
                entries.append((pats, version, deps, ""))
            m = _HEADER.match(line)
            if not m:
                warn(f"yarn.lock line {lineno}: unexpected text")
                pats = []
                continue
            pats = [p.strip().strip('"') for p in m.group(1).split(",") if p.strip()]
            version, deps, in_deps = "", [], False
            continue
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if indent <= 2:
            key, _, value = stripped.partition(" ")
            key = key.strip('"')
            in_deps = key.rstrip(":") in ("dependencies", "optionalDependencies") and not value
            if key == "version":
                version = value.strip().strip('"')
        elif in_deps:
            parts = stripped.split(None, 1)
            if len(parts) == 2:
                deps.append(f"{parts[0].strip(chr(34))}@{parts[1].strip().strip(chr(34))}")
    if pats:
        entries.append((pats, version, deps, ""))
    return entries


def _berry(text: str, warn: WarnFn) -> list[tuple[list[str], str, list[str], str]]:
    try:
        docs = yaml_documents(text)
        doc = docs[0] if docs else None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: an int over 4,300 digits
        warn(f"malformed yarn.lock (berry YAML): {exc}")
        return []
    if not isinstance(doc, dict):
        warn("yarn.lock (berry) is not a YAML mapping")
        return []
    entries: list[tuple[list[str], str, list[str], str]] = []
    for key, entry in doc.items():
        if key == "__metadata" or not isinstance(entry, dict):
            continue
        pats = [p.strip() for p in str(key).split(",") if p.strip()]
        resolution = str(entry.get("resolution") or "")
        if "@workspace:" in resolution or "@link:" in resolution or "@portal:" in resolution:
            continue  # the project itself, or a local link: not a registry package
        name = split_pattern(resolution)[0] if resolution else ""
        deps = [f"{d}@{r}" for d, r in as_dict(entry.get("dependencies")).items()]
        deps += [f"{d}@{r}" for d, r in as_dict(entry.get("optionalDependencies")).items()]
        entries.append((pats, str(entry.get("version") or ""), deps, name))
    return entries
