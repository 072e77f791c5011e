"""Arch Linux (pacman) versions: `[epoch:]pkgver[-pkgrel]`.

libalpm's `alpm_pkg_vercmp` splits like rpm's parseEVR (numeric epoch, missing = 0; release after
the last `-`), compares epoch and pkgver with the rpmvercmp walk and the release only when both
versions have one. The rpmvercmp key of rpm.py is reused (including `~`, which the reference
scanner data sorts before the end of the string as rpm does).
"""

from __future__ import annotations

from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.rpm import vercmp_key


def split(v: str) -> tuple[int, str, str | None]:
    v = v.strip()
    epoch = 0
    head, sep, rest = v.partition(":")
    if sep and head.isdecimal():
        epoch, v = num(head), rest
    if "-" in v:
        ver, rel = v.rsplit("-", 1)
        return epoch, ver, rel
    return epoch, v, None


@cached
def _parts(v: str) -> tuple[int, tuple, tuple | None]:
    e, ver, rel = split(v)
    return e, vercmp_key(ver), (vercmp_key(rel) if rel is not None else None)


class Pacman(Scheme):
    """pacman/libalpm ordering (Arch Linux)."""

    name = "pacman"

    def compare(self, a: str, b: str) -> int:
        ea, va, ra = _parts(a)
        eb, vb, rb = _parts(b)
        ka, kb = (ea, va), (eb, vb)
        if ka == kb and ra is not None and rb is not None:
            ka, kb = ra, rb
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return bool(v.strip()) and not any(c.isspace() for c in v.strip())
