"""The reads a scan makes, asked of any `AdvisoryReader` with the same inputs: the tests compare
readers (SQLite, the writer's connection, PostgreSQL, memory) by these snapshots."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hullscan.vulndb.read import AdvisoryReader

#: Asked as a scan would (unnormalized names, release spellings, a pair twice, unknown names).
PAIRS = [("Debian:10", "apt"), ("Debian:10.3", "apt"), ("Alpine:v3.10", "openssl"), ("Alpine:3.10.4", "openssl"),
         ("PyPI", "Django"), ("pypi", "django"), ("crates.io", "tokio"), ("RubyGems", "nokogiri"),
         ("Go", "github.com/gin-gonic/gin"), ("npm", "nothing"), ("Debian:10", "apt")]


def inputs(path: Path) -> dict:
    """Every stored (ecosystem, package) plus PAIRS; every advisory id and CVE alias; every KEV/EPSS CVE."""
    with sqlite3.connect(path) as c:
        pairs = [tuple(r) for r in c.execute("SELECT DISTINCT ecosystem, package FROM hs_affected ORDER BY 1, 2")]
        ids = [r[0] for r in c.execute("SELECT DISTINCT id FROM hs_advisory ORDER BY 1")]
        cves = [r[0] for r in c.execute("SELECT alias FROM hs_alias WHERE alias LIKE 'CVE-%' UNION "
                                         "SELECT cve FROM hs_kev UNION SELECT cve FROM hs_epss ORDER BY 1")]
    return {"pairs": PAIRS + pairs, "ids": ids + ["NOPE-0000"], "cves": cves + ["CVE-0000-0000"]}


def snapshot(db: AdvisoryReader, inp: dict) -> dict:
    """What every read method returns for the same inputs (time-dependent values left out)."""
    feeds = db.feeds()
    return {
        "affected": db.affected_for(inp["pairs"]),
        "affected_withdrawn": db.affected_for(inp["pairs"], include_withdrawn=True),
        "advisories": db.advisories(inp["ids"]),
        "cve_advisories": db.advisories(inp["cves"]),
        "aliases": db.aliases_of(inp["ids"][::7] + inp["cves"][::5] + ["DSA-4685-1", "CVE-2021-44228"]),
        "kev": db.kev(inp["cves"]),
        "epss": db.epss(inp["cves"]),
        "feeds": [(f.feed, f.source, f.etag, f.last_modified, f.fetched_at, f.advisories, f.affected, f.records,
                   f.skipped, f.last_error) for f in feeds],
        "feed": (db.feed("kev").records, db.feed("nope")),
        "ecosystems": db.ecosystems(),
        "counts": db.counts(),
        "meta": {k: v for k, v in db.meta().items() if k not in ("created_at", "built_at", "generation")},
        "built": db.built_at is not None and db.age is not None and db.age.total_seconds() >= 0,
    }
