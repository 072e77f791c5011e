"""NuGet versions (NuGet.Versioning's SemanticVersion/NuGetVersion ordering).

Hand-written (no Python port): up to four numeric parts (missing = 0, leading zeros ignored, so
`1.0.01` == `1.0.1.0`), then a version without a release label sorts after one with; labels are
dot-separated, numeric ones compare as integers and before alphanumeric ones, which compare
case-insensitively (ordinal); a shorter label list sorts first. `+metadata` is ignored.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.maven import satisfies_interval

_VALID = re.compile(r"^v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-.]+)?$")
_NUMS = re.compile(r"^\d+(?:\.\d+)*")


@cached
def nuget_key(v: str) -> tuple:
    s = v.strip()
    if s[:1] in ("v", "V") and s[1:2].isdecimal():
        s = s[1:]
    s = s.split("+", 1)[0]
    m = _NUMS.match(s)
    nums = [num(x) for x in m.group(0).split(".")] if m else []
    rest = s[m.end():] if m else s
    nums = (nums + [0, 0, 0, 0])[:4] if len(nums) <= 4 else nums
    label = rest[1:] if rest.startswith("-") else rest
    if not label:
        return (tuple(nums), 1, ())
    parts = tuple((0, num(p), "") if p.isdecimal() else (1, 0, p.upper()) for p in label.split("."))
    return (tuple(nums), 0, parts)


class NuGet(Scheme):
    """NuGet ordering."""

    name = "nuget"

    def key(self, v: str) -> tuple:
        return nuget_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = nuget_key(a), nuget_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_VALID.match(v.strip()))

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """NuGet ranges (`[1.0,2.0)`) like Maven's, otherwise the cmp terms."""
        c = constraint.strip()
        if c.startswith(("[", "(")):
            return satisfies_interval(self, version, c)
        return super().satisfies_native(version, constraint)
