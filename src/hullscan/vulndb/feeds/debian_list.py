"""Debian security tracker `data/DSA/list` and `data/DLA/list` (text).

    [29 Mar 2023] DSA-5380-1 xorg-server - security update
    	{CVE-2023-1393}
    	[bullseye] - xorg-server 2:1.20.11-1+deb11u6
    	[lenny] - vlc <not-affected> (Vulnerable code not present)

One advisory per DSA/DLA (aliases = the CVEs in braces), one affected row per `[codename]` line in
`Debian:<release number>` for the SOURCE package. A fixed version becomes events
[{introduced: "0"}, {fixed: V}]; `<not-affected>`, `<end-of-life>`, `<unfixed>`, `<no-dsa>`,
`<postponed>`, `<ignored>` become statuses. Lists give no severity.
"""  # noqa: E101 (the example keeps the list's real tab indentation)

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds.debian_releases import ecosystem_for
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "debian"
FORMAT = "debian-list"
_HEAD = re.compile(r"^\[(\d{1,2} \w{3} \d{4})\]\s+((?:DSA|DLA|DTSA)-\d+(?:-\d+)?)\s*(.*)$")
_REL = re.compile(r"^\s+\[([a-z-]+)\]\s+-\s+(\S+)\s+(<[a-z-]+>|\S+)(?:\s+\((.*)\))?\s*$")
_CVES = re.compile(r"^\s+\{([^}]*)\}")
STATUS_WORDS = {
    "<not-affected>": "not_affected",
    "<end-of-life>": "end_of_life",
    "<unfixed>": "affected",
    "<no-dsa>": "fix_deferred",
    "<postponed>": "fix_deferred",
    "<ignored>": "will_not_fix",
    "<undetermined>": "under_investigation",
}


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "text":
        return False
    low = name.lower().replace("\\", "/")
    return low.endswith(("dsa/list", "dla/list")) or bool(_HEAD.match(doc[:300].split("\n", 1)[0]))


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    adv: AdvisoryIn | None = None
    for n, line in enumerate(str(doc).splitlines(), 1):
        if not line.strip():
            continue
        m = _HEAD.match(line)
        if m:
            if adv is not None:
                batch.merge(adv)
            date, adv_id, rest = m.groups()
            try:
                published = datetime.strptime(date, "%d %b %Y").date().isoformat()
            except ValueError:
                published = None
            adv = AdvisoryIn(id=adv_id, summary=" ".join(rest.split()) or None, published=published)
            adv.references.append(("ADVISORY", f"https://security-tracker.debian.org/tracker/{adv_id}"))
            continue
        if adv is None:
            if not line.lstrip().startswith("NOTE"):
                batch.skip(f"{name}:{n}", "line before the first advisory header")
            continue
        c = _CVES.match(line)
        if c:
            adv.aliases.extend(t for t in c.group(1).split() if t.startswith(("CVE-", "TEMP-")) or "-" in t)
            continue
        r = _REL.match(line)
        if r:
            codename, pkg, what, _note = r.groups()
            eco = ecosystem_for(codename)
            if eco is None:
                batch.skip(f"{name}:{n}", f"unknown Debian codename {codename!r}")
                continue
            if what.startswith("<"):
                status = STATUS_WORDS.get(what)
                if status is None:
                    batch.skip(f"{name}:{n}", f"unknown status {what}")
                    continue
                ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}] if status in (
                    "affected", "fix_deferred", "will_not_fix", "end_of_life", "under_investigation") else []
                adv.affected.append(AffectedIn(eco, pkg, ranges, [], status))
            else:
                events = [{"introduced": "0"}, {"fixed": what}]
                adv.affected.append(AffectedIn(eco, pkg, [{"type": "ECOSYSTEM", "events": events}], [], "fixed"))
            continue
        if line.lstrip().startswith(("NOTE", "[")):
            if line.lstrip().startswith("["):
                batch.skip(f"{name}:{n}", f"unparsable release line {line.strip()[:60]!r}")
            continue
        batch.skip(f"{name}:{n}", f"unexpected line {line.strip()[:60]!r}")
    if adv is not None:
        batch.merge(adv)
