"""Alpine secdb (`secdb.alpinelinux.org/<branch>/<repo>.{yaml,json}`): per branch, packages keyed by
ORIGIN (source) package, `secfixes: {fixed_version: [ids]}`.

Each id becomes an advisory of feed `alpine` (an entry `CVE-2017-8904 XSA-214` is CVE-2017-8904 with
alias XSA-214); each (branch, package, fixed version) an affected row in `Alpine:<branch>` with events
[{introduced: "0"}, {fixed: V}]. Version `0` means "never affected" and becomes status not_affected.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch

FEED = "alpine"
FORMAT = "alpine"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*-[0-9][0-9A-Za-z.:_-]*$")


def detect(name: str, kind: str, doc: Any) -> bool:
    return kind in ("json", "yaml") and isinstance(doc, dict) and "distroversion" in doc and "packages" in doc


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    branch = str(doc.get("distroversion") or "").strip()
    if not re.match(r"^v\d+\.\d+$|^edge$", branch):
        batch.skip(name, f"bad distroversion {branch!r}")
        return
    add_secfixes(doc, f"Alpine:{branch}", batch, name)


def add_secfixes(doc: Any, ecosystem: str, batch: FeedBatch, where: str) -> None:
    """Shared with Wolfi/Chainguard: the secdb `packages` list into `batch`."""
    pkgs = doc.get("packages")
    if pkgs is None or pkgs == "":
        return  # a branch/repo with no fixes yet (v3.3 community)
    if not isinstance(pkgs, list):
        batch.skip(where, "no `packages` list")
        return
    for i, entry in enumerate(pkgs):
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict):
            pkg = {}
        name = str(pkg.get("name") or "").strip()
        if not name:
            batch.skip(f"{where}: packages[{i}]", "no pkg.name")
            continue
        fixes = pkg.get("secfixes") or {}
        if not isinstance(fixes, dict):
            batch.skip(f"{where}: {name}", "secfixes is not a mapping")
            continue
        for version, ids in fixes.items():
            version = str(version).strip() if version is not None else ""
            if not version or not isinstance(ids, list):
                batch.skip(f"{where}: {name}", f"bad secfixes entry {version!r}")
                continue
            for raw in ids:
                # real entries: "CVE-2017-8904 XSA-214", "wnpa-sec-2017-18", the typo "CVE_2019-2426"
                tokens = [re.sub(r"^CVE_", "CVE-", t) for t in str(raw or "").replace(",", " ").split()]
                tokens = [t for t in tokens if _ID.match(t)]
                if not tokens:
                    batch.skip(f"{where}: {name} {version}", f"no advisory id in {raw!r}")
                    continue
                if version == "0":
                    row = AffectedIn(ecosystem, name, [], [], "not_affected")
                else:
                    events = [{"introduced": "0"}, {"fixed": version}]
                    row = AffectedIn(ecosystem, name, [{"type": "ECOSYSTEM", "events": events}], [], "fixed")
                batch.merge(AdvisoryIn(id=tokens[0], aliases=tokens[1:], affected=[row]))
