"""Bitnami package versions: SemVer plus a Bitnami revision (`2.3.1-1`).

The revision (a trailing `-N`, older data `-rN`) is a repackaging of the same upstream release, so plain ordering and
`cmp` constraints ignore it (as grype does: `2.3.1-1` is not `< 2.3.1-2`). Bitnami's own advisories
(OSV ecosystem "Bitnami", trivy's data) do state bounds with revisions (`>=1.2.3-1`), so the
native dialect orders the revision too, with no revision = 0.
"""

from __future__ import annotations

import re

from hullscan.versions import npm
from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.semver import SemVer, semver_key

_REVISION = re.compile(r"^(.*\d)-r?(\d+)$")


def split(v: str) -> tuple[str, int]:
    s = v.strip()
    m = _REVISION.match(s)
    if m:
        return m.group(1), num(m.group(2))
    return s, 0


@cached
def bitnami_key(v: str) -> tuple:
    return semver_key(split(v)[0])


@cached
def bitnami_revision_key(v: str) -> tuple:
    base, rev = split(v)
    return (semver_key(base), rev)


class _WithRevision(Scheme):
    name = "bitnami-revision"

    def key(self, v: str) -> tuple:
        return bitnami_revision_key(v)


_WITH_REVISION = _WithRevision()


class Bitnami(SemVer):
    """Bitnami: SemVer, revision ignored except in Bitnami's own constraint dialect."""

    name = "bitnami"

    def key(self, v: str) -> tuple:
        return bitnami_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = bitnami_key(a), bitnami_key(b)
        return (ka > kb) - (ka < kb)

    def satisfies_native(self, version: str, constraint: str) -> bool:
        return npm.satisfies_range(_WITH_REVISION, version, constraint)
