"""Cargo (crates.io) requirements: SemVer ordering, Cargo's requirement syntax.

Ordering is semver.py's. Requirements differ from npm's in one way that matters for advisories
(RustSec `patched`/`unaffected` lists): a bare version is a caret requirement (`1.2.3` means
`^1.2.3`, i.e. `>=1.2.3, <2.0.0`), while `=1.2.3` is exact. Comma-separated terms must all hold;
`^`, `~`, `*` and wildcards mean what they mean in npm ranges (`~1.2` = `>=1.2.0, <1.3.0`).
"""

from __future__ import annotations

import re

from hullscan.versions import npm
from hullscan.versions.semver import SemVer

_BARE = re.compile(r"^\s*v?\d")


class Cargo(SemVer):
    """crates.io: SemVer with Cargo requirement semantics."""

    name = "cargo"

    def satisfies_native(self, version: str, constraint: str) -> bool:
        for alt in constraint.split("||"):
            terms = [t.strip() for t in alt.split(",") if t.strip()]
            terms = ["^" + t if _BARE.match(t) and not t.strip().endswith((".*", ".x", ".X")) else t for t in terms]
            if npm.satisfies_range(self, version, ", ".join(terms)):
                return True
        return False
