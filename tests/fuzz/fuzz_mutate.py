"""Input generators shared by the hypothesis tests and bench/fuzz.py: a byte mutator over real samples
(bit flips, cuts, splices, hostile tokens) and a structure mutator for JSON/YAML samples (a random
node replaced by a hostile value: wrong type, huge number, lone surrogate, deep nesting).

Everything is driven by a `random.Random`, so hypothesis can hand in its own (`st.randoms`) and
shrink, and the bench can reseed per input and save exactly what it ran.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

# Tokens that break parsers: numbers beyond int()'s 4300-digit limit and float range, surrogates,
# NULs, encodings, separators of the formats hullscan reads, and openers of deep nesting.
TOKENS: tuple[bytes, ...] = (
    b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"\"\\udfff\"", b"-1", b"0", b"1e400", b"-0", b"NaN",
    b"9" * 5000, b"99999999999999999999", b"\"", b"'", b"{", b"}", b"[", b"]", b":", b",", b"=", b"\n", b"\r\n",
    b"\t", b" ", b"/", b"../", b"@", b"#", b"~", b"^", b"*", b"||", b">=", b"<", b"!", b"&", b"%", b"${", b"<!--",
    b"<?xml version=\"1.0\" encoding=\"utf-NaN\"?>", b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"&a;", b"---\n",
    b"- ", b"? ", b"!!python/object:os.system", b"&anchor ", b"*anchor", b"[" * 3000, b"{\"a\":" * 3000,
    b"<a>" * 3000, b"- " * 3000, b"\xc3\x28", b"\xf0\x9f\x92\xa9", b"\xe2\x80\xae", b"ustar\x0000", b"././@LongLink",
    b"PK\x03\x04", b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd", b"sha256:", b"pkg:npm/%40a/", b"fo/", b"a/",
)

# Replacement values for JSON/YAML nodes.
_HOSTILE: tuple[Any, ...] = (
    None, True, False, 0, -1, 5, 2**64, 10**4400, 1.5, float("inf"), "", " ", "\ud800", "a\x00b", "x" * 5000, "fo/",
    "a/", "2026-13-45", "2027-02-30", "../../etc/passwd", "sha256:" + "0" * 64, "pkg:npm/fo/@1", "*", ">= 1 <", [],
    [1], ["s"], {}, {"": None}, [[[]]], {"a": {"b": {"c": []}}},
)


def hostile(rnd: random.Random) -> Any:
    """A fresh copy of a hostile value: the constants must never end up shared (or inside themselves)
    once a later mutation edits the tree in place."""
    return copy.deepcopy(rnd.choice(_HOSTILE))


def deep(rnd: random.Random) -> Any:
    """A structure nested far beyond any recursion limit (or just deep enough to hurt)."""
    depth = rnd.choice((50, 1100, 5000))  # past json's and Python's recursion limits
    node: Any = rnd.choice(([], {}, "x", 1))
    for _ in range(depth):
        node = [node] if rnd.random() < 0.5 else {"a": node}
    return node


def mutate_bytes(data: bytes, rnd: random.Random, corpus: tuple[bytes, ...] = ()) -> bytes:
    """One to four byte-level mutations of `data`."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(9)
        pos = rnd.randint(0, len(buf))
        if op == 0 and buf:  # flip a bit
            i = rnd.randrange(len(buf))
            buf[i] ^= 1 << rnd.randrange(8)
        elif op == 1 and buf:  # an interesting byte
            buf[rnd.randrange(len(buf))] = rnd.choice((0, 0x7F, 0x80, 0xFF, 0x30, 0x39, 0x22, 0x5C, 0x0A))
        elif op == 2:  # insert a token
            buf[pos:pos] = rnd.choice(TOKENS)
        elif op == 3 and buf:  # delete a range
            end = min(len(buf), pos + rnd.randint(1, 64))
            del buf[pos:end]
        elif op == 4 and buf:  # duplicate a range
            start = rnd.randrange(len(buf))
            chunk = buf[start : start + rnd.randint(1, 256)]
            buf[pos:pos] = chunk * rnd.randint(1, 8)
        elif op == 5:  # truncate
            del buf[pos:]
        elif op == 6 and corpus:  # splice another sample in
            other = rnd.choice(corpus)
            start = rnd.randint(0, len(other))
            buf[pos:] = other[start:]
        elif op == 7:  # random bytes
            buf[pos:pos] = rnd.randbytes(rnd.randint(1, 32))
        else:  # overwrite a digit run with a huge or negative number
            buf[pos:pos] = rnd.choice((b"-1", b"9" * 4400, b"18446744073709551616", b"0777777777777"))
    return bytes(buf)


