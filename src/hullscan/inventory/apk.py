"""Alpine / Wolfi / Chainguard packages from the apk database `/lib/apk/db/installed`.

The format (apk-tools `database.c`): stanzas separated by a blank line, each line `X:value` with a one-letter
key. Kept: P name, V version, A arch, o origin (the source package advisories are keyed by), L license,
m maintainer, t build time, c aports commit, and F (directory) / R (file in the last F) for ownership.
Licences become SPDX expressions (`inventory/spdx_license.py`), the declared `L:` kept in `extra`.
Hand-written because it is a dozen lines and no maintained PyPI library reads it.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.inventory.purl import purl as make_purl
from hullscan.inventory.spdx_license import normalize_all, record_extra
from hullscan.model.inventory import OSInfo, Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

INSTALLED = "/lib/apk/db/installed"
_KEEP = {"P": "name", "V": "version", "A": "arch", "o": "origin", "L": "license", "m": "maintainer",
         "t": "build_time", "c": "commit"}
_VERSION = re.compile(r"^\d[0-9A-Za-z._+~-]*$")
_EXPRESSION = re.compile(r"\b(AND|OR|WITH)\b|\(")


# One pass over "\n" + text: kept fields, F/R file lines, blank lines (stanza ends) and malformed lines; the
# many other lines (Z: checksums, a: modes, D:/p: dependencies…) match no branch and cost only the scan.
_SCAN = re.compile(r"\n(?:([PVALomtcFR]):([^\n]*)|[ \t\r]*+(?=\n|\Z)()|(?![A-Za-z]:)([^\n]+))")


def parse_installed(text: str, warn: WarnFn) -> list[dict[str, Any]]:
    """Packages of an apk `installed` database; stanzas without name or version are warned about and skipped."""
    out: list[dict[str, Any]] = []
    t = "\n" + text
    cur: dict[str, Any] = {}
    files: list[str] = []
    directory = ""
    start = 1  # line of the stanza's first kept line
    counted, lines = 0, 0  # "\n" in t[:counted]; positions only grow, so counting is linear

    def line_at(pos: int) -> int:
        nonlocal counted, lines
        lines += t.count("\n", counted, pos + 1)
        counted = pos + 1
        return lines

    def flush() -> None:
        name, version = cur.get("name", ""), cur.get("version", "")
        if not name:
            warn(f"line {start}: stanza without P: (package name), skipped")
        elif not version:
            warn(f"line {start}: package {name!r} has no V: (version), skipped")
        elif not _VERSION.match(version):
            warn(f"line {start}: package {name!r}: invalid version {version!r}, skipped")
        else:
            cur["files"] = files
            cur["line"] = start
            out.append(cur)

    for m in _SCAN.finditer(t):
        key = m.group(1)
        if key is None:
            if m.group(3) is not None:  # blank line: the stanza ends
                if cur or files:
                    flush()
                cur, files, directory = {}, [], ""
            else:
                warn(f"line {line_at(m.start())}: malformed line {m.group(4)[:60]!r} (expected 'X:value'), ignored")
            continue
        if not cur and not files:
            start = line_at(m.start())
        value = m.group(2)
        if key == "R":
            files.append(f"/{directory}/{value}" if directory else f"/{value}")
        elif key == "F":
            directory = value.strip().strip("/")
            files.append("/" + directory)
        else:
            cur[_KEEP[key]] = value.strip()
    if cur or files:
        flush()
    return out


def split_licenses(value: str) -> tuple[str, ...]:
    """`L:` holds an SPDX expression (`MIT OR Apache-2.0`) or, in older packages, space-separated names;
    returned as declared (`normalize_all` turns them into SPDX)."""
    value = value.strip()
    if not value:
        return ()
    if _EXPRESSION.search(value):
        return (value,)
    return tuple(dict.fromkeys(value.split()))


_NAMESPACES = {"alpine": "alpine", "wolfi": "wolfi", "chainguard": "chainguard"}


def _os_parts(os: OSInfo | None) -> tuple[str, str, str]:
    """(purl namespace, distro qualifier, ecosystem)."""
    if os is None:
        return "alpine", "", "Alpine"
    ns = _NAMESPACES.get(os.family, os.family or "alpine")
    if os.family == "alpine":
        release = os.release.lstrip("v")
        return ns, f"alpine-{release}" if release else "", os.ecosystem or "Alpine"
    distro = f"{os.family}-{os.release}" if os.release else ""
    return ns, distro, os.ecosystem or os.family.capitalize()


def _parse_installed(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"packages": parse_installed(data.decode("utf-8", "replace"), warn)}


class ApkAnalyzer(Analyzer):
    """apk `installed` database → `apk` packages with origin, licenses and owned files."""

    name = "apk"
    version = 1
    files = (FileRule(paths=(INSTALLED,), parse=_parse_installed),)

    def assemble(self, view: AnalyzerView) -> Assembled:
        db = view.files.get(INSTALLED)
        if db is None:
            return Assembled()
        namespace, distro, ecosystem = _os_parts(view.os)
        packages: list[Package] = []
        seen: set[tuple[str, str]] = set()
        for rec in db.fact["packages"]:
            name, version, arch = rec["name"], rec["version"], rec.get("arch", "")
            if (name, arch) in seen:
                view.warn(INSTALLED, f"line {rec['line']}: package {name!r} listed twice, first kept")
                continue
            seen.add((name, arch))
            qualifiers = {"arch": arch} if arch else {}
            if distro:
                qualifiers["distro"] = distro
            purl = make_purl("apk", namespace=namespace, name=name, version=version,
                              qualifiers=qualifiers)
            extra = {k: rec[k] for k in ("maintainer", "build_time", "commit") if rec.get(k)}
            declared = split_licenses(rec.get("license", ""))
            licenses, refs = normalize_all(declared)
            extra.update(record_extra(declared, refs))
            packages.append(Package(
                type="apk", name=name, version=version, ecosystem=ecosystem, purl=purl, analyzer=self.name,
                paths=(INSTALLED,), arch=arch, source_name=rec.get("origin") or name, source_version=version,
                licenses=licenses, files=tuple(rec["files"]), extra=extra,
            ))
        return Assembled(packages=packages)
