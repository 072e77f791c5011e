"""RubyGems versions (`Gem::Version`) and requirements (`~>`, `>=`, ...).

Re-implemented from rubygems' lib/rubygems/version.rb and requirement.rb (no Python port exists).
A version is stripped, `-` becomes `.pre.`, and it is cut into numeric and alphabetic segments
(`1.0.a10` -> 1, 0, "a", 10). Trailing zeros are dropped from the numeric part and from the
alphabetic tail ("canonical segments"); then segments compare left to right, missing ones as 0,
a string below a number, strings byte-wise. Any letter makes a pre-release.

`~> 1.5.5` means `>= 1.5.5, < 1.6` (the release with its last segment dropped and the new last one
bumped). Installed gems carry a platform (`1.13.1-x86_64-linux`, `1.8.6-java`, `-x86-mingw32`):
a trailing platform (a known CPU or OS name after a `-`) is dropped before ordering, as Bundler
does when it picks a platform-specific gem; Gem::Version itself would reject or misread it.
"""

from __future__ import annotations

import functools
import re

from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.constraints import satisfies_cmp

_VALID = re.compile(r"^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")
_PLATFORM = re.compile(
    r"-(?:x86_64|x86|x64|i[3-6]86|amd64|universal|arm64|armv\d+\w*|arm|aarch64|powerpc\w*|ppc\w*|"
    r"s390x?|sparc\w*|mips\w*|riscv64|java|jruby|dalvik\d*|mswin\w*|mingw\w*|darwin\w*|linux\w*)"
    r"(?:-[0-9A-Za-z_.-]*)?$"
)
_REQUIREMENT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*$")


@cached
def canonical_segments(v: str) -> tuple:
    s = strip_platform(v)
    if not s:
        s = "0"
    s = s.replace("-", ".pre.")
    segs: list = [num(x) if x.isdecimal() else x for x in _SEGMENT.findall(s)]
    string_start = next((i for i, x in enumerate(segs) if isinstance(x, str)), len(segs))
    numeric, strings = segs[:string_start], segs[string_start:]
    while numeric and numeric[-1] == 0:
        numeric.pop()
    while strings and strings[-1] == 0:
        strings.pop()
    return tuple(numeric + strings)


def gem_compare(a: str, b: str) -> int:
    if a == b:
        return 0
    la, lb = canonical_segments(a), canonical_segments(b)
    if la == lb:
        return 0
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else 0
        y = lb[i] if i < len(lb) else 0
        if x == y:
            continue
        if isinstance(x, str) and not isinstance(y, str):
            return -1
        if not isinstance(x, str) and isinstance(y, str):
            return 1
        return (x > y) - (x < y)
    return 0


def is_prerelease(v: str) -> bool:
    return any(c.isalpha() for c in v.replace("-", ".pre."))


def release(v: str) -> str:
    """The version without its pre-release segments (`1.2.a.3` -> `1.2`)."""
    segs = list(canonical_segments(v))
    while any(isinstance(x, str) for x in segs):
        segs.pop()
    return ".".join(str(x) for x in segs) or "0"


def bump(v: str) -> str:
    """`~>`'s upper bound: drop pre-release segments and the last segment, bump the new last."""
    segs = [num(x) if x.isdecimal() else x for x in _SEGMENT.findall(v.strip().replace("-", ".pre."))]
    while any(isinstance(x, str) for x in segs):
        segs.pop()
    if len(segs) > 1:
        segs.pop()
    if not segs:
        segs = [0]
    segs[-1] = segs[-1] + 1
    return ".".join(str(x) for x in segs)


def strip_platform(v: str) -> str:
    return _PLATFORM.sub("", v.strip())


class Gem(Scheme):
    """RubyGems ordering and requirements."""

    name = "gem"

    def compare(self, a: str, b: str) -> int:
        return gem_compare(a, b)

    def key(self, v: str):
        return _KEY(v)

    def valid(self, v: str) -> bool:
        return bool(_VALID.match(v))

    def satisfies(self, version: str, constraint: str, dialect: str = "cmp") -> bool:
        return super().satisfies(strip_platform(version), constraint, dialect)

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """A gem requirement: comma-separated terms that must all hold; `||` alternatives."""
        version = strip_platform(version)
        for alt in constraint.split("||"):
            terms = [t for t in alt.split(",") if t.strip()]
            if all(self._term(version, t) for t in terms):
                return True
        return False

    def _term(self, version: str, term: str) -> bool:
        m = _REQUIREMENT.match(term)
        if not m:  # not one requirement (e.g. ">= 1.0 < 2"): read it as cmp terms
            return satisfies_cmp(self, version, term)
        op, req = m.group(1) or "=", m.group(2)
        if not _VALID.match(req):
            raise ValueError(f"not a gem requirement: {term.strip()!r}")
        c = gem_compare(version, req)
        if op == "=":
            return c == 0
        if op == "!=":
            return c != 0
        if op == ">":
            return c > 0
        if op == "<":
            return c < 0
        if op == ">=":
            return c >= 0
        if op == "<=":
            return c <= 0
        return c >= 0 and gem_compare(release(version), bump(req)) < 0  # ~>


_KEY = functools.cmp_to_key(gem_compare)
