"""Debian (dpkg) version ordering: `[epoch:]upstream[-revision]`.

Written by hand from dpkg's `verrevcmp` (lib/dpkg/version.c) rather than taken from a library:
`python-apt` is a system package not installable from PyPI, and the PyPI ports we measured differ
on `~`, empty revisions and leading zeroes. It is exactly right here and checked in the tests
against `apt_pkg.version_compare` when python3-apt is present.

The key flattens dpkg's alternation of non-digit and digit runs into one tuple: each non-digit run
becomes the dpkg weight of each character (`~` = -1, letters = their code, other characters =
code + 256) followed by 0 (dpkg's end-of-run weight), then the digit run's integer value. A string
that ends early compares as if padded with zeroes, so one extra 0 is appended to every key.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_RUN = re.compile(r"(\D*)(\d*)")
_VALID = re.compile(r"^(?:\d+:)?\d[A-Za-z0-9.+~:-]*$")


def _weight(c: str) -> int:
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def _part_key(s: str) -> tuple[int, ...]:
    if not s:
        s = "0"  # dpkg: an absent part compares like "0" (`1.0` == `1.0-0`)
    out: list[int] = []
    for m in _RUN.finditer(s):
        nondigit, digit = m.group(1), m.group(2)
        if not nondigit and not digit:
            continue
        out.extend(_weight(c) for c in nondigit)
        out.append(0)
        out.append(num(digit) if digit else 0)
    out.append(0)
    return tuple(out)


def split(v: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision) as dpkg's parseversion splits them."""
    v = v.strip()
    epoch = 0
    if ":" in v:
        e, rest = v.split(":", 1)
        if e.isdecimal():
            epoch = num(e)
            v = rest
    if "-" in v:
        upstream, revision = v.rsplit("-", 1)
    else:
        upstream, revision = v, ""
    return epoch, upstream, revision


@cached
def deb_key(v: str) -> tuple:
    epoch, upstream, revision = split(v)
    return (epoch, _part_key(upstream), _part_key(revision))


class Deb(Scheme):
    """dpkg ordering (Debian, Ubuntu and their derivatives)."""

    name = "deb"

    def key(self, v: str) -> tuple:
        return deb_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = deb_key(a), deb_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_VALID.match(v.strip()))
