"""Alpine, Wolfi and Chainguard packages (apk): matched by origin (the source package) at the package's version.

The secdb feeds list origins (`openssl` for `libcrypto3`); an apk's version is its origin's.
"""

from __future__ import annotations

from hullscan.match.matcher import SOURCE, Matcher, Query
from hullscan.match.release import has_release
from hullscan.model.inventory import Package


class ApkMatcher(Matcher):
    name = "apk"

    def handles(self, pkg: Package) -> bool:
        return pkg.type == "apk"

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or not has_release(pkg.ecosystem):
            return []
        return [(pkg.ecosystem, pkg.source_name or pkg.name, SOURCE)]
