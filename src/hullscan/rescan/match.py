"""Matching many stored images at once: each distinct package is matched once per OS context, and an
image's findings are assembled from its packages' — exactly what `match_inventory` gives for the image
alone (a package's findings depend on the package, the OS the image runs and the DB; never on the other
packages), so 8,000 images on five bases match the bases' packages five times, not 8,000.

Packages are told apart by object identity: the inventory reader hands every image holding a shared layer
the same Package objects, and the cache keeps each package it answers for alive (no id is reused while
its entry is cached). Bounded: the least recently used entries go past `limit`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from hullscan.match import merge
from hullscan.match.loop import match_inventory
from hullscan.match.options import MatchOptions
from hullscan.model.findings import Finding
from hullscan.model.inventory import Inventory, OSInfo, Package
from hullscan.record import replace
from hullscan.vulndb.read import AdvisoryReader


def context(os: OSInfo | None) -> str:
    """What of the image besides a package a matcher reads: its OS (the Red Hat streams it follows)."""
    return "" if os is None else repr(replace(os, eol=None))


class BatchMatcher:
    """Findings of many images' packages against one DB (module docstring)."""

    def __init__(self, db: AdvisoryReader, options: MatchOptions | None = None, limit: int = 200_000) -> None:
        self.db = db
        self.options = options or MatchOptions()
        self.limit = limit
        self.warnings: list[str] = []
        self._cache: OrderedDict[tuple[int, str], tuple[Package, list[Finding]]] = OrderedDict()
        self.matched = 0
        """Distinct packages matched (cache misses)."""

    def match(self, images: Sequence[tuple[OSInfo | None, Sequence[Package]]]) -> list[list[Finding]]:
        """Each image's findings, as `match_inventory` sorts and merges them."""
        ctxs = [context(os) for os, _ in images]
        missing: dict[str, tuple[OSInfo | None, dict[int, Package]]] = {}
        for ctx, (os, pkgs) in zip(ctxs, images, strict=True):
            for p in pkgs:
                key = (id(p), ctx)
                if key in self._cache:
                    self._cache.move_to_end(key)
                else:
                    missing.setdefault(ctx, (os, {}))[1][id(p)] = p
        for ctx, (os, todo) in missing.items():
            self._fill(ctx, os, list(todo.values()))
        out = []
        for ctx, (_os, pkgs) in zip(ctxs, images, strict=True):
            found = [f for p in pkgs for f in self._cache[(id(p), ctx)][1]]
            merged = merge.by_package(found) if found else []
            merged.sort(key=lambda f: (f.package.name, f.package.version, f.id))
            out.append([replace(f, inherited=f.package.inherited) for f in merged])
        while len(self._cache) > self.limit:
            self._cache.popitem(last=False)
        return out

    def _fill(self, ctx: str, os: OSInfo | None, packages: list[Package]) -> None:
        # packages of several images at one place (one report id) would be one location to `by_package`:
        # one of them is matched, the others take its findings
        same: dict[str, list[Package]] = {}
        for p in packages:
            same.setdefault(p.id, []).append(p)
        reps = [group[0] for group in same.values()]
        self.matched += len(reps)
        result = match_inventory(Inventory(os=os, packages=reps), self.db, self.options)
        self.warnings.extend(w for w in result.warnings if w not in self.warnings)
        per: dict[int, list[Finding]] = {id(p): [] for p in reps}
        for f in result.findings:
            # match_inventory merged the copies of one package (several paths) into one finding with
            # `locations`: split back per package, each image merges its own copies again
            for place in ([loc.package for loc in f.locations] or [f.package]):
                if id(place) in per:
                    per[id(place)].append(replace(f, package=place, locations=()) if f.locations else f)
        for group in same.values():
            found = per[id(group[0])]
            for p in group:
                self._cache[(id(p), ctx)] = (p, found if p is group[0] else [replace(f, package=p) for f in found])
