"""NuGet: `*.deps.json` (what a built .NET app loads), `packages.lock.json`, `packages.config` and
`Directory.Packages.props` (central package versions) → plain records {name, version, dev, indirect, root?}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hullscan.inventory.lockfiles.declared import as_dict
from hullscan.inventory.lockfiles.load import load_json

Warn = Callable[[str], None]

_ASSET_KEYS = ("runtime", "runtimeTargets", "native", "resources")


def _json(data: bytes, what: str, warn: Warn) -> Any:
    return load_json(data, what, warn)


def parse_deps_json(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """`libraries` of a .deps.json: packages, the projects themselves (root) and runtime packs.

    A package the targets leave out or list without any runtime, native or resource asset
    (meta-packages, build-only references) is marked dev, as nothing of it is loaded at run time."""
    doc = _json(data, ".deps.json", warn)
    if not isinstance(doc, dict) or not isinstance(doc.get("libraries"), dict):
        if doc is not None:
            warn(".deps.json has no libraries object")
        return []
    targets: dict[str, Any] = {}
    for target in as_dict(doc.get("targets")).values():
        if isinstance(target, dict):
            for key, entry in target.items():
                if isinstance(entry, dict):
                    targets.setdefault(key, {}).update(entry)
    out = []
    for key, lib in doc["libraries"].items():
        name, sep, version = key.rpartition("/")
        if not sep or not name or not version or not isinstance(lib, dict):
            warn(f"library {key!r} is not NAME/VERSION")
            continue
        kind = lib.get("type", "")
        if kind == "runtimepack":
            name = name.removeprefix("runtimepack.")
        elif kind not in ("package", "project"):
            continue  # `reference` assemblies and other build-time entries
        rec: dict[str, Any] = {"name": name, "version": version, "dev": False, "indirect": False, "type": kind}
        if kind == "project":
            rec["root"] = True
        elif targets and not any(k in targets.get(key, {}) for k in _ASSET_KEYS):
            rec["dev"] = True  # not part of the runtime graph, or nothing of it is loaded
        out.append(rec)
    return out


def parse_packages_lock(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """packages.lock.json: every resolved package of every target framework (deduplicated)."""
    doc = _json(data, "packages.lock.json", warn)
    if not isinstance(doc, dict) or not isinstance(doc.get("dependencies"), dict):
        if doc is not None:
            warn("packages.lock.json has no dependencies object")
        return []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for framework in doc["dependencies"].values():
        if not isinstance(framework, dict):
            continue
        for name, dep in framework.items():
            if not isinstance(dep, dict) or dep.get("type") == "Project":  # a sibling project, not a package
                continue
            version = dep.get("resolved")
            if not isinstance(version, str) or not version:
                warn(f"{name}: no resolved version")
                continue
            direct = dep.get("type") in ("Direct", "CentralDirect")
            rec = seen.setdefault((name, version), {"name": name, "version": version, "dev": False, "indirect": True})
            rec["indirect"] = rec["indirect"] and not direct
    return list(seen.values())


def _xml(data: bytes, what: str, warn: Warn) -> Element | None:
    try:
        return SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        warn(f"unreadable {what}: {exc}")
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # MSBuild files may carry the 2003 msbuild namespace


def parse_packages_config(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """packages.config `<package id version developmentDependency/>` entries."""
    root = _xml(data, "packages.config", warn)
    if root is None:
        return []
    out = []
    for el in root.iter():
        if _local(el.tag) != "package":
            continue
        name, version = (el.get("id") or "").strip(), (el.get("version") or "").strip()
        if not name or not version:
            warn("a <package> without id or version skipped")
            continue
        dev = (el.get("developmentDependency") or "").lower() == "true"
        out.append({"name": name, "version": version, "dev": dev, "indirect": False})
    return out


def parse_packages_props(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """Directory.Packages.props (and *.props/*.targets): `PackageVersion`/`PackageReference` with
    `Include` (or `Update`) and a literal `Version`. MSBuild property references are skipped."""
    root = _xml(data, "Directory.Packages.props", warn)
    if root is None:
        return []
    out = []
    for el in root.iter():
        if _local(el.tag) not in ("PackageVersion", "PackageReference", "GlobalPackageReference"):
            continue
        name = (el.get("Include") or el.get("Update") or "").strip()
        version = (el.get("Version") or "").strip()
        if not version:
            child = next((c for c in el if _local(c.tag) == "Version"), None)
            version = (child.text or "").strip() if child is not None else ""
        if not name or not version or "$(" in version or version[:1] in "[(":
            continue  # unresolved property or a version range: no single version is declared
        out.append({"name": name, "version": version, "dev": False, "indirect": False})
    return out
