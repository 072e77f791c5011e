"""End of life of distro releases: endoflife.date's release cycles, and whether an image's OS is past them.

Two tables of the same data: the built-in one (`eol_table.json`, transcribed from endoflife.date, dated)
and the DB's (`hs_eol`, refreshed by `db update`'s `eol` feed from `https://endoflife.date/api/<product>.json`).
A scan uses the DB's cycles for the products it holds and the built-in ones for the others
(`scan_table`). Both are read by `parse_cycles`, the one reader of endoflife.date's API v0 shape: a list of cycles with `cycle`,
`releaseDate`, `eol`, `support` and `extendedSupport` (a date, or a boolean when none is announced).

Which date ends an image's support (`lifecycle`): endoflife.date's `eol` (end of security support),
except where the extension is free and the distro's own advisories keep coming — Debian LTS, whose
advisories the Debian security tracker carries — and where the image shows it bought the extension
(Ubuntu Pro with ESM enabled). A vendor's paid extension (Ubuntu ESM, RHEL ELS, SUSE LTSS) is
reported as `extended` beside the date.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hullscan.model.inventory import EndOfLife, OSInfo
from hullscan.record import replace
from hullscan.vulndb.model import EolCycle

SITE = "https://endoflife.date"
BUILTIN_FILE = Path(__file__).with_name("eol_table.json")

#: OS family (inventory/os_release.py) → endoflife.date product (its API file name). Rolling distros
#: (Wolfi, Chainguard) have no end of life; Azure Linux / CBL-Mariner is not on endoflife.date.
PRODUCTS: dict[str, str] = {
    "debian": "debian", "ubuntu": "ubuntu", "alpine": "alpine-linux", "rhel": "rhel", "centos": "centos",
    "rocky": "rocky-linux", "almalinux": "almalinux", "oracle": "oracle-linux", "amazon": "amazon-linux",
    "sles": "sles", "opensuse": "opensuse", "slemicro": "suse-linux-micro", "fedora": "fedora", "photon": "photon",
}
#: Products whose extended support is free and covered by the distro's own advisories.
FREE_EXTENSION = frozenset({"debian"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# a feed file's name → product: `eol-debian.json` (db update), `eol-0-debian.json` (--feed-url), `debian.json`
_FILE = re.compile(r"(?:eol-(?:\d+-)?)?([a-z0-9][a-z0-9.-]*)\.json")


def api_url(product: str) -> str:
    return f"{SITE}/api/{product}.json"


def product_of_file(name: str) -> str | None:
    """The product a feed file holds, from its name; None for a name of no distro product we read."""
    m = _FILE.fullmatch(name.rsplit("/", 1)[-1].lower())
    return m.group(1) if m and m.group(1) in PRODUCTS.values() else None


def _date(value: Any, what: str) -> str | None:
    """A `YYYY-MM-DD` string; None for a boolean or null (no date announced). Raises ValueError otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        _dt.date.fromisoformat(value)  # a month 13 is no date (ValueError)
        return value
    raise ValueError(f"{what} is not a date: {str(value)[:40]!r}")


def parse_cycles(product: str, doc: Any, skip: Callable[[str, str], None]) -> list[EolCycle]:
    """The cycles of one endoflife.date API response (`api/<product>.json`). A malformed cycle is skipped
    and counted through `skip(where, why)`; a document that is not a list raises ValueError."""
    if not isinstance(doc, list):
        raise ValueError(f"{product}: not a list of release cycles")
    out: dict[str, EolCycle] = {}
    for i, item in enumerate(doc):
        where = f"{product}[{i}]"
        if not isinstance(item, dict):
            skip(where, "not an object")
            continue
        cycle = item.get("cycle")
        if isinstance(cycle, int | float) and not isinstance(cycle, bool):
            cycle = str(cycle)
        if not isinstance(cycle, str) or not cycle.strip() or len(cycle) > 64:
            skip(where, "no cycle name")
            continue
        try:
            eol = _date(item.get("eol"), "eol")
            if eol is None and item.get("eol") is True:
                raise ValueError("eol is true without a date")
            found = EolCycle(product, cycle.strip(), _date(item.get("releaseDate"), "releaseDate"), eol,
                             _date(item.get("support"), "support"), _date(item.get("extendedSupport"), "extendedSupport"))
        except ValueError as err:
            skip(f"{product} {cycle}", str(err))
            continue
        out[found.cycle] = found
    return list(out.values())


