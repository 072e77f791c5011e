"""Fallback ordering for versions of unknown format (grype's "fuzzy" format).

Used only when nothing says which ecosystem a version belongs to. `compare` walks both strings
part by part (parts end at ASCII punctuation): the leading digits of two parts are compared by
value (the shorter run is left-padded with zeros), then the rest of the part as text, except that
a letter run followed by a number (`p9`, `rc10`, `SP1`) compares that number by value; when every
part so far is equal the longer string wins (`1.0.0` < `1.0.0-post1`). A leading `v` is ignored.
This reproduces the "smart" comparison NVD tooling uses for free-form product versions.

Inside constraints, when both the version and the bound look like (partial) SemVer, SemVer
ordering is used instead (`2.0-beta-3` < `2.0`).
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, num
from hullscan.versions.semver import semver_key

_PSEUDO_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(\.(0|[1-9]\d*))?(\.(0|[1-9]\d*))?"
    r"(?:(-|alpha|beta|rc)((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
_LETTER_NUMBER = re.compile(r"^(.*?[A-Za-z])(\d+)$")


def _part(s: str) -> tuple[int, int, int]:
    """(length of leading digits, end of the part, start of the next part)."""
    num = 0
    while num < len(s) and s[num].isdecimal() and s[num].isascii():
        num += 1
    if num == len(s):
        return num, num, num
    m = _PUNCT.search(s)
    if m is None:
        return num, len(s), len(s)
    return num, m.start(), m.start() + 1


def _text_cmp(a: str, b: str) -> int:
    ma, mb = _LETTER_NUMBER.match(a), _LETTER_NUMBER.match(b)
    if ma and mb:
        if ma.group(1) != mb.group(1):
            return (ma.group(1) > mb.group(1)) - (ma.group(1) < mb.group(1))
        x, y = num(ma.group(2)), num(mb.group(2))
        if x != y:
            return (x > y) - (x < y)
    return (a > b) - (a < b)


def fuzzy_compare(v1: str, v2: str) -> int:
    v1, v2 = v1.strip(), v2.strip()
    v1 = v1[1:] if v1[:1] in ("v", "V") else v1
    v2 = v2[1:] if v2[:1] in ("v", "V") else v2
    s1, s2 = v1, v2
    while s1 and s2:
        n1, end1, skip1 = _part(s1)
        n2, end2, skip2 = _part(s2)
        p1, p2 = s1[:end1], s2[:end2]
        if n1 > n2:
            p2 = "0" * (n1 - n2) + p2
        elif n2 > n1:
            p1 = "0" * (n2 - n1) + p1
        c = _text_cmp(p1, p2)
        if c:
            return c
        s1, s2 = s1[skip1:], s2[skip2:]
    return (len(v1) > len(v2)) - (len(v1) < len(v2))


def _semverish(v: str) -> bool:
    return bool(_PSEUDO_SEMVER.match(v.strip()))


class Fuzzy(Scheme):
    """Best-effort ordering for versions of unknown format."""

    name = "fuzzy"

    def compare(self, a: str, b: str) -> int:
        return fuzzy_compare(a, b)

    def compare_to_bound(self, version: str, bound: str) -> int:
        if _semverish(version) and _semverish(bound):
            ka, kb = semver_key(version), semver_key(bound)
            return (ka > kb) - (ka < kb)
        return fuzzy_compare(version, bound)
