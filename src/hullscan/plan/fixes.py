"""Ordering a package's fixed versions in its own version scheme (hullscan.versions), to find the smallest
version that fixes all its findings: the greatest of their fixed versions."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hullscan.model.findings import Finding
from hullscan.versions import Scheme, get_scheme, scheme_for_ecosystem

FALLBACK = "fuzzy"
"""The scheme for a package whose matcher named none known: grype's fuzzy ordering (versions/fuzzy.py)."""


@dataclass(frozen=True)
class VersionOrder:
    """One scheme's ordering, safe on any string: a version the scheme rejects sorts by the fallback."""

    scheme: Scheme

    @property
    def name(self) -> str:
        return self.scheme.name

    def compare(self, a: str, b: str) -> int:
        try:
            return self.scheme.compare(a, b)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError):
            # a version the scheme cannot read (a feed's typo): fall back, so the plan never fails on one
            return get_scheme(FALLBACK).compare(a, b)

    def sorted(self, versions: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(versions), key=functools.cmp_to_key(self.compare)))

    def greatest(self, versions: Iterable[str]) -> str:
        ordered = self.sorted(v for v in versions if v)
        return ordered[-1] if ordered else ""


def order_for(found: Sequence[Finding]) -> VersionOrder:
    """The scheme that matched these findings of one package: the deciding record's (`details[0].scheme`),
    else the package's ecosystem's, else the fallback."""
    for f in found:
        if f.details:
            try:
                return VersionOrder(get_scheme(f.details[0].scheme))
            except KeyError:
                break
    scheme = scheme_for_ecosystem(found[0].package.ecosystem) if found else None
    return VersionOrder(scheme or get_scheme(FALLBACK))
