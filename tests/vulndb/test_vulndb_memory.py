"""`MemoryReader` (importer batches held in memory, for fast tests of matching) answers every read
exactly as the SQLite reader does on a DB imported from the same real feed files."""

from __future__ import annotations

from pathlib import Path

import pytest
from vulndb_reads import inputs, snapshot

from hullscan.vulndb import importer
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.model import FeedBatch
from hullscan.vulndb.read import open_reader


def test_memory_answers_as_sqlite(reader_feeds: list[Path], lite: Path) -> None:
    inp = inputs(lite)
    summary = importer.read(reader_feeds)
    assert not summary.failed and not summary.errors  # importer.write wrote every batch into `lite`
    with open_reader(lite) as sql, MemoryReader(summary.batches.values()) as mem:
        want, got = snapshot(sql, inp), snapshot(mem, inp)
        assert mem.display == "memory" and mem.built_at is not None
    assert sum(map(len, got["affected"].values())) > 1000 and len(got["advisories"]) > 1000  # not two empty answers
    for key in want:
        assert got[key] == want[key], key  # rows in the same order too


def test_one_batch_per_feed() -> None:
    with pytest.raises(ValueError, match="alpine"):
        MemoryReader([FeedBatch("alpine"), FeedBatch("alpine")])
