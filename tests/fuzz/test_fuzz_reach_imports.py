"""Fuzz: the import extractors of the reachability analyzers (inventory/python_imports.py with `ast`,
inventory/node_imports.py with tree-sitter) on real sources of tests/reach mutated — bytes cut out or
spliced in (quotes, brackets, NUL, invalid UTF-8, import keywords). Never an exception: a file Python
cannot parse is an `e` fact, tree-sitter recovers with an error count; every import is well formed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.inventory.node_imports import _parse_manifest
from hullscan.inventory.node_imports import extract as js_extract
from hullscan.inventory.python_imports import _parse_pth, _parse_record
from hullscan.inventory.python_imports import extract as py_extract

PY = [b"import idna\nfrom attr import define\nfrom . import core\nimportlib.import_module('x.' + n)\n__all__ = ['a']\n",
      b"#!/usr/bin/python3\nimport sys\nfrom mypkg.core import run\nif __name__ == '__main__':\n    sys.exit(run())\n"]
JS = [b"const ms = require('ms');\nimport x from \"semver\";\nexport * from './a.js';\nimport(`./l/${n}`);\n",
      b"#!/usr/bin/env node\nmodule.exports = (l) => require('./locales/' + l);\nexport { a } from 'b';\n"]
SPLICES = [b"'", b'"', b"`", b"(", b")", b"{", b"}", b"\x00", b"\xff\xfe", b"import ", b"require(", b"from ", b"${",
           b"\\", b"\n", "é".encode()]


def _mutate(draw: st.DrawFn, docs: list[bytes]) -> bytes:
    data = bytearray(docs[draw(st.integers(0, len(docs) - 1))])
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            del data[i:i + draw(st.integers(1, 30))]
        else:
            data[i:i] = draw(st.sampled_from(SPLICES))
    return bytes(data)


@st.composite
def python_sources(draw: st.DrawFn) -> bytes:
    return _mutate(draw, PY)


@st.composite
def js_sources(draw: st.DrawFn) -> bytes:
    return _mutate(draw, JS)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(python_sources())
def test_python_extractor_never_raises(data: bytes) -> None:
    fact = py_extract(data)
    assert set(fact) <= {"i", "d", "all", "e"}
    for item in fact.get("i", ()):
        assert isinstance(item[0], str) and isinstance(item[1], int) and isinstance(item[2], list)
    for item in fact.get("d", ()):
        assert len(item) == 3 and isinstance(item[1], str)
    _parse_pth("/x.pth", data, lambda m: None)
    _parse_record("/x.dist-info/RECORD", data, lambda m: None)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(js_sources())
def test_js_extractor_never_raises(data: bytes) -> None:
    fact = js_extract(data)
    assert set(fact) <= {"i", "d", "e"}
    for spec, line in fact.get("i", ()):
        assert isinstance(spec, str) and spec and line >= 1
    for line, prefix in fact.get("d", ()):
        assert isinstance(prefix, str) and line >= 1
    _parse_manifest("/package.json", data, lambda m: None)
