"""FIRST EPSS scores: CSV (`epss_scores-YYYY-MM-DD.csv[.gz]`), a `#model_version:...,score_date:...`
comment line, then `cve,epss,percentile` rows. Gzip is undone by the input reader."""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.model import EpssEntry

FEED = "epss"
FORMAT = "epss"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "text" or not name.lower().endswith(".csv"):
        return False
    head = doc[:300].lstrip("\ufeff")
    return head.startswith("#model_version") or head.lower().startswith("cve,epss")


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    date = None
    header_seen = False
    for n, line in enumerate(str(doc).lstrip("\ufeff").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.search(r"score_date:(\d{4}-\d{2}-\d{2})", line)
            date = m.group(1) if m else date
            continue
        if not header_seen and line.lower().startswith("cve,"):
            header_seen = True
            continue
        parts = line.split(",")
        if len(parts) < 3 or not _CVE.match(parts[0]):
            batch.skip(f"{name}:{n}", f"bad row {line[:60]!r}")
            continue
        try:
            sc, pc = float(parts[1]), float(parts[2])
        except ValueError:
            batch.skip(f"{name}:{n}", f"bad numbers in {line[:60]!r}")
            continue
        if not (0.0 <= sc <= 1.0 and 0.0 <= pc <= 1.0):
            batch.skip(f"{name}:{n}", "score or percentile outside 0..1")
            continue
        batch.epss[parts[0]] = EpssEntry(parts[0], sc, pc, date)
