"""RPM packages (Red Hat and its rebuilds, Amazon, SUSE, Oracle, Photon, Azure Linux…): matched by source
AND binary name, at the package's own version (epoch included).

Vendors name different things: Red Hat OVAL/CSAF, ALAS and SUSE CVRF (and the OSV records made from
them) list BINARY packages (`openssl-libs`, `libopenssl1_1`), others the source RPM; a source-only query
would miss rows filed under a binary name. Rebuilds without an advisory feed of their own (CentOS,
Scientific Linux) are matched against the release they rebuild, whose packages carry the same names
and versions (Trivy and Grype do the same).
"""

from __future__ import annotations

from hullscan.match.matcher import BINARY, SOURCE, UPSTREAM, Matcher, Query
from hullscan.match.release import has_release
from hullscan.model.inventory import Package

REBUILT_FROM = {"CentOS": "Red Hat", "Scientific Linux": "Red Hat"}


class RpmMatcher(Matcher):
    name = "rpm"

    def handles(self, pkg: Package) -> bool:
        return pkg.type == "rpm"

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or not has_release(pkg.ecosystem):
            return []
        source = pkg.source_name or pkg.name
        names = [(source, SOURCE)] + ([(pkg.name, BINARY)] if pkg.name != source else [])
        out = [(pkg.ecosystem, n, identity) for n, identity in names]
        base, _, release = pkg.ecosystem.partition(":")
        if base in REBUILT_FROM:
            out += [(f"{REBUILT_FROM[base]}:{release}", n, UPSTREAM) for n, _ in names]
        return out

    def shown_fix(self, fix: str) -> str:
        return fix.removeprefix("0:")  # epoch 0 is rpm's default: shown as installed versions are
