"""Debian packages: the dpkg database, distroless `status.d/`, file ownership and copyright licenses.

Files read (everything else under /var/lib/dpkg — `available`, `status-old`, `*-old` — is not the database):
- `/var/lib/dpkg/status`: one RFC-822-like stanza per package.
- `/var/lib/dpkg/status.d/NAME`: Google distroless writes one stanza per file there and no `Status:` field
  (the file's presence means installed); `NAME.md5sums` beside it lists the package's files.
- `/var/lib/dpkg/info/NAME[:ARCH].list` (and `.md5sums` when no `.list` is shipped): files each package owns.
- `/usr/share/doc/NAME/copyright`: licenses, read from DEP-5 `License:` fields (best effort) and turned into
  SPDX expressions by `inventory/spdx_license.py`.

The stanza parser is hand-written on purpose: generic deb822 parsers (python-debian) keep every field
and multi-line value, which is several times slower than the 50 ms budget for a 2,000-package status;
here a few C-level regex passes pick out only the six fields we keep and the malformed lines.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.inventory.purl import purl as make_purl
from hullscan.inventory.spdx_license import normalize_all, record_extra
from hullscan.model.inventory import OSInfo, Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

STATUS = "/var/lib/dpkg/status"
STATUS_D = "/var/lib/dpkg/status.d/"
INFO = "/var/lib/dpkg/info/"
DOC = "/usr/share/doc/"

# Blank lines between stanzas, leaving the "\n" that precedes the next stanza's first line in that stanza,
# so every field line of every stanza is found as "\nField:" with str.find (C speed, no regex per field).
_SEP = re.compile(r"(\n[ \t\r]*+)(?=\n)")  # one blank line (possessive: fails fast on others)
_NEEDLES = tuple(("\n" + k + ":", k, len(k) + 2)
                 for k in ("Package", "Status", "Version", "Architecture", "Source", "Maintainer"))
# A line that is neither `Field: value` nor a continuation (starts with blank): dpkg rejects the file.
_BAD_LINE = re.compile(r"\n([^ \t\r\n:][^:\n]*+)(?=\n|\Z)")  # possessive: no backtracking on good lines
_SOURCE = re.compile(r"^(\S+)(?:\s*\((\S+)\))?\s*$")
# dpkg's version syntax (lib/dpkg/parsehelp.c): optional numeric epoch, then these characters only.
_VERSION = re.compile(r"^(?:\d+:)?[A-Za-z0-9.+~-][A-Za-z0-9.+~:-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")  # dpkg also accepts `_` when parsing

# The third word of `Status:` (want flag, error flag, state). These states have the package's files on
# disk, so the package ships in the image whatever the want flag says (`deinstall ok installed` is still
# there until dpkg runs); `config-files` and `not-installed` leave only conffiles or nothing.
PRESENT_STATES = frozenset(
    {"installed", "triggers-pending", "triggers-awaited", "half-configured", "unpacked", "half-installed"}
)


def parse_stanzas(text: str, warn: WarnFn, *, distroless: bool = False) -> list[dict[str, Any]]:
    """The present packages of a dpkg status text, each as {name, version, arch, source_name,
    source_version, maintainer, status, line}. Bad stanzas are warned about (with their line) and skipped.

    `distroless`: a stanza without `Status:` is installed (status.d convention) instead of not-installed.
    """
    t = "\n" + text  # line k of the text starts right after the k-th "\n" of t
    for bad in _BAD_LINE.finditer(t):
        line = t.count("\n", 0, bad.start() + 1)
        warn(f"line {line}: malformed line {bad.group(1)[:60]!r} (expected 'Field: value'), ignored")
    parts = _SEP.split(t)  # [stanza, separator, stanza, …]; each stanza starts with "\n"
    out: list[dict[str, Any]] = []
    line = 1
    for i in range(0, len(parts), 2):
        chunk = parts[i]
        if chunk.strip():
            fields: dict[str, str] = {}
            for needle, key, skip in _NEEDLES:
                at = chunk.find(needle)
                if at >= 0:
                    end = chunk.find("\n", at + skip)
                    fields[key] = chunk[at + skip:end if end >= 0 else None].strip()
            head = _blank_head(chunk) if chunk[1:2] in ("\n", " ", "\t", "\r") else 0
            pkg = _stanza(fields, line + head, warn, distroless)
            if pkg is not None:
                out.append(pkg)
        line += chunk.count("\n")
        if i + 1 < len(parts):
            line += parts[i + 1].count("\n")
    return out


def _blank_head(chunk: str) -> int:
    """Blank lines at the start of a stanza chunk (only the first one of a file can have them)."""
    n = 0
    for ln in chunk[1:].split("\n"):
        if ln.strip():
            return n
        n += 1
    return n


def _stanza(fields: dict[str, str], line: int, warn: WarnFn, distroless: bool) -> dict[str, Any] | None:
    name = fields.get("Package", "")
    if not name:
        what = "empty Package field" if "Package" in fields else "no Package field"
        warn(f"line {line}: stanza with {what}, skipped")
        return None
    if not _NAME.match(name):
        warn(f"line {line}: package {name!r}: invalid package name, skipped")
        return None
    status = fields.get("Status", "")
    if status:
        words = status.split()
        if len(words) != 3:
            warn(f"line {line}: package {name!r}: malformed Status {status!r}, skipped")
            return None
        if words[2] not in PRESENT_STATES:
            return None  # config-files / not-installed: removed, only the record is left
    elif not distroless:
        warn(f"line {line}: package {name!r}: no Status field, not counted as installed")
        return None  # dpkg: a record without Status is not-installed
    version = fields.get("Version", "")
    if not version:
        warn(f"line {line}: package {name!r}: no Version field, skipped")
        return None
    if not _VERSION.match(version):
        warn(f"line {line}: package {name!r}: invalid Version {version!r}, skipped")
        return None
    source_name, source_version = name, version
    source = fields.get("Source", "")
    if source:
        sm = _SOURCE.match(source)
        if sm is None or (sm.group(2) is not None and not _VERSION.match(sm.group(2))):
            warn(f"line {line}: package {name!r}: malformed Source {source!r}, using the binary's name")
        else:
            source_name = sm.group(1)
            source_version = sm.group(2) or version
    return {
        "name": name,
        "version": version,
        "arch": fields.get("Architecture", ""),
        "source_name": source_name,
        "source_version": source_version,
        "maintainer": fields.get("Maintainer", ""),
        "status": status,
        "line": line,
    }


def parse_file_list(text: str, relative: bool) -> list[str]:
    """`info/*.list` (absolute paths, one a line) or `*.md5sums` (`<md5>  relative/path`) → absolute paths."""
    out: list[str] = []
    for raw in text.splitlines():
        if relative:
            parts = raw.split(None, 1)
            if len(parts) != 2:
                continue
            path = "/" + parts[1].strip().lstrip("/")
        else:
            path = raw.strip()
            if not path.startswith("/") or path == "/.":
                continue
        out.append(path)
    return out


_COMMON = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9.+-]+?)[.,'’\"`)]*(?:\s|$)")
_LICENSE_FIELD = re.compile(r"^License:[ \t]*(\S.*?)[ \t\r]*$", re.M)


def declared_licenses(text: str) -> list[str]:
    """Licences a `/usr/share/doc/PKG/copyright` declares, as written: the first line of each DEP-5
    `License:` field (`GPL-2+`, `LGPL-3+ or GPL-2+`), else the `/usr/share/common-licenses/X` files the
    text points to (`GPL-2`). Distinct, first seen first; `normalize_all` turns them into SPDX."""
    names = _LICENSE_FIELD.findall(text)
    if not names:
        names = [m.rstrip(".") for m in _COMMON.findall(text)]
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def parse_copyright(text: str) -> list[str]:
    """The SPDX expressions of a copyright file's licences (`declared_licenses`, normalized)."""
    return list(normalize_all(declared_licenses(text))[0])


