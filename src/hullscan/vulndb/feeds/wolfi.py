"""Wolfi / Chainguard secdb JSON (`packages.wolfi.dev/os/security.json`,
`packages.cgr.dev/chainguard/security.json`): Alpine's secdb shape without `distroversion`
(rolling distros). Ecosystem `Wolfi` or `Chainguard` (picked from `urlprefix`/`apkurl`), feed
`wolfi` or `chainguard`; version `0` = not affected (a false positive the distro ruled out)."""

from __future__ import annotations

from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds.alpine import add_secfixes

FEED = "wolfi"
FORMAT = "wolfi"


def detect(name: str, kind: str, doc: Any) -> bool:
    return (kind == "json" and isinstance(doc, dict) and isinstance(doc.get("packages"), list)
            and "distroversion" not in doc and ("apkurl" in doc or "urlprefix" in doc))


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    where = f"{doc.get('urlprefix', '')} {doc.get('apkurl', '')}".lower()
    chainguard = "cgr.dev" in where or "chainguard" in where or "chainguard" in name.lower()
    feed, eco = ("chainguard", "Chainguard") if chainguard else ("wolfi", "Wolfi")
    add_secfixes(doc, eco, ctx.batch(feed), name)
