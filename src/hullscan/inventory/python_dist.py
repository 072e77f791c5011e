"""Installed Python distributions: `*.dist-info`, `*.egg-info` (directory or single file) and `.egg`
(zip archives or directories), wherever they are — site-packages, vendored copies inside other
packages, virtualenvs.

The METADATA / PKG-INFO file gives name, version and license; RECORD / installed-files.txt the
files a distribution installed (kept in `extra` as a count, and its own metadata paths go into
`paths` so an OS package that owns them marks this one `owned_by`)."""

from __future__ import annotations

import io
import re
import zipfile
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from packageurl import PackageURL

from hullscan.inventory.analyzer import MiB, Analyzer, AnalyzerView, Assembled, WarnFn
from hullscan.inventory.lockfiles.spdx import from_classifiers, is_spdx, to_spdx
from hullscan.inventory.model import Package

_META_FILES = {
    ".dist-info/METADATA": "metadata",
    ".dist-info/RECORD": "record",
    ".egg-info/PKG-INFO": "metadata",
    ".egg-info/installed-files.txt": "record",
    ".egg/EGG-INFO/PKG-INFO": "metadata",
}


def pep503(name: str) -> str:
    """PEP 503 normalized project name (`Foo_Bar.baz` → `foo-bar-baz`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_metadata(data: bytes) -> dict[str, Any] | None:
    """Core-metadata (RFC 822 style) → name, version, licenses; None without a name and version."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(data)
    name = (msg.get("Name") or "").strip()
    version = (msg.get("Version") or "").strip()
    if not name or not version:
        return None
    licenses: list[str] = []
    expr = (msg.get("License-Expression") or "").strip()
    if expr:
        licenses.append(to_spdx(expr))
    else:
        declared = to_spdx(str(msg.get("License") or ""))
        classified = from_classifiers([str(c) for c in msg.get_all("Classifier") or []])
        # An SPDX License field wins; free text loses to classifiers that name SPDX ids.
        if declared and is_spdx(declared):
            licenses.append(declared)
        elif classified:
            licenses.extend(classified)
        elif declared:
            licenses.append(declared)
    return {"name": name, "version": version, "licenses": [x for x in licenses if x]}


class PythonDistAnalyzer(Analyzer):
    """Python packages installed on disk (pip, setuptools, distro python3-* packages)."""

    name = "python-dist"
    version = 1
    max_size = 64 * MiB  # .egg zips; metadata files are tiny

    def wants(self, path: str, size: int, mode: int) -> bool:
        if path.endswith((".dist-info/METADATA", ".dist-info/RECORD", ".egg-info/PKG-INFO",
                          ".egg-info/installed-files.txt", ".egg/EGG-INFO/PKG-INFO")):
            return True
        if path.endswith(".egg-info"):  # single-file egg-info (distutils installs)
            return size < MiB
        return path.endswith(".egg")

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        if path.endswith(".egg") and not path.endswith(".egg-info"):
            return self._egg_zip(data, warn)
        for suffix, kind in _META_FILES.items():
            if path.endswith(suffix):
                if kind == "record":
                    return {"record": _count_lines(data)}
                break
        try:
            meta = parse_metadata(data)
        except Exception as exc:  # the email parser is lenient; guard odd bytes anyway
            warn(f"unreadable Python metadata: {exc}")
            return None
        if meta is None:
            warn("Python metadata without Name or Version")
        return meta

    def _egg_zip(self, data: bytes, warn: WarnFn) -> Any:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                info = zf.getinfo("EGG-INFO/PKG-INFO")
                if info.file_size > MiB:
                    warn("EGG-INFO/PKG-INFO too large")
                    return None
                return parse_metadata(zf.read(info))
        except KeyError:
            return None  # not an egg (or a zipped egg without metadata)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            warn(f"unreadable .egg archive: {exc}")
            return None

    def assemble(self, view: AnalyzerView) -> Assembled:
        packages: list[Package] = []
        records: dict[str, int] = {}
        for path, ff in view.files.items():
            if isinstance(ff.fact, dict) and "record" in ff.fact:
                records[path.rsplit("/", 1)[0]] = ff.fact["record"]
        for path, ff in sorted(view.files.items()):
            fact = ff.fact
            if not isinstance(fact, dict) or "name" not in fact:
                continue
            if path.endswith("/EGG-INFO/PKG-INFO"):  # unzipped .egg directory
                home, paths = path[: -len("/EGG-INFO/PKG-INFO")], (path,)
            elif path.endswith(("/METADATA", "/PKG-INFO")):
                home = path.rsplit("/", 1)[0]
                paths = (path,)
                rec = "RECORD" if home.endswith(".dist-info") else "installed-files.txt"
                if home in records:
                    paths += (f"{home}/{rec}",)
            else:  # single-file egg-info or zipped egg: the file is the distribution
                home, paths = path, ()
            extra: dict[str, Any] = {}
            if home in records:
                extra["files"] = records[home]
            if "/_vendor/" in home or "/vendor/" in home:
                extra["vendored_in"] = home.split("/_vendor/" if "/_vendor/" in home else "/vendor/")[0]
            name = pep503(fact["name"])
            packages.append(
                Package(
                    type="pypi",
                    name=name,
                    version=fact["version"],
                    ecosystem="PyPI",
                    purl=PackageURL(type="pypi", name=name, version=fact["version"]).to_string(),
                    analyzer=self.name,
                    paths=(home, *paths),
                    licenses=tuple(fact.get("licenses") or ()),
                    kind="installed",
                    extra=extra,
                )
            )
        return Assembled(packages=packages)


def _count_lines(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip())