def distro_qualifier(os: OSInfo | None) -> str:
    """`debian-12`, `ubuntu-22.04`, `alpine-3.19`: the purl `distro` qualifier (family-release, no `v`)."""
    if os is None or not os.release:
        return ""
    return f"{os.family}-{os.release.lstrip('v')}"


def _ecosystem(os: OSInfo | None) -> str:
    if os is None:
        return "Debian"
    if os.ecosystem:
        return os.ecosystem
    return "Ubuntu" if os.family == "ubuntu" else "Debian"


def _parse_status(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"kind": "status", "packages": parse_stanzas(data.decode("utf-8", "replace"), warn)}


def _parse_status_d(path: str, data: bytes, warn: WarnFn) -> Any:
    """A distroless status.d entry: one package's stanza."""
    return {"kind": "status.d", "packages": parse_stanzas(data.decode("utf-8", "replace"), warn, distroless=True)}


def _parse_status_d_files(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"kind": "files", "files": parse_file_list(data.decode("utf-8", "replace"), relative=True)}


def _parse_list(path: str, data: bytes, warn: WarnFn) -> Any:
    files = parse_file_list(data.decode("utf-8", "replace"), relative=False)
    return {"kind": "files", "files": files} if files else None


def _parse_md5sums(path: str, data: bytes, warn: WarnFn) -> Any:
    files = parse_file_list(data.decode("utf-8", "replace"), relative=True)
    return {"kind": "files", "files": files} if files else None


