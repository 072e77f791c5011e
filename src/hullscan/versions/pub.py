"""Dart Pub versions: SemVer, except that build metadata orders too (pub_semver).

`1.0.0-pre < 1.0.0-pre+build < 1.0.0 < 1.0.0+build`: a version with build metadata sorts after
the same version without, and build identifiers compare like pre-release identifiers.
"""

from __future__ import annotations

from hullscan.versions._base import cached
from hullscan.versions.semver import SemVer, prerelease_key, semver_key, split


@cached
def pub_key(v: str) -> tuple:
    _, _, build = split(v)
    return (semver_key(v), (1, prerelease_key(build)) if build else (0,))


class Pub(SemVer):
    """Dart Pub ordering."""

    name = "pub"

    def key(self, v: str) -> tuple:
        return pub_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = pub_key(a), pub_key(b)
        return (ka > kb) - (ka < kb)
