"""The `Scheme` interface every version scheme implements.

A scheme turns a version string into a *key*: a plain Python value (tuples of ints and strings)
whose natural ordering is the ecosystem's ordering. Comparing keys is cheap, keys are cached per
string, and sorting thousands of versions is one `sorted(..., key=scheme.key)`. Schemes whose
rules cannot be flattened into a key (a comparison that is not a total order) override `compare`
and get their key from `functools.cmp_to_key`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hullscan.versions import constraints


class Scheme:
    """One ecosystem's version ordering plus its constraint syntax."""

    #: registry name, e.g. "deb"
    name: str = ""

    def key(self, v: str) -> Any:
        """A sortable key: `key(a) < key(b)` exactly when `a` sorts before `b`."""
        return functools.cmp_to_key(self.compare)(v)

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as `a` is older than, equal to or newer than `b`."""
        ka, kb = self.key(a), self.key(b)
        order: int = (ka > kb) - (ka < kb)
        return order

    def compare_to_bound(self, version: str, bound: str) -> int:
        """Compare a version with a constraint's bound; schemes whose constraints ignore part of
        the version (PEP 440 local labels) override this."""
        return self.compare(version, bound)

    def valid(self, v: str) -> bool:
        """Whether `v` is a well-formed version of this scheme (lenient schemes accept more)."""
        return bool(v)

    def satisfies(self, version: str, constraint: str, dialect: str = "cmp") -> bool:
        """Whether `version` satisfies `constraint` written in `dialect`.

        Dialects: "cmp" (the comparison-term syntax of tests/versions/testdata/vectors/README.md, evaluated with
        this scheme), "native" or "trivy-<scheme>" (the ecosystem's own range syntax), "pep440".
        """
        return constraints.satisfies(self, version, constraint, dialect)

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """The ecosystem's own range syntax; by default the `cmp` terms."""
        return constraints.satisfies_cmp(self, version, constraint)

    def __repr__(self) -> str:
        return f"<Scheme {self.name}>"


def cached(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    """Cache parsed keys: matching compares the same few thousand strings over and over."""
    return functools.lru_cache(maxsize=1 << 17)(fn)


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


_CHUNK = 4000


def num(digits: str) -> int:
    """`int()` of a run of decimal digits of any length. Python refuses str → int conversions past
    4300 digits (`sys.int_info.str_digits_check_threshold`, a ValueError), and a hostile version
    string is easily that long; arithmetic has no such limit, so long runs are read in chunks."""
    if len(digits) <= _CHUNK:
        return int(digits)
    value = 0
    for i in range(0, len(digits), _CHUNK):
        chunk = digits[i : i + _CHUNK]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def incr(digits: str) -> str:
    """`str(int(digits) + 1)` for a run of decimal digits of any length (str() has the same limit)."""
    s = digits.lstrip("0") or "0"
    if len(s) <= _CHUNK:
        return str(int(s) + 1)
    head = s.rstrip("9")  # 1299 + 1 = 1300: the last digit that is not a 9 goes up, the 9s after it become 0s
    nines = len(s) - len(head)
    bumped = head[:-1] + str(int(head[-1]) + 1) if head else "1"
    return bumped + "0" * nines
