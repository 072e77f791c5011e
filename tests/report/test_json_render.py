"""The JSON writer's bytes (report/json_report.py `render_dict`) are json.dumps(doc, indent=2,
ensure_ascii=False) and a newline, whether the packages arrive as dicts (a cold scan) or as the bytes a
cached result carries (`PackagesJSON`, a warm scan); and the cache's unpacking of those bytes
(cache/results.py `_inflate`, zlib's stream inflated raw) gives them back unchanged or fails."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.cache.results import _inflate
from hullscan.report.json_report import PackagesJSON, _render_packages, render_dict

_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False) | st.text())
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                       max_leaves=20)
_PACKAGE = st.fixed_dictionaries({"id": st.text(), "name": st.text(), "licenses": st.lists(st.text(), max_size=3),
                                  "layer": st.none() | st.fixed_dictionaries({"index": st.integers(0, 127)})})


def _pinned(doc: dict) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


@settings(max_examples=100)
@given(st.dictionaries(st.text(), _VALUES, max_size=6), st.lists(_PACKAGE, max_size=3))
def test_render_dict_writes_the_pinned_format(doc, packages):
    doc = {**doc, "packages": packages}
    assert render_dict(doc) == _pinned(doc)
    rendered = _render_packages(packages)
    if rendered is not None:  # the warm scan's form: the cold scan's bytes spliced in as they are
        assert render_dict({**doc, "packages": PackagesJSON(rendered)}) == _pinned(doc)


def test_the_known_differences_of_orjson_stay_out_of_the_document():
    """orjson writes 4.3e-05 as 0.000043 and 1e-07 as 1e-7; the document outside the packages is the
    stdlib's, so an EPSS score of 4.3e-05 reads the same on a cold and a warm scan."""
    doc = {"vulnerabilities": [{"epss": {"score": 4.3e-05, "percentile": 1e-07}}], "packages": [{"id": "pkg-1"}]}
    text = render_dict(doc)
    assert text == _pinned(doc)
    assert b'"score": 4.3e-05' in text and b'"percentile": 1e-07' in text


def test_an_empty_document():
    assert render_dict({}) == b"{}\n" == _pinned({})


@settings(max_examples=50)
@given(st.binary(max_size=5000), st.sampled_from([0, 1, 6, 9]))
def test_inflate_gives_what_zlib_compressed(data, level):
    assert _inflate(zlib.compress(data, level)) == data


def test_a_damaged_stream_is_an_error_not_other_bytes():
    blob = zlib.compress(b'{"id": "pkg-1"}' * 100, 1)
    for damaged in (blob[:-8], b"\x00garbage", b"", zlib.compress(b"x", 1)[:2] + b"\xff" * 20):
        with pytest.raises(zlib.error):
            _inflate(damaged)
