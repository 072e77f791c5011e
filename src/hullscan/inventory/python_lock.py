"""Python lockfiles found in the image, as *declared* packages (kept apart from installed ones):
pinned `requirements*.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock`, `pylock*.toml`.

One rule of the file table per format, each with its parser module (`hullscan.inventory.lockfiles.*`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hullscan.inventory.lockfiles import (
    pdm_lock,
    pip_requirements,
    pipfile_lock,
    poetry_lock,
    pylock_toml,
    uv_lock,
)
from hullscan.inventory.lockfiles.declared import declared_package
from hullscan.inventory.purl import purl as package_url
from hullscan.inventory.python_dist import pep503
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, Parser, WarnFn


def _lockfile(kind: str, parse: Callable[[bytes, WarnFn], list[dict[str, Any]]]) -> Parser:
    def parse_lockfile(path: str, data: bytes, warn: WarnFn) -> Any:
        pkgs = parse(data, warn)
        return {"format": kind, "packages": pkgs} if pkgs else None

    return parse_lockfile


# Packages ship their own test/docs requirements; those are not the image's declared dependencies.
_SKIP_DIRS = ("**/site-packages/**", "**/dist-packages/**", "**/node_modules/**")


class PythonLockAnalyzer(Analyzer):
    """Declared Python dependencies from lockfiles."""

    name = "python-lock"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(names=("poetry.lock",), exclude=_SKIP_DIRS, parse=_lockfile("poetry", poetry_lock.parse)),
        FileRule(names=("Pipfile.lock",), exclude=_SKIP_DIRS, parse=_lockfile("pipenv", pipfile_lock.parse)),
        FileRule(names=("uv.lock",), exclude=_SKIP_DIRS, parse=_lockfile("uv", uv_lock.parse)),
        FileRule(names=("pdm.lock",), exclude=_SKIP_DIRS, parse=_lockfile("pdm", pdm_lock.parse)),
        FileRule(names=("pylock.toml",), globs=("**/pylock.?*.toml",), exclude=_SKIP_DIRS,
                 parse=_lockfile("pylock", pylock_toml.parse)),
        FileRule(globs=("**/*requirements*.txt",), exclude=_SKIP_DIRS, parse=_lockfile("pip", pip_requirements.parse)),
    )
    max_size = 16 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        packages: list[Package] = []
        for path, ff in sorted(view.files.items()):
            fact = ff.fact
            for rec in fact.get("packages", []):
                name = pep503(rec["name"])
                purl = package_url("pypi", name, rec["version"])
                packages.append(declared_package(rec, type="pypi", ecosystem="PyPI", name=name, purl=purl,
                                                 analyzer=self.name, path=path, lockfile=fact["format"]))
        return Assembled(packages=packages)
