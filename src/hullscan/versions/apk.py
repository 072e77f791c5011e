"""Alpine (apk) version ordering: `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`.

Hand-written from the format in apk-package(5) and the ordering the osv-scalibr/osv-scanner
fixtures record for current apk-tools (no Python library implements apk ordering). Parts compare
in this order:

1. numeric components, padded with 0; the first compares as an integer, later ones too unless
   either side has a leading zero, in which case the digit strings compare as strings
   (so `1.05` < `1.5`, as apk treats a leading zero as a fraction);
2. the optional single lower-case letter (none sorts first);
3. suffixes, in order, weighted alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p,
   each with its number;
4. the `-rN` build number (missing = 0); the `~hash` is ignored;
5. anything left unparsed makes a version older than one parsed completely.

A leading `v`/`V` before a digit (tag spelling found in feeds) is ignored.

Two versions that both fail to parse (text after the build number that is not `-rN`) compare as
plain strings, so `compare` is the source of truth and `key` matches it for every valid version.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_NUMBERS = re.compile(r"^(?:\d+\.?)*")
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_WEIGHT = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_NO_SUFFIX = (4, 0)
_HASH = re.compile(r"^~[0-9a-f]+")
_BUILD = re.compile(r"^-r(\d*)")
_STRICT = re.compile(
    r"^\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(?:~[0-9a-f]+)?(?:-r\d+)?$"
)


@cached
def parse(v: str) -> tuple[tuple, bool]:
    """(key, invalid)."""
    s = v.strip()
    if s[:1] in ("v", "V") and s[1:2].isdecimal():
        s = s[1:]  # a tag-style "v1.5.0" (seen in scanner data) means 1.5.0
    sub = _NUMBERS.match(s).group(0)  # type: ignore[union-attr]  # the pattern matches the empty string
    s = s[len(sub):]
    comps: list[tuple] = []
    for i, d in enumerate(sub.split(".")):
        if i == 0:
            comps.append((1, num(d) if d else 0))
        elif d.startswith("0") or not d:
            comps.append((0, d, num(d) if d else 0))
        else:
            comps.append((1, num(d)))
    # missing components pad as 0 and compare numerically, so zero-valued tails vanish
    while len(comps) > 1 and comps[-1][-1] == 0:
        comps.pop()
    comps_key = tuple((c[0], c[1]) for c in comps)

    letter = ""
    if s[:1].isascii() and s[:1].islower() and s[:1].isalpha():
        letter, s = s[0], s[1:]

    suffixes: list[tuple[int, int]] = []
    for m in _SUFFIX.finditer(s):
        suffixes.append((_WEIGHT[m.group(1)], num(m.group(2) or "0")))
        if s.startswith(m.group(0)):
            s = s[len(m.group(0)):]
    suffixes.append(_NO_SUFFIX)

    h = _HASH.match(s)
    if h:
        s = s[h.end():]
    build = 0
    invalid = False
    if s:
        b = _BUILD.match(s)
        if b is None:
            invalid = True
        else:
            build = num(b.group(1) or "0")
            s = s[b.end():]
    return (comps_key, letter, tuple(suffixes), build, 0 if s else 1), invalid


def apk_key(v: str) -> tuple:
    return parse(v)[0]


class Apk(Scheme):
    """apk ordering (Alpine, Wolfi, Chainguard)."""

    name = "apk"

    def key(self, v: str) -> tuple:
        return parse(v)[0]

    def compare(self, a: str, b: str) -> int:
        ka, ia = parse(a)
        kb, ib = parse(b)
        if ia and ib:
            return (a > b) - (a < b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_STRICT.match(v))
