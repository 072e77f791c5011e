"""Composer: composer.lock (declared), vendor/composer/installed.json (installed, v1 list and v2 object)
and composer.json (which packages the project requires directly)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hullscan.inventory.lockfiles.declared import as_list
from hullscan.inventory.lockfiles.load import load_json

Warn = Callable[[str], None]


def _load(data: bytes, what: str, warn: Warn) -> Any:
    return load_json(data, what, warn)


def _record(pkg: Any, dev: bool, warn: Warn) -> dict[str, Any] | None:
    if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not isinstance(pkg.get("version"), str):
        warn("a package without name or version skipped")
        return None
    lic = pkg.get("license")
    licenses = [lic] if isinstance(lic, str) else [x for x in as_list(lic) if isinstance(x, str)]
    requires = r if isinstance(r := pkg.get("require"), dict) else {}
    # platform requirements (php, ext-*, lib-*, composer-*) are not packages
    deps = sorted(n.lower() for n in requires if isinstance(n, str) and "/" in n)
    return {"name": pkg["name"].lower(), "version": pkg["version"], "licenses": licenses, "deps": deps, "dev": dev}


def parse_composer_lock(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """`packages` (production) and `packages-dev` (dev) → [{name, version, licenses, deps, dev}]."""
    doc = _load(data, "composer.lock", warn)
    if not isinstance(doc, dict):
        if doc is not None:
            warn("composer.lock is not an object")
        return []
    out = []
    for key, dev in (("packages", False), ("packages-dev", True)):
        for pkg in as_list(doc.get(key)):
            rec = _record(pkg, dev, warn)
            if rec:
                out.append(rec)
    return out


def parse_installed_json(data: bytes, warn: Warn) -> list[dict[str, Any]]:
    """Composer 1 (a list) or 2 (`{packages, dev-package-names}`) installed.json → records."""
    doc = _load(data, "installed.json", warn)
    if isinstance(doc, list):
        packages, dev_names = doc, set()
    elif isinstance(doc, dict) and isinstance(doc.get("packages"), list):
        packages = doc["packages"]
        dev_names = {n.lower() for n in as_list(doc.get("dev-package-names")) if isinstance(n, str)}
    else:
        if doc is not None:
            warn("installed.json holds no package list")
        return []
    out = []
    for pkg in packages:
        rec = _record(pkg, False, warn)
        if rec:
            rec["dev"] = rec["name"] in dev_names
            out.append(rec)
    return out


def parse_composer_json(data: bytes, warn: Warn) -> dict[str, Any]:
    """The project's direct requirements: {require: [names], require_dev: [names]}."""
    doc = _load(data, "composer.json", warn)
    if not isinstance(doc, dict):
        return {}

    def names(key: str) -> list[str]:
        req = doc.get(key)
        return sorted(n.lower() for n in req if isinstance(n, str) and "/" in n) if isinstance(req, dict) else []

    return {"require": names("require"), "require_dev": names("require-dev")}
