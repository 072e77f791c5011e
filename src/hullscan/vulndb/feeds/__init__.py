"""Feed importers, one module each, and the format detection that routes a file to one of them.

Every module exports `FEED` (default feed name), `FORMAT` (the `--format` name), `detect(name, doc)`
(does this decoded document belong to me?) and `parse(name, doc, ctx)` (add records to the
context's batches, skipping invalid records with `batch.skip`). `doc` is the decoded document:
JSON/YAML value, the text for text formats, a binary stream for XML
(`.xml`, `.xml.bz2`).
"""

from __future__ import annotations

import bz2
import importlib
import io
from types import ModuleType
from typing import Any

from hullscan.vulndb.feeds._input import load_json, load_yaml
from hullscan.vulndb.model import FeedBatch

#: --format name -> module (in detection order: the first `detect` that says yes wins).
FORMATS: dict[str, str] = {
    "osv": "osv",
    "nvd": "nvd",
    "kev": "kev",
    "epss": "epss",
    "debian-json": "debian_json",
    "debian-list": "debian_list",
    "alpine": "alpine",
    "wolfi": "wolfi",
    "rustsec": "rustsec",
    "rubysec": "rubysec",
    "redhat-csaf": "redhat_csaf",
    "redhat-repo-cpe": "redhat_repo_cpe",
    "endoflife": "endoflife",
    "amazon": "amazon_updateinfo",
    "oracle-oval": "oracle_oval",
}


def module(fmt: str) -> ModuleType:
    return importlib.import_module(f"hullscan.vulndb.feeds.{FORMATS[fmt]}")


class ImportContext:
    """Batches per feed for one import; `feed_override` forces the feed name of every record."""

    def __init__(self, feed_override: str | None = None) -> None:
        self.batches: dict[str, FeedBatch] = {}
        self.feed_override = feed_override
        self.unrecognized = 0
        self.unreadable: list[str] = []

    def batch(self, feed: str) -> FeedBatch:
        feed = self.feed_override or feed
        b = self.batches.get(feed)
        if b is None:
            b = self.batches[feed] = FeedBatch(feed)
        return b


def decode(name: str, data: bytes) -> tuple[str, Any] | None:
    """(kind, document) for a member worth looking at, None for files no feed uses."""
    low = name.lower()
    if low.endswith(".json"):
        return "json", load_json(data)
    if low.endswith((".yaml", ".yml")):
        return "yaml", load_yaml(data)
    if low.endswith((".md", ".csv", "/list")) or low == "list":
        return "text", data.decode("utf-8", "replace")
    if low.endswith(".xml"):  # a binary stream: the XML feeds parse it record by record (feeds/_xml.py)
        return "xml", io.BytesIO(data)
    if low.endswith(".xml.bz2"):  # decompressed while read: the Oracle OVAL is never whole in memory
        return "xml", bz2.BZ2File(io.BytesIO(data)) if data[:3] == b"BZh" else io.BytesIO(data)
    return None


def detect(name: str, kind: str, doc: Any) -> str | None:
    """The --format name of a decoded document, None when no importer claims it."""
    for fmt in FORMATS:
        if module(fmt).detect(name, kind, doc):
            return fmt
    return None
