"""RPM version ordering: `[epoch:]version[-release]`, compared part by part with rpmvercmp.

Hand-written from rpm's `rpmvio/rpmvercmp.c` (no PyPI library reproduces `~` and `^` and the
separator rules exactly; python3-rpm is a system package). The tests check it against librpm.

rpmvercmp walks both strings: separators (anything but ASCII letters, digits, `~`, `^`) are skipped;
`~` sorts before everything, even the end of the string; `^` sorts after the end of the string but
before anything else; letters sort before digits; digit runs compare as integers, letter runs as
ASCII strings; when one string runs out the other (still holding a segment) is newer. The key is
that walk as a tuple of (rank, value) tokens with ranks ~ < end < ^ < letters < digits.

Splitting follows rpm's parseEVR: a numeric epoch ended by `:` (missing = 0), the release after
the last `-`; a colon that does not end a numeric epoch is part of the version.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_TOKEN = re.compile(r"~|\^|[0-9]+|[A-Za-z]+")
_TILDE, _END, _CARET, _ALPHA, _NUM = 0, 1, 2, 3, 4


@cached
def vercmp_key(s: str) -> tuple:
    """Key of one component under rpmvercmp; the empty component sorts before anything."""
    if not s:
        return ()
    out: list[tuple] = []
    for tok in _TOKEN.findall(s):
        if tok == "~":
            out.append((_TILDE, 0))
        elif tok == "^":
            out.append((_CARET, 0))
        elif tok[0].isdecimal():
            out.append((_NUM, num(tok)))
        else:
            out.append((_ALPHA, tok))
    out.append((_END, 0))
    return tuple(out)


def split(v: str) -> tuple[str, str, str]:
    """(epoch, version, release) as rpm's parseEVR splits them: the epoch is a run of leading
    digits ended by `:` (an empty one is "0"); the release follows the last `-` and keeps that
    `-`, so `1-` (empty release) sorts after `1` (none) as the reference fixtures expect."""
    v = v.strip()
    i = 0
    while i < len(v) and v[i].isascii() and v[i].isdecimal():
        i += 1
    if i < len(v) and v[i] == ":":
        epoch, rest = v[:i] or "0", v[i + 1:]
    else:
        epoch, rest = "0", v
    if "-" in rest:
        version, release = rest.rsplit("-", 1)
        release = "-" + release
    else:
        version, release = rest, ""
    return epoch, version, release


@cached
def rpm_key(v: str) -> tuple:
    e, ver, rel = split(v)
    return (vercmp_key(e), vercmp_key(ver), vercmp_key(rel))


class Rpm(Scheme):
    """RPM EVR ordering (Red Hat, Fedora, SUSE, Photon, Mariner, Amazon, Oracle, Alma, Rocky)."""

    name = "rpm"

    def key(self, v: str) -> tuple:
        return rpm_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = rpm_key(a), rpm_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(v.strip()) and not any(c.isspace() for c in v.strip())
