"""Red Hat's repository-to-CPE map (`repository-to-cpe.json`): which CPE streams each RPM repository (a
container image's content set) belongs to, `{"data": {repo: {"cpes": [...], "repo_relative_urls": [...]}}}`.

The file is the whole map: an import replaces table hs_repo_cpe. A CPE is kept in Red Hat's CPE 2.2 form
(`cpe:/o:redhat:enterprise_linux:9::baseos`); one that is not a Red Hat CPE is skipped and counted, and a
repository left without any CPE is skipped. `stream_of` turns a CPE into the OSV `Red Hat:` ecosystem.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext

FEED = "redhat-repo-cpe"
FORMAT = "redhat-repo-cpe"
#: `cpe:/o:redhat:enterprise_linux:9::baseos`: part, vendor redhat, product, version, then update/edition
_CPE = re.compile(r"^cpe:/[aoh]:redhat:([A-Za-z0-9_.\-+]+)((?::[A-Za-z0-9_.\-+~]*){0,4})$")


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "json" or not isinstance(doc, dict) or set(doc) - {"data", "cache_info", "metadata"}:
        return False
    data = doc.get("data")
    return isinstance(data, dict) and any(isinstance(v, dict) and "cpes" in v for v in list(data.values())[:5])


def stream_of(cpe: str) -> str | None:
    """The OSV ecosystem a Red Hat CPE names (`cpe:/a:redhat:rhel_eus:9.2::appstream` →
    `Red Hat:rhel_eus:9.2::appstream`: OSV drops the part and vendor and trailing empty fields), None for a
    CPE that is not Red Hat's or is malformed."""
    m = _CPE.match(cpe.strip())
    if m is None:
        return None
    return "Red Hat:" + (m.group(1) + m.group(2)).rstrip(":")


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    for repo, entry in doc["data"].items():
        where = f"{name}: {repo}"
        cpes = entry.get("cpes") if isinstance(entry, dict) else None
        if not isinstance(repo, str) or not repo.strip() or not isinstance(cpes, list):
            batch.skip(where, "repository without a `cpes` list")
            continue
        good = []
        for cpe in cpes:
            if isinstance(cpe, str) and stream_of(cpe) is not None:
                good.append(cpe.strip())
            else:
                batch.skip(where, f"malformed or foreign CPE {cpe!r}")
        if good:
            batch.repo_cpe[repo.strip()] = sorted(set(good))
