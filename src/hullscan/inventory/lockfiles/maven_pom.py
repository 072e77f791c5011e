"""`pom.xml` / `*.pom` (Maven POM 4.0.0): what one file says, unresolved.

`parse` keeps coordinates, parent, properties, dependencyManagement and dependencies as written;
`resolve` then interpolates `${…}` and fills versions from managed dependencies through the parent
chain and imported BOMs, using the other POMs found in the same image (no network, no remote
repository: what the image does not hold stays unresolved and is left out)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hullscan.walk.analyzer import WarnFn

_PROP = re.compile(r"\$\{([^}]+)\}")


def read_xml(data: bytes, warn: WarnFn) -> tuple[ET.Element, str] | None:
    """A POM's root element and its namespace prefix (`{uri}` or ''), read with defusedxml and no
    DTD allowed (entity expansion is an attack surface); None, with a warning, when unreadable."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        warn("pom with a DTD or entities: not parsed")
        return None
    except (ET.ParseError, ValueError, LookupError) as exc:  # LookupError: an encoding Python does not know
        warn(f"malformed pom XML: {exc}")
        return None
    return root, root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""


def parse(data: bytes, warn: WarnFn) -> dict[str, Any] | None:
    read = read_xml(data, warn)
    if read is None:
        return None
    root, ns = read

    def child(node: ET.Element | None, *path: str) -> ET.Element | None:
        for p in path:
            if node is None:
                return None
            node = node.find(ns + p)
        return node

    def text(node: ET.Element | None, *path: str) -> str:
        n = child(node, *path)
        return (n.text or "").strip() if n is not None else ""

    def deps(node: ET.Element | None) -> list[dict[str, str]]:
        if node is None:
            return []
        out = []
        for d in node.findall(ns + "dependency"):
            out.append({k: text(d, k) for k in ("groupId", "artifactId", "version", "scope", "type", "optional")})
        return out

    parent = child(root, "parent")
    props = child(root, "properties")
    return {
        "group": text(root, "groupId"),
        "artifact": text(root, "artifactId"),
        "version": text(root, "version"),
        "parent": {
            "group": text(parent, "groupId"), "artifact": text(parent, "artifactId"),
            "version": text(parent, "version"), "relative": text(parent, "relativePath"),
        } if parent is not None else None,
        "properties": {c.tag.removeprefix(ns): (c.text or "").strip() for c in props} if props is not None else {},
        "managed": deps(child(root, "dependencyManagement", "dependencies")),
        "deps": deps(child(root, "dependencies")),
        "licenses": [text(lic, "name") for lic in (child(root, "licenses") or [])],
    }


Lookup = Callable[[str, str, str, str, str], "tuple[str, dict[str, Any]] | None"]
"""(from pom path, group, artifact, version, relativePath or "-") → (path, pom) of the parent or BOM
found in the image, or None."""


def _interp(value: str, props: dict[str, str]) -> str:
    for _ in range(10):  # properties may refer to properties; bounded against cycles
        new = _PROP.sub(lambda m: props.get(m.group(1), m.group(0)), value)
        if new == value:
            break
        value = new
    return value


def _chain(path: str, pom: dict[str, Any], lookup: Lookup) -> list[tuple[str, dict[str, Any]]]:
    """The pom and its ancestors found in the image, child first (at most 20: cycles)."""
    chain = [(path, pom)]
    while len(chain) < 20:
        cur_path, cur = chain[-1]
        par = cur.get("parent")
        if not par:
            break
        found = lookup(cur_path, par["group"], par["artifact"], par["version"], par.get("relative", ""))
        if found is None or any(found[1] is p for _, p in chain):
            break
        chain.append(found)
    return chain


def _props(chain: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Effective properties of chain[0]: ancestors' then its own, plus the project.* built-ins."""
    pom = chain[0][1]
    props: dict[str, str] = {}
    for _, p in reversed(chain):  # ancestors first, the child overrides
        props.update(p.get("properties") or {})
    par = pom.get("parent") or {}
    group = pom.get("group") or par.get("group", "")
    version = pom.get("version") or par.get("version", "")
    props.update({
        "project.groupId": group, "pom.groupId": group, "groupId": group,
        "project.artifactId": pom.get("artifact", ""), "project.version": version, "pom.version": version,
        "version": version, "project.parent.version": par.get("version", ""), "parent.version": par.get("version", ""),
        "project.parent.groupId": par.get("group", ""),
    })
    return props


def _managed(
    chain: list[tuple[str, dict[str, Any]]], props: dict[str, str], lookup: Lookup, depth: int = 0
) -> dict[tuple[str, str], dict[str, str]]:
    """(group, artifact) → managed entry (version interpolated), imported BOMs expanded (nested too)."""
    managed: dict[tuple[str, str], dict[str, str]] = {}
    for p_path, p in chain:  # child first: the nearest declaration wins
        for m in p.get("managed") or []:
            g, a = _interp(m["groupId"], props), _interp(m["artifactId"], props)
            v = _interp(m.get("version", ""), props)
            if m.get("scope") == "import" and m.get("type") == "pom":
                bom = lookup(p_path, g, a, v, "-")
                if bom is not None and depth < 5:
                    bom_chain = _chain(bom[0], bom[1], lookup)
                    for key, entry in _managed(bom_chain, _props(bom_chain), lookup, depth + 1).items():
                        managed.setdefault(key, entry)
                continue
            managed.setdefault((g, a), {**m, "version": v})
    return managed


def resolve(path: str, pom: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """→ {"group","artifact","version","deps":[{"group","artifact","version","scope","optional"}], "unresolved": n}."""
    chain = _chain(path, pom, lookup)
    props = _props(chain)
    managed = _managed(chain, props, lookup)
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    unresolved = 0
    for _, p in chain:  # dependencies are inherited from parents too
        for d in p.get("deps") or []:
            g, a = _interp(d["groupId"], props), _interp(d["artifactId"], props)
            if (g, a) in seen:
                continue
            seen.add((g, a))
            m = managed.get((g, a), {})
            v = _hard_version(_interp(d.get("version") or m.get("version", ""), props))
            scope = d.get("scope") or m.get("scope") or "compile"
            if not g or not a or not v or "${" in g + a + v:
                unresolved += 1
                continue
            out.append({"group": g, "artifact": a, "version": v, "scope": scope, "optional": d.get("optional") == "true"})
    return {"group": props["project.groupId"], "artifact": _interp(pom.get("artifact", ""), props),
            "version": _interp(props["project.version"], props), "deps": out, "unresolved": unresolved}


def _hard_version(v: str) -> str:
    """`1.2.3` (a soft requirement) and `[1.2.3]` (pinned) are versions; other ranges are not."""
    v = v.strip()
    if v.startswith("[") and v.endswith("]") and "," not in v:
        return v[1:-1].strip()
    if v[:1] in "[(" or "," in v:
        return ""
    return v
