"""Maven versions: `org.apache.maven.artifact.versioning.ComparableVersion`, and Maven ranges.

Re-implemented by hand (no Python library follows ComparableVersion exactly; `univers` differs on
qualifier edge cases). The version is lower-cased and split into a tree of items: `.` separates
items of one list, `-` (and a switch between digits and letters) opens a sub-list. Items are
integers, strings (qualifiers) or lists. Well-known qualifiers order
alpha < beta < milestone < rc = cr < snapshot < "" (= ga = final = release) < sp, and any other
qualifier sorts after them, alphabetically; `a1`/`b1`/`m1` abbreviate alpha/beta/milestone when
followed by a digit. Trailing "null" items (0, "", empty lists) are dropped before comparing; a list is compared
with a missing one item by item (MNG-6964). Two refinements from the POM reference's "Version Order
Specification" that the 3.x class does not have: a null qualifier before a hyphen is trimmed
(`1-ga-1` == `1-1`).

Ranges: `[1.0,2.0)`, `(,1.2.3]`, `[1.5]`, unions `[1,2),[3,)`; other constraints use the cmp terms.
"""

from __future__ import annotations

import functools
import re

from hullscan.versions._base import Scheme, num

_QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))

INT, STR, LIST = 0, 1, 2


def _qualifier_rank(q: str) -> str:
    if q in _QUALIFIERS:
        return str(_QUALIFIERS.index(q))
    return f"{len(_QUALIFIERS)}-{q}"


def _string_item(value: str, followed_by_digit: bool) -> tuple:
    if followed_by_digit and len(value) == 1:
        value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
    value = _ALIASES.get(value, value)
    return (STR, value)


def _digit_item(buf: str) -> tuple:
    return (INT, num(buf))


def _is_null(item: tuple) -> bool:
    kind, val = item
    if kind == INT:
        return val == 0
    if kind == STR:
        return _qualifier_rank(val) == _RELEASE_INDEX
    return len(val) == 0


def _normalize(items: list) -> None:
    i = len(items) - 1
    while i >= 0:
        last = items[i]
        if _is_null(last):
            del items[i]
        elif last[0] != LIST:
            break
        i -= 1


_MAX_DEPTH = 64
"""Sub-lists nest once per `-` or digit/letter switch; `_freeze` and `_cmp` recurse over them, so a
hostile "1-1-1-…" thousands long would overflow the stack. No real version nests this deep."""


@functools.lru_cache(maxsize=1 << 16)
def parse(version: str) -> tuple:
    """The item tree of a version, as nested (kind, value) tuples."""
    version = version.strip().lower()
    root: list = []
    lst = root
    stack: list[list] = [root]
    is_digit = False
    start = 0

    def new_sublist() -> list:
        if len(stack) > _MAX_DEPTH:  # past any real version: the rest stays flat, and compare stays within the stack
            return lst
        sub: list = []
        lst.append((LIST, sub))
        stack.append(sub)
        return sub

    for i, c in enumerate(version):
        if c == ".":
            if i == start:
                lst.append((INT, 0))
            else:
                lst.append(_digit_item(version[start:i]) if is_digit else _string_item(version[start:i], False))
            start = i + 1
        elif c == "-":
            if i == start:
                lst.append((INT, 0))
            else:
                lst.append(_digit_item(version[start:i]) if is_digit else _string_item(version[start:i], False))
            start = i + 1
            lst = new_sublist()
        elif c.isdecimal():
            if not is_digit and i > start:
                lst.append(_string_item(version[start:i], True))
                start = i
                lst = new_sublist()
            is_digit = True
        else:
            if is_digit and i > start:
                lst.append(_digit_item(version[start:i]))
                start = i
                lst = new_sublist()
            is_digit = False
    if len(version) > start:
        lst.append(_digit_item(version[start:]) if is_digit else _string_item(version[start:], False))
    for sub in reversed(stack):
        _normalize(sub)
    return _freeze((LIST, root))


def _freeze(item: tuple, root: bool = True) -> tuple:
    kind, val = item
    if kind == LIST:
        items = tuple(_freeze(x, False) for x in val)
        # a sub-list left holding only another sub-list ("1-ga-1" once "ga" is dropped) is that
        # sub-list: the POM reference trims null values before each hyphen, so 1-ga-1 == 1-1
        while not root and len(items) == 1 and items[0][0] == LIST:
            items = items[0][1]
        return (LIST, items)
    return item


def _cmp(a: tuple | None, b: tuple | None) -> int:
    """ComparableVersion's Item.compareTo, with None for a missing item."""
    if a is None:
        if b is None:
            return 0
        return -_cmp(b, None)
    kind, val = a
    if kind == INT:
        if b is None:
            return 0 if val == 0 else 1
        if b[0] == INT:
            return (val > b[1]) - (val < b[1])
        return 1
    if kind == STR:
        if b is None:
            ra, rb = _qualifier_rank(val), _RELEASE_INDEX
            return (ra > rb) - (ra < rb)
        if b[0] == INT or b[0] == LIST:
            return -1
        ra, rb = _qualifier_rank(val), _qualifier_rank(b[1])
        return (ra > rb) - (ra < rb)
    # LIST
    if b is None:  # the whole list against nothing (MNG-6964), not just its first item
        for it in val:
            r = _cmp(it, None)
            if r:
                return r
        return 0
    if b[0] == INT:
        return -1
    if b[0] == STR:
        return 1
    other = b[1]
    for i in range(max(len(val), len(other))):
        left = val[i] if i < len(val) else None
        right = other[i] if i < len(other) else None
        r = -_cmp(right, left) if left is None else _cmp(left, right)
        if r:
            return r
    return 0


_RANGE = re.compile(r"([\[(])\s*([^,\[\]()]*?)\s*(?:(,)\s*([^,\[\]()]*?)\s*)?([\])])")


class Maven(Scheme):
    """Maven ComparableVersion ordering and version ranges."""

    name = "maven"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        return _cmp(parse(a), parse(b))

    def valid(self, v: str) -> bool:
        return bool(v.strip()) and not any(c.isspace() for c in v.strip())

    def satisfies_native(self, version: str, constraint: str) -> bool:
        c = constraint.strip()
        if not c.startswith(("[", "(")):
            return super().satisfies_native(version, constraint)
        return satisfies_interval(self, version, c)


def satisfies_interval(scheme: Scheme, version: str, ranges: str) -> bool:
    """Maven/NuGet interval notation: `[1.0,2.0)`, `(,1.2.3]`, `[1.5]`, `[1,2),[3,)` (a union)."""
    for m in _RANGE.finditer(ranges):
        lo_br, lo, comma, hi, hi_br = m.groups()
        if not comma:  # [1.0] = exactly 1.0
            if scheme.compare(version, lo) == 0:
                return True
            continue
        ok = True
        if lo:
            r = scheme.compare(version, lo)
            ok = r > 0 or (r == 0 and lo_br == "[")
        if ok and hi:
            r = scheme.compare(version, hi)
            ok = r < 0 or (r == 0 and hi_br == "]")
        if ok:
            return True
    return False
