"""The change log's cost on a full OSV-sized feed replace (docs/vulndb.md "Change log").

    .venv/bin/python bench/changelog_bench.py [--advisories 400000] [--per 4] [--pg URL]

Synthesises an OSV-like feed of the real export's size class (osv.dev's all.zip: ~400,000 advisories,
~1.6 M affected rows): each advisory with a summary, ~400 characters of details, two aliases, three
references, a CVSS vector and `--per` affected packages over 300 ecosystems, generated part by part (5,000
advisories, as `importer.stream` yields them) so that parsing is not in the figures. Then, timed, as
`db update` writes OSV (`write_stream(..., replace=True)`, one transaction):
1. the first write into an empty DB;
2. the same download again (nothing changed);
3. a download in which 1 % of the advisories changed (a new `modified` and fixed version).
Run it with `PYTHONPATH=<a checkout without the change log>/src` for the figures before it existed (the
script uses only the writer API both have). Peak RSS is this process's.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch
from hullscan.vulndb.store import VulnDB

DETAILS = ("A crafted request to the parser can make it read past the end of its buffer, disclosing memory or "
           "crashing the process. Applications that pass untrusted input to the affected functions are exposed; "
           "upgrade to the fixed release or apply the vendor's patch. The issue was reported by an external "
           "researcher and fixed in the releases listed below, which also harden related code paths. ")


def parts(n: int, per: int, changed_every: int = 0, chunk: int = 5000) -> Iterator[FeedBatch]:
    rnd = random.Random(23)
    ecos = [f"Eco{i % 40}:{i}" for i in range(300)]
    batch = FeedBatch("osv")
    for i in range(n):
        changed = changed_every and i % changed_every == 0
        fixed = "1.2.4" if changed else "1.2.3"
        a = AdvisoryIn(
            id=f"OSV-2024-{i:07d}", summary=f"Out-of-bounds read in pkg{i % 50000}", details=DETAILS,
            published="2024-01-02T00:00:00Z", modified="2025-06-01T00:00:00Z" if changed else "2024-03-04T00:00:00Z",
            aliases=[f"CVE-2024-{i:07d}", f"GHSA-{i:04x}-xxxx-yyyy"],
            severities=[("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5)],
            references=[("ADVISORY", f"https://example.invalid/advisory/{i}"),
                        ("FIX", f"https://example.invalid/fix/{i}"), ("WEB", f"https://example.invalid/web/{i}")],
            affected=[AffectedIn(ecos[rnd.randrange(300)], f"pkg{rnd.randrange(50000)}",
                                 [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}], [], "fixed")
                      for _ in range(per)],
        )
        batch.advisories[a.id] = a
        if len(batch.advisories) >= chunk:
            yield batch
            batch = FeedBatch("osv")
    yield batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--advisories", type=int, default=400_000)
    ap.add_argument("--per", type=int, default=4)
    ap.add_argument("--pg", help="also run against this PostgreSQL URL (a throwaway schema is the caller's)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        locations = [str(Path(tmp) / "db.sqlite")] + ([args.pg] if args.pg else [])
        for loc in locations:
            for label, every in (("first write", 0), ("same again", 0), ("1% changed", 100)):
                t = time.perf_counter()
                with VulnDB.open(loc, create=True) as db:
                    db.write_stream("osv", parts(args.advisories, args.per, every), replace=True)
                    gen = getattr(db.log, "number", None) if hasattr(db, "log") else None
                took = time.perf_counter() - t
                print(f"{'sqlite' if loc.endswith('.sqlite') else 'postgresql'} {label:<12} {took:7.1f} s"
                      + (f"  generation {gen}" if gen is not None else "  (no change log)"), flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