@dataclass(frozen=True)
class EolTable:
    """Release cycles by (product, cycle), and the date the table was read from endoflife.date."""

    date: str
    """`YYYY-MM-DD`: the built-in table's transcription, or the `db update` that fetched the DB's."""
    origin: str
    """`built-in`, `db`, or `db+built-in` (the DB's products, the built-in table for the others)."""
    cycles: Mapping[tuple[str, str], EolCycle]
    dates: Mapping[str, str] = field(default_factory=dict)
    """Per product, the date of the table it came from when not `date`."""

    def cycle_of(self, os: OSInfo) -> EolCycle | None:
        """The image's release cycle, None when the table does not know it."""
        product = PRODUCTS.get(os.family)
        if product is None or not os.release:
            return None
        for name in _cycle_names(os):
            found = self.cycles.get((product, name))
            if found is not None:
                return found
        return None

    def lifecycle(self, os: OSInfo) -> EndOfLife | None:
        """The end of the support this image gets, None when the table has no date for its release."""
        c = self.cycle_of(os)
        if c is None:
            return None
        extended = c.extended or ""
        date = c.eol
        if extended and (c.product in FREE_EXTENSION or _esm_enabled(os)):
            date, extended = extended, ""
        if date is None:
            return None
        return EndOfLife(date=date, source=f"{SITE}/{c.product}", as_of=self.dates.get(c.product, self.date),
                         extended=extended if extended > date else "")


def _cycle_names(os: OSInfo) -> tuple[str, ...]:
    release = os.release
    if os.family == "alpine":
        return (release.removeprefix("v"),)
    if os.family == "amazon" and release == "1":
        return (os.version,)  # Amazon Linux 1 is "2018.03" (and earlier) on endoflife.date
    if os.family in ("sles", "opensuse", "slemicro") and "." not in release:
        return (release, f"{release}.0")
    return (release,)


def _esm_enabled(os: OSInfo) -> bool:
    """An Ubuntu image that shows Ubuntu Pro's ESM enabled (inventory/os_release.py says so in its name or
    its ecosystem)."""
    return os.family == "ubuntu" and ("ESM enabled" in os.name or os.ecosystem.startswith("Ubuntu:Pro:"))


def judge(os: OSInfo | None, table: EolTable, today: str) -> OSInfo | None:
    """The OS with `eol` set when its release is past its support on `today` (`YYYY-MM-DD`), else with
    `support` holding the dates (a cached result turns them into `eol` later); unchanged when the table
    does not know the release (an SBOM's own statement then stands)."""
    if os is None:
        return None
    life = table.lifecycle(os)
    if life is None:
        return os
    if life.date <= today:
        return replace(os, eol=life, support=None)
    return replace(os, eol=None, support=life)


def table_of(cycles: Iterable[EolCycle], date: str, origin: str) -> EolTable:
    return EolTable(date=date, origin=origin, cycles={(c.product, c.cycle): c for c in cycles})


@lru_cache(maxsize=1)
def builtin() -> EolTable:
    """The table shipped with hullscan (`eol_table.json`: endoflife.date's API shape per product)."""
    doc = json.loads(BUILTIN_FILE.read_text(encoding="utf-8"))

    def fail(where: str, why: str) -> None:  # a bad built-in cycle is a bug, not bad input
        raise ValueError(f"eol_table.json: {where}: {why}")

    cycles = [c for product, items in doc["products"].items() for c in parse_cycles(product, items, fail)]
    return table_of(cycles, doc["date"], "built-in")


def db_table(cycles: list[EolCycle], fetched: str | None) -> EolTable | None:
    """The DB's table (the `eol` feed's cycles, and when it was fetched), None when it holds none."""
    if not cycles:
        return None
    return table_of(cycles, (fetched or "")[:10], "db")


def scan_table(cycles: list[EolCycle], fetched: str | None) -> EolTable:
    """The table a scan judges by: the DB's products (a `db update` is newer than the built-in
    transcription), the built-in table for every product the DB lacks (one `db import` of rhel.json
    leaves Debian known)."""
    base = builtin()
    db = db_table(cycles, fetched)
    if db is None:
        return base
    products = {p for p, _ in db.cycles}
    merged = {k: v for k, v in base.cycles.items() if k[0] not in products}
    merged.update(db.cycles)
    return EolTable(date=base.date, origin="db+built-in", cycles=merged, dates=dict.fromkeys(products, db.date))
