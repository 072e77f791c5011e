"""Gentoo (portage) versions, per the Package Manager Specification, section "Version comparison".

Hand-written (no Python library outside portage itself). A version is
`N(.N)*[letter](_suffix[N])*[-rN]`; comparison goes:

1. the first number as an integer; each further number as an integer, unless either side starts
   with `0`, in which case both compare as strings with trailing zeros removed (`1.01` < `1.1`);
   with equal common parts, the version with more numbers is newer (`12.2` < `12.2.0`);
2. the letter (none sorts first);
3. suffixes pairwise, alpha < beta < pre < rc < p, then their numbers; when one side runs out,
   the other is newer if its next suffix is `_p` and older otherwise;
4. the revision `-rN` (none = r0).
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_VERSION = re.compile(
    r"^(?P<nums>\d+(?:\.\d+)*)(?P<letter>[a-z])?(?P<suffixes>(?:_(?:alpha|beta|pre|rc|p)\d*)*)(?:-r(?P<rev>\d+))?$"
)
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|p)(\d*)")
_WEIGHT = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "p": 5}
_NO_SUFFIX = (4, 0)


@cached
def portage_key(v: str) -> tuple:
    s = v.strip()
    m = _VERSION.match(s)
    if m is None:
        # not a PMS version: order what can be read, the rest as text after everything valid
        return (((1, -1),), "", (), 0, s)
    nums = m.group("nums").split(".")
    comps: list[tuple] = [(1, num(nums[0]))]
    for n in nums[1:]:
        comps.append((0, n.rstrip("0")) if n.startswith("0") else (1, num(n)))
    # tuples compare pairwise, then the longer one wins: exactly PMS's rule for the numbers
    sufs = [(_WEIGHT[name], num(n or "0")) for name, n in _SUFFIX.findall(m.group("suffixes"))]
    sufs.append(_NO_SUFFIX)
    return (tuple(comps), m.group("letter") or "", tuple(sufs), num(m.group("rev") or "0"), "")


class Portage(Scheme):
    """Gentoo PMS ordering."""

    name = "portage"

    def key(self, v: str) -> tuple:
        return portage_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = portage_key(a), portage_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_VERSION.match(v.strip()))
