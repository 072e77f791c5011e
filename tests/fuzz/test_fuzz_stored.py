"""The stored-inventory decoders (state/plain.py, state/inventories.py `_rows`) on hypothesis-generated
values: plain.decode of anything marshal can hold returns or raises ValueError (what the loader turns into
exit 2), never another error; encode then decode gives the record back."""

from __future__ import annotations

import marshal
import zlib
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.cache.codec import CLASSES
from hullscan.model.inventory import LayerRef, Package
from hullscan.state import plain
from hullscan.state.inventories import _ROW_FIELDS, _rows

TEXT = st.text(max_size=8) | st.sampled_from(["@rec", "@date", "@tup", "Package", "LayerRef", "2026-01-01", "name"])
LEAVES = st.none() | st.booleans() | st.integers(-3, 3) | TEXT | st.binary(max_size=4)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
                      | st.dictionaries(TEXT, inner, max_size=3), max_leaves=20)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(VALUES)
def test_decode_never_crashes(value: Any) -> None:
    try:
        plain.decode(value, CLASSES)
    except ValueError:
        pass


@settings(max_examples=150, derandomize=True, deadline=None)
@given(name=TEXT, version=TEXT, paths=st.lists(TEXT, max_size=3).map(tuple), extra=st.dictionaries(TEXT, VALUES, max_size=3),
       index=st.integers(0, 5), when=st.dates())
def test_round_trip(name: str, version: str, paths: tuple[str, ...], extra: dict[str, Any], index: int, when: date) -> None:
    pkg = Package(type="pypi", name=name, version=version, ecosystem="PyPI", purl="", analyzer="fuzz", paths=paths,
                  extra=extra, layer=LayerRef(index, "sha256:x"))
    back = plain.decode(marshal.loads(marshal.dumps(plain.encode((pkg, when)), 4)), CLASSES)
    assert back == (pkg, when) and back[0].extra == pkg.extra


@settings(max_examples=200, derandomize=True, deadline=None)
@given(header=st.lists(st.sampled_from([*_ROW_FIELDS, "gone"]), max_size=6, unique=True),
       rows=st.lists(st.lists(LEAVES, max_size=6), max_size=3))
def test_rows_of_another_column_order(header: list[str], rows: list[list[Any]]) -> None:
    """A layer written by a hullscan with other columns: every row comes back in the current order, or the
    blob is refused with one of the errors the loader reports (never anything else)."""
    blob = zlib.compress(marshal.dumps((tuple(header), rows), 4))
    try:
        out = _rows(blob)
    except ValueError:  # the loader's InputError (exit 2)
        return
    assert all(len(r) == len(_ROW_FIELDS) for r in out)


def test_regression_truncated_tags() -> None:
    """Found by test_decode_never_crashes: a bare `("@rec",)` was an IndexError, not a damaged record."""
    for value in (("@rec",), ("@rec", 1, {}), ("@date",), ("@date", 5)):
        try:
            plain.decode(value, CLASSES)
        except ValueError:
            continue
        raise AssertionError(value)
