"""Whether a distro package's ecosystem names its release: only then can its advisories be chosen."""

from __future__ import annotations

#: Rolling distros: their feeds hold one stream of advisories, without releases.
ROLLING = frozenset({"Wolfi", "Chainguard", "Echo", "MinimOS"})


def has_release(ecosystem: str) -> bool:
    """`Debian:12`, `Alpine:v3.19`, `Wolfi`: yes; `Debian` (a release the inventory could not tell) or
    '' : no — matching it would be guessing."""
    return ":" in ecosystem or ecosystem in ROLLING
