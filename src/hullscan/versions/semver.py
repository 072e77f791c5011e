"""SemVer 2.0 ordering, read leniently the way vulnerability feeds write versions.

Hand-written because the feeds this scheme serves (crates.io, Hex, SwiftURL, grype's "semantic"
format, osv-scanner's shared fixture) use versions strict SemVer libraries reject: a leading `v`,
fewer or more than three numeric parts (`1.21`, `1.2.3.4`), a pre-release glued on without a
hyphen (`1.21rc2`, `1.0.0.beta`), numbers beyond 64 bits.

Ordering: numeric release parts (missing parts are 0); then a version without pre-release sorts
after one with; pre-release identifiers compare left to right, numeric ones as integers and below
alphanumeric ones (compared as ASCII), a shorter list first. Build metadata (`+...`) is ignored.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_RELEASE = re.compile(r"^(\d+(?:\.\d+)*)")
_STRICT = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def split(v: str) -> tuple[tuple[int, ...], str, str]:
    """(release numbers, pre-release, build) of a leniently read version."""
    s = v.strip()
    if s[:1] in ("v", "V") and s[1:2].isdecimal():
        s = s[1:]
    s, _, build = s.partition("+")
    m = _RELEASE.match(s)
    if m:
        release = tuple(num(x) for x in m.group(1).split("."))
        pre = s[m.end():]
        if pre[:1] in ("-", "."):
            pre = pre[1:]
    else:
        release, pre = (), s
    return release, pre, build


def prerelease_key(pre: str) -> tuple:
    return tuple((0, num(p), "") if p.isdecimal() else (1, 0, p) for p in pre.split("."))


@cached
def semver_key(v: str) -> tuple:
    release, pre, _ = split(v)
    rel = list(release)
    while rel and rel[-1] == 0:
        rel.pop()
    if pre:
        return (tuple(rel), 0, prerelease_key(pre))
    return (tuple(rel), 1, ())


class SemVer(Scheme):
    """SemVer 2.0 (crates.io, Hex, SwiftURL), lenient about how versions are spelled."""

    name = "semver"

    def key(self, v: str) -> tuple:
        return semver_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = semver_key(a), semver_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_STRICT.match(v.strip()))

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """npm/Cargo-style ranges (`^`, `~`, x-ranges, hyphen ranges, `||`), see npm.py."""
        from hullscan.versions import npm  # npm.py builds on SemVer: a cycle at import time

        return npm.satisfies_range(self, version, constraint)