def _nodes(doc: Any, limit: int = 2000, max_depth: int = 24) -> list[tuple[Any, ...]]:
    """Paths of the document's nodes (breadth first, bounded: a mutated tree may already be deep)."""
    out: list[tuple[Any, ...]] = []
    queue: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        out.append(path)
        if len(path) >= max_depth:
            continue
        if isinstance(node, dict):
            queue.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            queue.extend(((*path, i), v) for i, v in enumerate(node))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def mutate_tree(doc: Any, rnd: random.Random, keys: tuple[str, ...] = ()) -> Any:
    """One to three structural mutations of a decoded JSON/YAML document (mutated in place and returned)."""
    for _ in range(rnd.randint(1, 3)):
        paths = _nodes(doc)
        path = rnd.choice(paths)
        op = rnd.randrange(6)
        if op == 0:
            doc = _set(doc, path, hostile(rnd))
        elif op == 1:  # the last mutation: nothing walks into the deep part afterwards
            return _set(doc, path, deep(rnd))
        elif op == 2 and path:  # drop a key or item
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif op == 3:  # add a known key with a hostile value (keys the format really has)
            node = _get(doc, path)
            if isinstance(node, dict):
                node[rnd.choice(keys) if keys and rnd.random() < 0.8 else "x"] = hostile(rnd)
            elif isinstance(node, list):
                node.append(hostile(rnd))
        elif op == 4:  # wrap the node: a scalar where a list was, a list where a scalar was
            doc = _set(doc, path, [_get(doc, path)] if rnd.random() < 0.5 else {"x": _get(doc, path)})
        else:  # copy a subtree over another (types that exist elsewhere in the document)
            other = rnd.choice(paths)
            if other[: len(path)] != path:  # not into itself
                doc = _set(doc, path, json.loads(json.dumps(_get(doc, other), allow_nan=True, default=str)))
    return doc


def dump_json(doc: Any) -> bytes:
    """JSON text of a (possibly hostile) tree: lone surrogates kept as `\\ud800` escapes, deep trees
    written without recursion limits (json.dumps itself would hit one)."""
    try:
        return json.dumps(doc, allow_nan=True).encode()
    except (RecursionError, ValueError):
        return _dump_iter(doc).encode()


def _dump_iter(doc: Any) -> str:
    parts: list[str] = []
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and node.startswith("\0raw:"):
            parts.append(node[5:])
        elif isinstance(node, dict):
            parts.append("{")
            items = list(node.items())
            stack.append("\0raw:}")
            for i in range(len(items) - 1, -1, -1):
                stack.append(items[i][1])
                stack.append("\0raw:" + ("," if i else "") + json.dumps(str(items[i][0])) + ":")
        elif isinstance(node, list):
            parts.append("[")
            stack.append("\0raw:]")
            for i in range(len(node) - 1, -1, -1):
                stack.append(node[i])
                if i:
                    stack.append("\0raw:,")
        else:
            try:
                parts.append(json.dumps(node, allow_nan=True))
            except ValueError:  # an int beyond str()'s digit limit: write its digits by hand
                parts.append("9" * 5000)
    return "".join(parts)


def collect_keys(doc: Any, out: set[str] | None = None, depth: int = 0) -> set[str]:
    """Every mapping key of a sample document (the vocabulary structured inputs are built from)."""
    out = set() if out is None else out
    if depth > 40:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(str(k))
            collect_keys(v, out, depth + 1)
    elif isinstance(doc, list):
        for v in doc:
            collect_keys(v, out, depth + 1)
    return out
