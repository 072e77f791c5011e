"""Debian and Ubuntu packages (dpkg): matched by SOURCE package and SOURCE version.

The Debian security tracker and Ubuntu's CVE tracker write advisories per source package and speak of
source versions: `libssl1.1 1.1.1d-0+deb10u1` is matched as `openssl` at its `Source:` version.
"""

from __future__ import annotations

from hullscan.match.matcher import SOURCE, Matcher, Query
from hullscan.match.release import has_release
from hullscan.model.inventory import Package


class DpkgMatcher(Matcher):
    name = "dpkg"

    def handles(self, pkg: Package) -> bool:
        return pkg.type == "deb"

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or not has_release(pkg.ecosystem):
            return []
        return [(pkg.ecosystem, pkg.source_name or pkg.name, SOURCE)]

    def version(self, pkg: Package) -> str:
        return pkg.source_version or pkg.version
