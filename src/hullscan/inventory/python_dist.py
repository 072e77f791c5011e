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
from typing import Any

from packaging.utils import canonicalize_name

from hullscan.inventory.lockfiles.spdx import from_classifiers, is_spdx, to_spdx
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn


def pep503(name: str) -> str:
    """PEP 503 normalized project name (`Foo_Bar.baz` → `foo-bar-baz`)."""
    return canonicalize_name(name)


_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]?(.*)$")
_KNOWN = {
    "metadata-version", "name", "version", "dynamic", "platform", "supported-platform", "summary",
    "description", "description-content-type", "keywords", "home-page", "download-url", "author",
    "author-email", "maintainer", "maintainer-email", "license", "license-expression", "license-file",
    "classifier", "requires-dist", "requires-python", "requires-external", "project-url",
    "provides-extra", "provides-dist", "obsoletes-dist", "requires", "provides", "obsoletes",
}


def parse_headers(data: bytes) -> dict[str, list[str]]:
    """Core-metadata headers (lower-cased keys → values).

    Hand-written instead of `email.parser`: old PKG-INFO files carry a multi-line Description
    whose blank lines are not indented, which ends the header block for an RFC 822 parser and
    loses the Classifier/License lines that follow it."""
    out: dict[str, list[str]] = {}
    lines = data.decode("utf-8", errors="replace").splitlines()
    last: list[str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j >= len(lines):
                break
            nxt = lines[j]
            m = _HEADER.match(nxt)
            if nxt[:1] in " \t" or (m and m.group(1).lower() in _KNOWN):
                continue
            break  # the body (long description) starts
        if line[:1] in " \t":
            if last is not None and last:
                last[-1] += "\n" + line.strip()
            continue
        m = _HEADER.match(line)
        if not m:
            last = None
            continue
        last = out.setdefault(m.group(1).lower(), [])
        last.append(m.group(2).strip())
    return out


def parse_metadata(data: bytes) -> dict[str, Any] | None:
    """Core-metadata (RFC 822 style) → name, version, licenses; None without a name and version."""
    h = parse_headers(data)
    first = lambda k: (h.get(k) or [""])[0].strip()  # noqa: E731
    name, version = first("name"), first("version")
    if not name or not version:
        return None
    licenses: list[str] = []
    expr = first("license-expression")
    if expr:
        licenses.append(to_spdx(expr))
    else:
        declared = to_spdx(first("license"))
        classified = from_classifiers(h.get("classifier") or [])
        # An SPDX License field wins; free text loses to classifiers that name SPDX ids.
        if declared and is_spdx(declared):
            licenses.append(declared)
        elif classified:
            licenses.extend(classified)
        elif declared:
            licenses.append(declared)
    return {"name": name, "version": version, "licenses": [x for x in licenses if x]}


def _parse_metadata(path: str, data: bytes, warn: WarnFn) -> Any:
    meta = parse_metadata(data)
    if meta is None:
        warn("Python metadata without Name or Version")
    return meta


def _parse_record(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"record": sum(1 for line in data.splitlines() if line.strip())}


def _parse_egg_zip(path: str, data: bytes, warn: WarnFn) -> Any:
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


class PythonDistAnalyzer(Analyzer):
    """Python packages installed on disk (pip, setuptools, distro python3-* packages)."""

    name = "python-dist"
    version = 1
    files = (
        FileRule(globs=("**/*.dist-info/METADATA", "**/*.egg-info/PKG-INFO", "**/*.egg/EGG-INFO/PKG-INFO"),
                 parse=_parse_metadata),
        FileRule(globs=("**/*.dist-info/RECORD", "**/*.egg-info/installed-files.txt"), parse=_parse_record),
        FileRule(globs=("**/*.egg-info",), max_size=MiB - 1, parse=_parse_metadata),  # single-file (distutils)
        FileRule(globs=("**/*.egg",), parse=_parse_egg_zip),
    )
    max_size = 64 * MiB  # .egg zips; metadata files are tiny

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
            paths: tuple[str, ...]
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
                    purl=purl("pypi", name, fact["version"]),
                    analyzer=self.name,
                    paths=(home, *paths),
                    licenses=tuple(fact.get("licenses") or ()),
                    kind="installed",
                    extra=extra,
                )
            )
        return Assembled(packages=packages)
