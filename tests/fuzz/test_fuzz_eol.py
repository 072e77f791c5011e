"""Fuzz: the endoflife.date parser (vulndb/eol.py `parse_cycles`, the `eol` feed) on mutated real API
responses (tests/vulndb/testdata/eol): bytes cut out or spliced in, field values replaced. Never an
exception but the ValueError of a document that is no list (the importer skips such a file); every kept
cycle has a name and only `YYYY-MM-DD` dates, the rest skipped and counted."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.vulndb.feeds import ImportContext, decode, endoflife

DATA = Path(__file__).resolve().parents[1] / "vulndb" / "testdata" / "eol"
DOCS = [(DATA / f).read_bytes() for f in ("rhel.json", "fedora.json")]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VALUES = [None, True, False, 0, -1, 1e308, "", "2024-13-99", "2024-06-30T00:00:00Z", "x" * 300, [], {}, ["2024-06-30"],
           "2024-06-30"]


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(DOCS[draw(st.integers(0, len(DOCS) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            del data[i:i + draw(st.integers(1, 200))]
        else:
            data[i:i] = draw(st.sampled_from([b"{", b"]", b'"', b",", b"\x00", b"null", "é".encode(), b'"cycle":']))
    return bytes(data)


@st.composite
def mutated_values(draw: st.DrawFn) -> object:
    doc = json.loads(DOCS[draw(st.integers(0, len(DOCS) - 1))])
    for _ in range(draw(st.integers(1, 6))):
        item = doc[draw(st.integers(0, len(doc) - 1))]
        key = draw(st.sampled_from(["cycle", "eol", "support", "extendedSupport", "releaseDate"]))
        item[key] = draw(st.sampled_from(_VALUES))
    return doc if draw(st.integers(0, 9)) else draw(st.sampled_from([{}, "x", None, 3, [[]]]))


def _check(doc: object) -> None:
    ctx = ImportContext()
    try:
        endoflife.parse("eol-rhel.json", doc, ctx)
    except ValueError:
        assert not isinstance(doc, list)  # only a document that is no list is refused whole
        return
    batch = ctx.batch("eol")
    for (product, cycle), c in batch.eol.items():
        assert product == c.product == "rhel" and cycle == c.cycle and cycle.strip() == cycle and cycle
        for value in (c.release_date, c.eol, c.support, c.extended):
            assert value is None or (_DATE.match(value) and date.fromisoformat(value))
    assert batch.skipped == len(batch.reasons) or len(batch.reasons) == 10


@settings(max_examples=60, derandomize=True)
@given(mutated_bytes())
def test_mutated_bytes(data: bytes) -> None:
    try:
        decoded = decode("eol-rhel.json", data)
    except ValueError:
        return  # not JSON: the importer counts the file unreadable
    assert decoded is not None
    _check(decoded[1])


@settings(max_examples=60, derandomize=True)
@given(mutated_values())
def test_mutated_values(doc: object) -> None:
    _check(doc)
