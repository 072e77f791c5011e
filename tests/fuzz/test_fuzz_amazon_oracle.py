"""Fuzz: the Amazon updateinfo and Oracle OVAL parsers on mutated real documents (tests/vulndb/testdata/amazon,
oracle): slices cut out, text spliced in, attribute values replaced. Never an exception; what is kept is
whole (an id of its own family, rows with an E:V-R fix in a known stream), the rest skipped and counted."""

from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.vulndb.feeds import ImportContext, amazon_updateinfo, decode, detect, oracle_oval

DATA = Path(__file__).resolve().parents[1] / "vulndb" / "testdata"
AMAZON = [gzip.decompress((DATA / "amazon" / f).read_bytes()) for f in ("updateinfo_1_item.xml.gz",
                                                                        "updateinfo_AL2023.xml.gz")]
ORACLE = [bz2.decompress((DATA / "oracle" / "elsa-2018-1196-1.xml.bz2").read_bytes()),
          (DATA / "oracle" / "vunnel-mock_ksplice_data.xml").read_bytes()]
_ATTR = re.compile(rb'="[^"]*"')
_FIXED = re.compile(r"^\d+:[^\s:]+-[^\s:]+$")


@st.composite
def mutated(draw: st.DrawFn, docs: list[bytes]) -> bytes:
    data = bytearray(docs[draw(st.integers(0, len(docs) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "splice", "attr"]))
        i = draw(st.integers(0, len(data)))
        if kind == "cut":
            del data[i:i + draw(st.integers(1, 400))]
        elif kind == "splice":
            data[i:i] = draw(st.sampled_from([b"<", b"&a;", b'"', b"</criteria>", b"<update>", b"\x00", b"ksplice1.",
                                              b"<!ENTITY x 'y'>", "é".encode()]))
        else:
            spans = [m.span() for m in _ATTR.finditer(data)]
            if spans:
                a, b = spans[draw(st.integers(0, len(spans) - 1))]
                data[a + 2:b - 1] = draw(st.sampled_from([b"", b"x y", b"-1", b"1:2:3", b"ALAS9-1", b"Oracle Linux  is"]))
    return bytes(data)


def _check(batch, prefix: str, eco: str) -> None:
    for adv in batch.advisories.values():
        assert adv.id.startswith(prefix) and adv.affected
        for row in adv.affected:
            assert row.ecosystem.startswith(eco) and row.status == "fixed"
            assert _FIXED.match(row.ranges[0]["events"][1]["fixed"]), row


@settings(max_examples=60, derandomize=True)
@given(data=mutated(AMAZON))
def test_updateinfo_never_raises(data: bytes) -> None:
    kind, doc = decode("amazon/updateinfo.xml", data)  # type: ignore[misc]
    ctx = ImportContext()
    amazon_updateinfo.parse("u.xml", doc, ctx)
    _check(ctx.batch("amazon"), "ALAS", "Amazon Linux:")
    detect("u.xml", kind, doc)


@settings(max_examples=60, derandomize=True)
@given(data=mutated(ORACLE), compress=st.booleans())
def test_oval_never_raises(data: bytes, compress: bool) -> None:
    name = "com.oracle.elsa-all.xml.bz2" if compress else "oval.xml"
    kind, doc = decode(name, bz2.compress(data) if compress else data)  # type: ignore[misc]
    ctx = ImportContext()
    oracle_oval.parse(name, doc, ctx)
    _check(ctx.batch("oracle-oval"), "ELSA-", "Oracle Linux:")
    detect(name, kind, doc)


@settings(max_examples=30, derandomize=True)
@given(data=st.binary(max_size=300))
def test_truncated_bz2_stream_is_a_skip(data: bytes) -> None:
    """A `.xml.bz2` whose compressed stream breaks: the document is skipped, never an exception."""
    blob = bz2.compress(ORACLE[0])[: len(data) % 900 + 10] + data
    _, doc = decode("com.oracle.elsa-all.xml.bz2", blob)  # type: ignore[misc]
    ctx = ImportContext()
    oracle_oval.parse("o.xml.bz2", doc, ctx)
    assert ctx.batch("oracle-oval").skipped == 1 and not ctx.batch("oracle-oval").advisories
