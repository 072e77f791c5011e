"""Evaluation of OSV `affected[]` entries: explicit `versions` and `ranges[].events`.

Follows the "Evaluation" pseudo-code of the OSV schema (https://ossf.github.io/osv-schema/):
a version is affected when it is listed in `versions`, or when, for some ECOSYSTEM or SEMVER range
that it is below a `limit` of (no limit = `*`), walking the range's events in version order leaves
it "vulnerable": `introduced` (with `"0"` below everything) switches on at v >= introduced,
`fixed` switches off at v >= fixed, `last_affected` switches off at v > last_affected. Several
introduced/fixed pairs in one range are handled by that walk. GIT ranges name commits, not
versions, and are skipped here (matching by commit is the caller's business).

ECOSYSTEM ranges use the ecosystem's scheme; SEMVER ranges use SemVer ordering (the given scheme
when it is SemVer-based, such as Go's, so `v` and `go` prefixes still read correctly).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hullscan.versions import get_scheme
from hullscan.versions._base import Scheme
from hullscan.versions.semver import SemVer

_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


def _event(evt: Mapping[str, Any]) -> tuple[str, str] | None:
    for kind in ("introduced", "fixed", "last_affected", "limit"):
        value = evt.get(kind)
        if value is not None:
            return kind, str(value)
    return None


def _range_scheme(rtype: str, scheme: Scheme) -> Scheme | None:
    if rtype == "ECOSYSTEM":
        return scheme
    if rtype == "SEMVER":
        return scheme if isinstance(scheme, SemVer) else get_scheme("semver")
    return None  # GIT and unknown range types


def _sorted_events(events: Iterable[tuple[str, str]], scheme: Scheme) -> list[tuple[str, str]]:
    def cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
        za = a[0] == "introduced" and a[1] == "0"
        zb = b[0] == "introduced" and b[1] == "0"
        if za or zb:
            c = (zb - za) if za != zb else 0
        else:
            c = scheme.compare(a[1], b[1])
        return c or (_ORDER[a[0]] - _ORDER[b[0]])

    return sorted(events, key=functools.cmp_to_key(cmp))


def in_range(version: str, events: Sequence[Mapping[str, Any]], scheme: Scheme) -> bool:
    """Whether `version` is affected by one range's events, compared with `scheme`."""
    parsed = [e for e in (_event(evt) for evt in events) if e is not None]
    limits = [v for k, v in parsed if k == "limit"]
    if limits and not any(v == "*" or "*" in v or scheme.compare(version, v) < 0 for v in limits):
        return False
    vulnerable = False
    for kind, value in _sorted_events((e for e in parsed if e[0] != "limit"), scheme):
        if kind == "introduced":
            if value == "0" or scheme.compare(version, value) >= 0:
                vulnerable = True
        elif kind == "fixed":
            if scheme.compare(version, value) >= 0:
                vulnerable = False
        elif kind == "last_affected":
            if scheme.compare(version, value) > 0:
                vulnerable = False
    return vulnerable


def affected(
    version: str,
    ranges: Sequence[Mapping[str, Any]] | None,
    versions: Sequence[str] | None,
    scheme: Scheme | str,
) -> bool:
    """Whether `version` is affected by one OSV `affected[]` entry (its `ranges` and `versions`).

    `scheme` is the ecosystem's Scheme (see `scheme_for_ecosystem`) or a scheme name. A version
    listed in `versions` matches exactly, or when the scheme orders it equal (`1.0` and `1.0.0`
    under PEP 440)."""
    if isinstance(scheme, str):
        scheme = get_scheme(scheme)
    for listed in versions or ():
        if listed == version or scheme.compare(version, listed) == 0:
            return True
    for rng in ranges or ():
        rscheme = _range_scheme(str(rng.get("type", "")).upper(), scheme)
        if rscheme is None:
            continue
        if in_range(version, rng.get("events") or (), rscheme):
            return True
    return False


__all__ = ["affected", "in_range"]
