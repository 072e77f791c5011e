"""Packagist (Composer) versions, ordered like PHP's `version_compare`.

Composer itself orders normalized versions with `version_compare`; the reference fixtures
(osv-scalibr, which copies php-src's own tests) follow it. Re-implemented from
ext/standard/versioning.c (no Python library has it):

1. canonicalize: `-`, `_`, `+` become `.`, a `.` is inserted wherever a digit meets a non-digit,
   repeated dots collapse; other characters stay part of their word (so `1.2.3.#` reads as the
   special form `#`, equal to any number, as the reference fixtures expect — PHP would drop it);
2. compare dot-separated parts left to right: numbers numerically; words by their special form
   (prefix match) dev < alpha = a < beta = b < RC = rc < # < pl = p, anything else below dev;
   a number is "#" against a word;
3. when one side runs out, its next part decides: a number makes the longer version newer,
   a word is compared as a special form against "#".

A leading `v` (`v1.2.3`, common in Packagist tags) is dropped first, as Composer's
VersionParser does.
"""

from __future__ import annotations

import functools

from hullscan.versions._base import Scheme, cached

_SPECIAL = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3),
            ("#", 4), ("pl", 5), ("p", 5))


def _special(form: str) -> int:
    for name, order in _SPECIAL:
        if form.startswith(name):
            return order
    return -6


def canonicalize(v: str) -> str:
    if not v:
        return v
    out = [v[0]]
    lp = v[0]
    for c in v[1:]:
        lq = out[-1]
        if c in "-_+":
            if lq != ".":
                out.append(".")
        elif (not lp.isdigit() and lp != "." and c.isdigit()) or (lp.isdigit() and not c.isdigit() and c != "."):
            if lq != ".":
                out.append(".")
            out.append(c)
        else:
            out.append(c)
        lp = c
    return "".join(out)


def _isdigit(s: str) -> bool:
    return s[:1].isdigit()


def _strtol(s: str) -> int:
    n = 0
    for c in s:
        if not c.isdigit():
            break
        n = n * 10 + ord(c) - 48
    return n


@cached
def _parts(v: str) -> tuple[str, ...]:
    s = v.strip()
    if s[:1] in ("v", "V") and s[1:2].isdigit():
        s = s[1:]
    c = canonicalize(s)
    return tuple(c.split("."))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _compare_parts(p1: tuple[str, ...], p2: tuple[str, ...]) -> int:
    i = 0
    n = min(len(p1), len(p2))
    compare = 0
    while i < n and compare == 0:
        a, b = p1[i], p2[i]
        if _isdigit(a) and _isdigit(b):
            compare = _sign(_strtol(a) - _strtol(b))
        elif not _isdigit(a) and not _isdigit(b):
            compare = _sign(_special(a) - _special(b))
        elif _isdigit(a):
            compare = _sign(_special("#N#") - _special(b))
        else:
            compare = _sign(_special(a) - _special("#N#"))
        i += 1
    if compare == 0:
        if len(p1) > i:
            compare = 1 if _isdigit(p1[i]) else _compare_parts(p1[i:], ("#N#",))
        elif len(p2) > i:
            compare = -1 if _isdigit(p2[i]) else _compare_parts(("#N#",), p2[i:])
    return compare


def php_version_compare(a: str, b: str) -> int:
    """PHP's version_compare(a, b) on the canonical forms."""
    if not a or not b:
        return _sign((1 if a else 0) - (1 if b else 0)) if (a or b) else 0
    return _compare_parts(_parts(a), _parts(b))


class Composer(Scheme):
    """Composer/Packagist ordering."""

    name = "composer"

    def compare(self, a: str, b: str) -> int:
        return php_version_compare(a, b)

    def key(self, v: str):
        return _KEY(v)

    def valid(self, v: str) -> bool:
        return bool(v.strip())


_KEY = functools.cmp_to_key(php_version_compare)
