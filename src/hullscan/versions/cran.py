"""CRAN (R) package versions: non-negative integers separated by `.` or `-`.

R's `package_version` compares the integer lists element by element and a longer list is newer
when the shorter is its prefix (`1.8` < `1.8.0`); leading zeros do not matter (`0.01` = `0.1`).
Written by hand: it is a few lines and no Python library implements R's rule.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Scheme, cached, num

_VALID = re.compile(r"^\d+(?:[.-]\d+)+$")


@cached
def cran_key(v: str) -> tuple:
    return tuple(num(p) if p.isdecimal() else -1 for p in re.split(r"[.-]", v.strip()) if p != "")


class Cran(Scheme):
    """R package_version ordering (CRAN, Bioconductor)."""

    name = "cran"

    def key(self, v: str) -> tuple:
        return cran_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = cran_key(a), cran_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(_VALID.match(v.strip()))
