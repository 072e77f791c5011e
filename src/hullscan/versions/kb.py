"""Microsoft KB article numbers: only equality means anything (a KB either is installed or not)."""

from __future__ import annotations

from hullscan.versions._base import Scheme


def _norm(v: str) -> str:
    s = v.strip()
    return s[2:] if s[:2].upper() == "KB" else s


class Kb(Scheme):
    """KB numbers: equal or not; `compare` orders other KBs by text only to stay total."""

    name = "kb"

    def key(self, v: str) -> str:
        return _norm(v)

    def compare(self, a: str, b: str) -> int:
        x, y = _norm(a), _norm(b)
        return (x > y) - (x < y)
