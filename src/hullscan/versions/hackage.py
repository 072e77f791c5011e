"""Hackage (Haskell) versions: Data.Version's branch, a list of integers compared
lexicographically, a longer list newer when the shorter is its prefix (`1.0` < `1.0.0`)."""

from __future__ import annotations

from hullscan.versions._base import Scheme, cached, num


@cached
def hackage_key(v: str) -> tuple:
    return tuple(num(p) if p.isdecimal() else -1 for p in v.strip().split(".") if p != "")


class Hackage(Scheme):
    """Hackage/GHC ordering."""

    name = "hackage"

    def key(self, v: str) -> tuple:
        return hackage_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = hackage_key(a), hackage_key(b)
        return (ka > kb) - (ka < kb)
