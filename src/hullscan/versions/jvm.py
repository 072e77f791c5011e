"""Java runtime versions (JDK/JRE), old and new spellings on one scale.

Before JEP 223 Java was versioned `1.8.0_131-b11` (`1.<major>.<minor>_<update>`); since Java 9 it is
`<major>.<minor>.<security>[-pre][+build]`, and vendors mix the two (`8.0.131+b2`,
`1.8.0-update131-b02`). Both are mapped to major.minor.patch with the update as the patch and an
optional pre-release (`ea`); the build number is ignored, then SemVer ordering applies. Written by
hand: this is a matching convention (grype's "jvm" format), not a library's job.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.semver import semver_key

_LEGACY = re.compile(
    r"^1\.(?P<M>\d+)(?:\.(?P<m>\d+)(?:[_-](?:update)?_?(?P<p>\d+))?)?(?:-(?!b\d)(?P<pre>[0-9A-Za-z.]+))?"
)
_MODERN = re.compile(
    r"^(?P<M>\d+)(?:\.(?P<m>\d+)(?:\.(?P<p>\d+))?(?:[_-](?:update)?_?(?P<u>\d+))?)?(?:-(?!b\d)(?P<pre>[0-9A-Za-z.]+))?"
)


@cached
def jvm_key(v: str) -> tuple:
    s = v.strip().split("+", 1)[0]
    m = _LEGACY.match(s) if s.startswith("1.") else None
    if m:
        M, mi, p, pre = m.group("M"), m.group("m") or "0", m.group("p") or "0", m.group("pre")
    else:
        m = _MODERN.match(s)
        if not m:
            return semver_key(s)
        M, mi, p, pre = m.group("M"), m.group("m") or "0", m.group("p") or "0", m.group("pre")
        if num(p) == 0 and m.group("u"):
            p = m.group("u")
    return semver_key(f"{_digits(M)}.{_digits(mi)}.{_digits(p)}" + (f"-{pre}" if pre else ""))


class Jvm(Scheme):
    """JDK/JRE release ordering across pre- and post-JEP 223 spellings."""

    name = "jvm"

    def key(self, v: str) -> tuple:
        return jvm_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = jvm_key(a), jvm_key(b)
        return (ka > kb) - (ka < kb)


def _digits(run: str) -> str:
    """`str(int(run))` without the 4300-digit limit of int <-> str conversions."""
    return run.lstrip("0") or "0"
