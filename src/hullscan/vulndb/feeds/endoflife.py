"""endoflife.date release cycles (`https://endoflife.date/api/<product>.json`): the `eol` feed.

One file per product, the product named by the file (`eol-debian.json` as `db update` saves it); the
cycles go to hs_eol (vulndb/eol.py reads them), never to advisories.
"""

from __future__ import annotations

from typing import Any

from hullscan.vulndb.eol import parse_cycles, product_of_file
from hullscan.vulndb.feeds import ImportContext

FEED = "eol"
FORMAT = "endoflife"


def detect(name: str, kind: str, doc: Any) -> bool:
    return (kind == "json" and product_of_file(name) is not None and isinstance(doc, list)
            and all(isinstance(x, dict) and "cycle" in x for x in doc[:3]))


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    product = product_of_file(name)
    if product is None:
        batch.skip(name, "not an endoflife.date distro product file (eol-<product>.json)")
        return
    for cycle in parse_cycles(product, doc, batch.skip):
        batch.eol[(cycle.product, cycle.cycle)] = cycle
