"""The rescan state's decoder (state/rescans.py `decode_findings`) on hypothesis-generated blobs: whatever
marshal can hold, compressed or not, it returns findings or None (the rescan then matches the image whole),
never raises; a blob it wrote decodes to the same findings."""

from __future__ import annotations

import marshal
import zlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.findings import Finding
from hullscan.model.inventory import LayerRef, Package
from hullscan.state.rescans import FIELDS, decode_findings, encode_findings, package_key

TEXT = st.text(max_size=8) | st.sampled_from(["@rec", "@date", "@tup", "Epss", "Kev", "id", "aliases", "pypi"])
LEAVES = st.none() | st.booleans() | st.integers(-3, 3) | TEXT | st.binary(max_size=4)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
                      | st.dictionaries(TEXT, inner, max_size=3), max_leaves=20)
PKG = Package(type="pypi", name="redis", version="4.5.4", ecosystem="PyPI", purl="pkg:pypi/redis@4.5.4",
              analyzer="python", paths=("/app/redis-4.5.4.dist-info",), layer=LayerRef(0, "sha256:a"))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(VALUES, st.booleans())
def test_decode_never_raises(value: Any, wrap: bool) -> None:
    blob = zlib.compress(marshal.dumps((1, value) if wrap else value, 4))
    assert decode_findings(blob, [PKG]) is None or isinstance(decode_findings(blob, [PKG]), list)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.binary(max_size=40))
def test_decode_of_bytes(blob: bytes) -> None:
    assert decode_findings(blob, [PKG]) is None or isinstance(decode_findings(blob, [PKG]), list)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.text(min_size=1, max_size=12), st.lists(st.text(max_size=12), max_size=3), st.sampled_from(["fixed", "affected"]))
def test_round_trip(fid: str, aliases: list[str], status: str) -> None:
    f = Finding(id=fid, aliases=tuple(aliases), package=PKG, status=status, fixed_version="", severity="HIGH",
                severity_source="osv", cvss=None, epss=None, kev=None, title="", references=(), data_source="osv",
                advisory_ids=(fid,), published=None)
    [back] = decode_findings(encode_findings([f]), [PKG]) or [None]
    assert back is not None and all(getattr(back, n) == getattr(f, n) for n in FIELDS)
    assert package_key(back.package) == package_key(PKG)
