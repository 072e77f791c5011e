"""Python lockfiles found in the image, as *declared* packages (kept apart from installed ones):
pinned `requirements*.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock`, `pylock*.toml`.

One analyzer dispatches to one parser module per format (`hullscan.inventory.lockfiles.*`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from packageurl import PackageURL

from hullscan.inventory.lockfiles import (
    pdm_lock,
    pip_requirements,
    pipfile_lock,
    poetry_lock,
    pylock_toml,
    uv_lock,
)
from hullscan.inventory.lockfiles.declared import declared_package
from hullscan.inventory.python_dist import pep503
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, MiB, PathHints, WarnFn

Parser = Callable[[bytes, WarnFn], list[dict[str, Any]]]

_BY_NAME: dict[str, tuple[str, Parser]] = {
    "poetry.lock": ("poetry", poetry_lock.parse),
    "Pipfile.lock": ("pipenv", pipfile_lock.parse),
    "uv.lock": ("uv", uv_lock.parse),
    "pdm.lock": ("pdm", pdm_lock.parse),
    "pylock.toml": ("pylock", pylock_toml.parse),
}
_REQUIREMENTS = re.compile(r"^.*requirements.*\.txt$")
_PYLOCK = re.compile(r"^pylock\.[^/]+\.toml$")
# Packages ship their own test/docs requirements; those are not the image's declared dependencies.
_SKIP_DIRS = ("/site-packages/", "/dist-packages/", "/node_modules/")


def _format(path: str) -> tuple[str, Parser] | None:
    base = path.rsplit("/", 1)[-1]
    if base in _BY_NAME:
        return _BY_NAME[base]
    if _PYLOCK.match(base):
        return ("pylock", pylock_toml.parse)
    if _REQUIREMENTS.match(base):
        return ("pip", pip_requirements.parse)
    return None


class PythonLockAnalyzer(Analyzer):
    """Declared Python dependencies from lockfiles."""

    hints = PathHints(names=frozenset(_BY_NAME), extensions=frozenset({"txt", "toml"}))  # requirements*.txt, pylock.*.toml
    name = "python-lock"
    version = 1
    max_size = 16 * MiB

    def wants(self, path: str, size: int, mode: int) -> bool:
        if any(d in path for d in _SKIP_DIRS):
            return False
        return _format(path) is not None

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        fmt = _format(path)
        if fmt is None:
            return None
        kind, parse = fmt
        try:
            pkgs = parse(data, warn)
        except Exception as exc:  # a parser bug on hostile input must not stop the scan
            warn(f"cannot parse {kind} lockfile: {type(exc).__name__}: {exc}")
            return None
        return {"format": kind, "packages": pkgs} if pkgs else None

    def assemble(self, view: AnalyzerView) -> Assembled:
        packages: list[Package] = []
        for path, ff in sorted(view.files.items()):
            fact = ff.fact
            for rec in fact.get("packages", []):
                name = pep503(rec["name"])
                purl = PackageURL(type="pypi", name=name, version=rec["version"]).to_string()
                packages.append(declared_package(rec, type="pypi", ecosystem="PyPI", name=name, purl=purl,
                                                 analyzer=self.name, path=path, lockfile=fact["format"]))
        return Assembled(packages=packages)
