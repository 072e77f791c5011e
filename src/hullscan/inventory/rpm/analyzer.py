"""The rpm analyzer: every rpmdb format (BerkeleyDB, SQLite, NDB) and the Mariner distroless manifest.

`parse_database` turns one database file into a JSON list of package dicts (gpg-pubkey pseudo-packages
left out); `assemble` picks the image's live database (rpm reads only one: the newest format
present wins) and names its packages for matching.
"""

from __future__ import annotations

from typing import Any

from hullscan.inventory.purl import purl as make_purl
from hullscan.inventory.rpm import bdb, ndb, sqlite
from hullscan.inventory.rpm.distro import RELEASE_PACKAGES, describe, os_from_release_package
from hullscan.inventory.rpm.header import HeaderError, RpmHeader, parse_header
from hullscan.inventory.rpm.mariner import MANIFEST_PATHS, parse_manifest
from hullscan.inventory.spdx_license import normalize_all, record_extra
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

# In order of preference when an image holds several (rpm ≥ 4.16 migrates BDB → SQLite and the
# sysimage location is where Fedora ≥ 36 / openSUSE keep the live one; /var/lib/rpm may be a symlink).
DB_PATHS = (
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/Packages.db",
    "/var/lib/rpm/Packages",
    *MANIFEST_PATHS,
)
_MAX_PROBLEMS = 20  # per file: a wrecked database should not flood the report

NOT_PACKAGES = frozenset({"gpg-pubkey"})
"""rpm stores imported signing keys as pseudo-packages; they are not software."""


def _fact(h: RpmHeader) -> dict[str, Any]:
    return {
        "name": h.name, "epoch": h.epoch, "version": h.version, "release": h.release, "arch": h.arch,
        "sourcerpm": h.sourcerpm, "license": h.license, "vendor": h.vendor,
        "modularitylabel": h.modularitylabel, "files": list(h.files),
    }


def _report(warn: WarnFn, problems: list[str]) -> None:
    for p in problems[:_MAX_PROBLEMS]:
        warn(p)
    if len(problems) > _MAX_PROBLEMS:
        warn(f"{len(problems) - _MAX_PROBLEMS} more problems not shown")


def read_database(path: str, data: bytes, warn: WarnFn) -> list[RpmHeader] | None:
    """All package headers of one rpm database or manifest (None when the whole file is unreadable)."""
    if not data:
        warn("empty file, not an rpm database")
        return None
    if path in MANIFEST_PATHS:
        res = parse_manifest(data.decode("utf-8", "replace"))
        _report(warn, res.problems)
        return res.packages
    blobs: list[tuple[int, bytes]]
    problems: list[str] = []
    try:
        if data.startswith(sqlite.SQLITE_MAGIC):
            blobs = list(sqlite.iter_blobs(data))
        elif data[:4] == b"RpmP":
            res_n = ndb.read_ndb(data)
            blobs, problems = res_n.values, res_n.problems
        else:
            res_b = bdb.read_hash_db(data)
            blobs, problems = res_b.values, res_b.problems
    except (sqlite.SqliteRpmdbError, ndb.NdbError, bdb.BdbError) as exc:
        warn(f"unreadable rpm database: {exc}")
        return None
    headers: list[RpmHeader] = []
    for hnum, blob in blobs:
        if hnum == 0 and len(blob) == 4:
            continue  # BerkeleyDB Packages keeps its next-instance counter under key 0
        try:
            headers.append(parse_header(blob))
        except HeaderError as exc:
            problems.append(f"package header #{hnum}: {exc}")
    _report(warn, problems)
    return headers


def parse_database(path: str, data: bytes, warn: WarnFn) -> Any:
    """One database or manifest → its packages as facts (None when the whole file is unreadable)."""
    headers = read_database(path, data, warn)
    if headers is None:
        return None
    return [_fact(h) for h in headers if h.name not in NOT_PACKAGES]


def _version(epoch: int | None, version: str, release: str) -> str:
    evr = f"{version}-{release}"
    return f"{epoch}:{evr}" if epoch is not None else evr


def split_sourcerpm(srpm: str) -> tuple[str, str, str]:
    """`util-linux-2.32.1-42.el8_8.src.rpm` → (`util-linux`, `2.32.1`, `42.el8_8`); empties when unparsable."""
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if srpm.endswith(suffix):
            stem = srpm[: -len(suffix)]
            parts = stem.rsplit("-", 2)
            if len(parts) == 3 and all(parts):
                return parts[0], parts[1], parts[2]
    return "", "", ""


class RpmAnalyzer(Analyzer):
    name = "rpm"
    version = 1
    files = (FileRule(paths=DB_PATHS, parse=parse_database),)
    max_size = 512 * MiB  # a full Fedora/RHEL BerkeleyDB Packages runs to a few hundred MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        chosen = next((p for p in DB_PATHS if p in view.files and view.files[p].fact is not None), None)
        if chosen is None:
            return Assembled()
        facts: list[dict[str, Any]] = view.files[chosen].fact
        os = view.os
        if os is None:
            os = next((os_from_release_package(f["name"], f["version"]) for f in facts
                       if f["name"] in RELEASE_PACKAGES), None)
        naming = describe(os)
        packages = []
        for f in facts:
            epoch = f["epoch"]
            src_name, src_ver, src_rel = split_sourcerpm(f["sourcerpm"])
            qualifiers = {"arch": f["arch"]} if f["arch"] else {}
            if epoch is not None:
                qualifiers["epoch"] = str(epoch)
            if naming.distro:
                qualifiers["distro"] = naming.distro
            purl = make_purl("rpm", namespace=naming.namespace or None, name=f["name"],
                              version=f"{f['version']}-{f['release']}", qualifiers=qualifiers)
            extra: dict[str, Any] = {"epoch": epoch} if epoch is not None else {}
            for key, label in (("vendor", "vendor"), ("modularitylabel", "modularity_label"),
                               ("sourcerpm", "source_rpm")):
                if f[key] and f[key] != "(none)":
                    extra[label] = f[key]
            # The License tag is one expression (SPDX, or Fedora's legacy names: `GPLv2+ and ASL 2.0`).
            declared = [f["license"]] if f["license"] and f["license"] != "(none)" else []
            licenses, refs = normalize_all(declared)
            extra.update(record_extra(declared, refs))
            packages.append(Package(
                type="rpm",
                name=f["name"],
                version=_version(epoch, f["version"], f["release"]),
                ecosystem=naming.ecosystem,
                purl=purl,
                analyzer=self.name,
                paths=(chosen,),
                arch=f["arch"],
                source_name=src_name,
                # The source rpm's file name carries no epoch; it is built from the same spec as the
                # binary, so it shares the binary's epoch (as Trivy assumes too).
                source_version=_version(epoch, src_ver, src_rel) if src_name else "",
                licenses=licenses,
                files=tuple(f["files"]),
                extra=extra,
            ))
        return Assembled(packages=packages)
