"""Streaming XML for the vendor feeds (yum updateinfo, OVAL): defusedxml's iterparse, one record at a time.

A feed document arrives as a binary stream (feeds.decode: a `.xml.bz2` is decompressed while it is
read), so the Oracle OVAL, hundreds of MB uncompressed, is never held whole: each record element is
handed to the caller once complete and then dropped from the tree. Entity declarations (the
billion-laughs bomb) and external references are refused: `XmlRefused`, the whole document skipped.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from hullscan.vulndb.model import AdvisoryIn, FeedBatch

__all__ = ["Element", "ParseError", "XmlRefused", "child", "children", "head", "import_records", "local", "records",
           "stream", "text"]

XmlRefused = DefusedXmlException
"""What defusedxml raises for entity declarations / external references (a ValueError)."""


def stream(doc: Any) -> IO[bytes]:
    """The document as a binary stream at its start: decode() gives a stream, `db import --format`
    may give text, a test bytes."""
    if isinstance(doc, str):
        return io.BytesIO(doc.encode("utf-8"))
    if isinstance(doc, (bytes, bytearray)):
        return io.BytesIO(bytes(doc))
    doc.seek(0)
    return doc


def head(doc: Any, n: int = 2048) -> bytes:
    """The first `n` bytes (for detect), the stream rewound after; b"" for anything unreadable."""
    try:
        s = stream(doc)
        data = s.read(n)
        s.seek(0)
    except (OSError, EOFError, ValueError, AttributeError):
        return b""
    return data if isinstance(data, bytes) else b""


def local(tag: str) -> str:
    """`{namespace}name` → `name`."""
    return tag.rsplit("}", 1)[-1]


def records(doc: Any, tag: str, depth: int, until: str | None = None) -> Iterator[Element]:
    """Each element named `tag` (local name) found at `depth` (root = 1), complete. Elements at that
    depth are removed from their parent once the caller is done with them (memory stays flat). With
    `until`, reading stops at the end of the element of that name holding them (the rest of the
    document is neither read nor checked: OVAL's tests/objects/states after its definitions).
    Raises XmlRefused, ParseError, and OSError/EOFError for a broken compressed stream."""
    path: list[Element] = []
    for event, el in DET.iterparse(stream(doc), events=("start", "end"), forbid_dtd=False,
                                   forbid_entities=True, forbid_external=True):
        if event == "start":
            path.append(el)
            continue
        path.pop()
        if len(path) + 1 == depth:
            if local(el.tag) == tag:
                yield el
            if path:
                path[-1].remove(el)
        elif until is not None and len(path) + 2 == depth and local(el.tag) == until:
            return


def child(el: Element, name: str) -> Element | None:
    """The first child with local name `name`."""
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el: Element, name: str) -> Iterator[Element]:
    for c in el:
        if local(c.tag) == name:
            yield c


def text(el: Element | None) -> str | None:
    """Stripped text of `el`, None when absent or blank."""
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def import_records(name: str, batch: FeedBatch, elements: Iterator[Element],
                   convert: Callable[[Element], AdvisoryIn | tuple[str, str] | None]) -> None:
    """Each record element `convert`ed into `batch` once the whole document has been read: a document refused
    (entity declarations, external references) or not well-formed is skipped whole, nothing of it kept; a
    record `convert` cannot read ((where, why)) is skipped and counted; None is a record that is no advisory."""
    kept: list[AdvisoryIn] = []
    bad: list[tuple[str, str]] = []
    try:
        for el in elements:
            adv = convert(el)
            if isinstance(adv, tuple):
                bad.append(adv)
            elif adv is not None:
                kept.append(adv)
    except XmlRefused as err:
        batch.skip(name, f"refused: {type(err).__name__} (entity declarations or external references)")
        return
    except (ParseError, OSError, EOFError) as err:
        batch.skip(name, f"not well-formed XML, nothing of it imported: {err}")
        return
    for where, why in bad:
        batch.skip(f"{name}: {where}", why)
    for adv in kept:
        batch.put(adv)
