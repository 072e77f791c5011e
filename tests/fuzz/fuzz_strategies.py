"""Hypothesis strategies for the fuzz targets: raw bytes, mutated real samples, and structured
documents (JSON/YAML trees built with `st.recursive` from the format's own keys)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fuzz_mutate import TOKENS, deep, dump_json, mutate_bytes, mutate_tree
from fuzz_targets import Target, decode_tree
from hypothesis import strategies as st

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=24), st.sampled_from(["", "0", "1.0", "*", "fo/", "a/", "\ud800", "2026-13-45", "sha256:", "-1"]),
)


def trees(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """JSON-shaped trees whose keys mostly come from the format's vocabulary."""
    key = st.sampled_from(keys) | st.text(max_size=8) if keys else st.text(max_size=8)
    return st.recursive(
        _SCALARS,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(key, children, max_size=6),
        max_leaves=30,
    )


def _dump(doc: Any, kind: str) -> bytes:
    if kind == "yaml":
        try:
            return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogateescape")
        except (yaml.YAMLError, UnicodeEncodeError, RecursionError, ValueError):
            pass
    return dump_json(doc)


_BUILT: dict[str, st.SearchStrategy[bytes]] = {}


def inputs(target: Target) -> st.SearchStrategy[bytes]:
    """Every input the target is fed: a mix of the three kinds (built once per target: decoding the
    samples is the expensive part)."""
    if target.name not in _BUILT:
        _BUILT[target.name] = _inputs(target)
    return _BUILT[target.name]


def _inputs(target: Target) -> st.SearchStrategy[bytes]:
    raw = st.binary(max_size=2048) | st.lists(st.sampled_from(TOKENS), max_size=8).map(b"".join)
    parts: list[st.SearchStrategy[bytes]] = [raw]
    seeds = target.seeds
    if seeds:
        parts.append(st.sampled_from(seeds))
        parts.append(st.builds(lambda s, r: mutate_bytes(s, r, seeds), st.sampled_from(seeds), st.randoms(use_true_random=False)))
    if target.kind in ("json", "yaml"):
        docs = [d for d in (decode_tree(s, target.kind) for s in seeds) if d is not None]
        if docs:
            parts.append(st.builds(
                lambda i, r: _dump(mutate_tree(json.loads(json.dumps(docs[i])), r, target.keys), target.kind),
                st.integers(0, len(docs) - 1), st.randoms(use_true_random=False)))
        parts.append(trees(target.keys).map(lambda d: _dump(d, target.kind)))
        parts.append(st.randoms(use_true_random=False).map(lambda r: dump_json(deep(r))))
    elif target.kind in ("text", "xml"):
        parts.append(st.text(max_size=512).map(lambda t: t.encode("utf-8", "surrogatepass")))
    return st.one_of(*parts)