def _parse_copyright(path: str, data: bytes, warn: WarnFn) -> Any:
    # The fact keeps the names as declared; they become SPDX in assemble, so a better normalizer never
    # needs the layers walked again.
    declared = declared_licenses(data.decode("utf-8", "replace"))
    return {"kind": "copyright", "declared": declared} if declared else None


class DpkgAnalyzer(Analyzer):
    """dpkg status (and distroless status.d) → `deb` packages with owned files and licenses."""

    name = "dpkg"
    version = 2  # 2: copyright facts hold the declared names (were SPDX-mapped names)
    files = (
        FileRule(paths=(STATUS,), parse=_parse_status),
        FileRule(globs=(f"{STATUS_D}*.md5sums",), parse=_parse_status_d_files),
        FileRule(globs=(f"{STATUS_D}*",), parse=_parse_status_d),
        FileRule(globs=(f"{INFO}*.list",), parse=_parse_list),
        FileRule(globs=(f"{INFO}*.md5sums",), parse=_parse_md5sums),
        FileRule(globs=(f"{DOC}*/copyright",), parse=_parse_copyright),
    )

    def assemble(self, view: AnalyzerView) -> Assembled:
        records: list[tuple[str, dict[str, Any]]] = []
        status = view.files.get(STATUS)
        if status is not None:
            records.extend((STATUS, p) for p in status.fact["packages"])
        for path in sorted(view.files):
            if path.startswith(STATUS_D) and view.files[path].fact.get("kind") == "status.d":
                records.extend((path, p) for p in view.files[path].fact["packages"])
        os = view.os
        distro = distro_qualifier(os)
        namespace = os.family if os is not None and os.family in ("debian", "ubuntu") else "debian"
        ecosystem = _ecosystem(os)
        packages: list[Package] = []
        seen: set[tuple[str, str]] = set()
        for db, rec in records:
            name, arch = rec["name"], rec["arch"]
            if (name, arch) in seen:
                view.warn(db, f"line {rec['line']}: package {name!r} ({arch}) listed twice, first kept")
                continue
            seen.add((name, arch))
            files = self._owned(view, db, name, arch)
            copyright_ = view.files.get(f"{DOC}{name}/copyright")
            declared = copyright_.fact.get("declared", []) if copyright_ is not None else []
            licenses, refs = normalize_all(declared)
            qualifiers = {"arch": arch} if arch else {}
            if distro:
                qualifiers["distro"] = distro
            purl = make_purl("deb", namespace=namespace, name=name, version=rec["version"],
                              qualifiers=qualifiers)
            extra: dict[str, Any] = {}
            if rec["maintainer"]:
                extra["maintainer"] = rec["maintainer"]
            if rec["status"]:
                extra["status"] = rec["status"]
            if db != STATUS:
                extra["distroless"] = True
            extra.update(record_extra(declared, refs))
            packages.append(Package(
                type="deb", name=name, version=rec["version"], ecosystem=ecosystem, purl=purl,
                analyzer=self.name, paths=(db,), arch=arch, source_name=rec["source_name"],
                source_version=rec["source_version"], licenses=licenses, files=files, extra=extra,
            ))
        return Assembled(packages=packages)

    @staticmethod
    def _owned(view: AnalyzerView, db: str, name: str, arch: str) -> tuple[str, ...]:
        if db == STATUS:
            candidates = [f"{INFO}{name}:{arch}.list", f"{INFO}{name}.list",
                          f"{INFO}{name}:{arch}.md5sums", f"{INFO}{name}.md5sums"]
        else:
            candidates = [f"{db}.md5sums", f"{STATUS_D}{name}.md5sums"]
        for c in candidates:
            ff = view.files.get(c)
            if ff is not None and ff.fact.get("kind") == "files":
                return tuple(ff.fact["files"])
        return ()
