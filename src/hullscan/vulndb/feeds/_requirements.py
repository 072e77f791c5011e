"""Requirement strings (RustSec semver, RubySec gem) -> OSV range events, where exactly expressible.

A list of `patched` and `unaffected` requirement strings says which versions are SAFE; an advisory
affects every other version. Each string is an intersection of comparators; when each one is a
half-open interval [lo, hi) (`>=`, `<`, `^`, `~`, `~>`, bare Cargo versions), the union of the safe
intervals is complemented into events [{introduced}, {fixed}, ...]. Anything else (`>`, `<=`, `=`,
`!=`, unparsable) is not exactly expressible: `to_range` then returns the raw strings instead:
`{"type": ..., "requirements": {"patched": [...], "unaffected": [...]}, "dialect": "semver"|"gem"}`.

Hand-written because the only comparisons needed are between the bounds themselves (to sort and merge
intervals); the full schemes live in `hullscan.versions`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

Bound = str | None  # None = unbounded (0 below, infinity above)
_OP = re.compile(r"^\s*(>=|<=|~>|!=|>|<|=|\^|~)?\s*v?([0-9A-Za-z.*+_-]+)\s*$")


# ------------------------------------------------------------------ version orderings (bounds only)


def _semver_key(v: str) -> tuple[Any, ...]:
    core, _, pre = v.split("+", 1)[0].partition("-")
    nums = [int(x) for x in core.split(".")]
    nums += [0] * (3 - len(nums))
    if not pre:
        return (*nums, (1,))
    ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (*nums, (0, ids))


def _gem_segments(v: str) -> list[Any]:
    return [int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[A-Za-z]+", v)]


def _gem_cmp(a: str, b: str) -> int:
    sa, sb = _gem_segments(a), _gem_segments(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else 0
        y = sb[i] if i < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, str) and isinstance(y, str):
            return -1 if x < y else 1
        return -1 if isinstance(x, str) else 1  # a pre-release letter sorts before any number
    return 0


def _cmp_for(dialect: str) -> Callable[[str, str], int]:
    if dialect == "gem":
        return _gem_cmp

    def cmp(a: str, b: str) -> int:
        ka, kb = _semver_key(a), _semver_key(b)
        return (ka > kb) - (ka < kb)

    return cmp


# ------------------------------------------------------------------ comparators -> intervals


def _pad(v: str, n: int = 3) -> str:
    core, sep, rest = v.partition("-")
    parts = core.split(".")
    return ".".join(parts + ["0"] * (n - len(parts))) + sep + rest


def _semver_interval(op: str, v: str) -> tuple[Bound, Bound] | None:
    parts = v.split("-", 1)[0].split(".")
    wild = [p for p in parts if p in ("*", "x", "X")]
    if wild:
        head = parts[: parts.index(wild[0])]
        if not head:
            return (None, None) if op in ("", "^", "~", "=") else None
        op, v, parts = "~" if len(head) >= 2 else "^", ".".join(head), head
    if not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts]
    if op == ">=":
        return _pad(v), None
    if op == "<":
        return None, _pad(v)
    if op in ("", "^"):
        major, minor, patch = (nums + [0, 0])[:3]
        if major > 0 or len(nums) == 1:
            hi = f"{major + 1}.0.0"
        elif minor > 0 or len(nums) == 2:
            hi = f"0.{minor + 1}.0"
        else:
            hi = f"0.0.{patch + 1}"
        return _pad(v), hi
    if op == "~":
        major = nums[0]
        hi = f"{major + 1}.0.0" if len(nums) == 1 else f"{major}.{nums[1] + 1}.0"
        return _pad(v), hi
    return None  # > <= = : not a half-open interval


def _gem_interval(op: str, v: str) -> tuple[Bound, Bound] | None:
    if not re.match(r"^[0-9][0-9A-Za-z.]*$", v):
        return None
    if op == ">=":
        return v, None
    if op == "<":
        return None, v
    if op == "~>":
        segs = v.split(".")
        release = []
        for s in segs:
            if not s.isdigit():
                break
            release.append(int(s))
        if not release:
            return None
        if len(release) > 1:
            release = release[:-1]
        release[-1] += 1
        return v, ".".join(str(x) for x in release)
    return None


def _interval(req: str, dialect: str, cmp: Callable[[str, str], int]) -> tuple[Bound, Bound] | None:
    lo: Bound = None
    hi: Bound = None
    for term in req.split(","):
        if not term.strip():
            continue
        m = _OP.match(term)
        if not m:
            return None
        op, v = m.group(1) or "", m.group(2)
        if dialect == "gem":
            if op == "":
                return None  # a bare gem version means `=`
            iv = _gem_interval(op, v)
        else:
            try:
                iv = _semver_interval(op, v)
            except ValueError:
                return None
        if iv is None:
            return None
        try:
            if iv[0] is not None and (lo is None or cmp(iv[0], lo) > 0):
                lo = iv[0]
            if iv[1] is not None and (hi is None or cmp(iv[1], hi) < 0):
                hi = iv[1]
        except ValueError:
            return None
    return lo, hi


def to_events(patched: list[str], unaffected: list[str], dialect: str) -> list[dict[str, str]] | None:
    """OSV events of the versions NOT covered by any requirement, or None if not exactly expressible."""
    cmp = _cmp_for(dialect)
    ivs = []
    for req in list(patched) + list(unaffected):
        iv = _interval(req, dialect, cmp)
        if iv is None:
            return None
        lo, hi = iv
        try:
            if lo is not None and hi is not None and cmp(lo, hi) >= 0:
                continue  # empty interval
        except ValueError:
            return None
        ivs.append(iv)

    def by_lo(a: tuple[Bound, Bound], b: tuple[Bound, Bound]) -> int:
        if a[0] is None or b[0] is None:
            return (a[0] is not None) - (b[0] is not None)
        return cmp(a[0], b[0])

    try:
        ivs.sort(key=functools.cmp_to_key(by_lo))
        merged: list[list[Bound]] = []
        for lo, hi in ivs:
            if merged:
                last = merged[-1]
                if last[1] is None or (lo is not None and cmp(lo, last[1]) <= 0) or lo is None:
                    if last[1] is not None and (hi is None or cmp(hi, last[1]) > 0):
                        last[1] = hi
                    continue
            merged.append([lo, hi])
    except ValueError:
        return None
    events: list[dict[str, str]] = []
    pos: Bound = "0"
    for lo, hi in merged:
        if lo is not None and pos is not None:
            events += [{"introduced": pos}, {"fixed": lo}]
        if hi is None:
            pos = None
            break
        pos = hi
    if pos is not None:
        events.append({"introduced": pos})
    return events


def to_range(patched: list[str], unaffected: list[str], dialect: str, range_type: str) -> dict[str, Any]:
    """The stored range: events when exact, else the raw requirement strings (module docstring)."""
    events = to_events(patched, unaffected, dialect)
    if events is not None:
        return {"type": range_type, "events": events}
    return {"type": range_type, "requirements": {"patched": list(patched), "unaffected": list(unaffected)},
            "dialect": dialect}
