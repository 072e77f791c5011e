"""Language packages (PyPI, npm, Go modules, Maven, crates.io, RubyGems, Packagist, NuGet…): matched by
their ecosystem's name at their own version.

Names come normalized from the analyzers (PEP 503 for PyPI, Maven `group:artifact`, the Go module
path, npm `@scope/name`). NuGet ids are case-insensitive and feeds spell them either way: a mixed-case
id is also asked lower-cased. A Go main module built from a checkout (`(devel)`) has no version to match.
"""

from __future__ import annotations

from hullscan.match.matcher import NAME, Matcher, Query
from hullscan.model.inventory import OS_PACKAGE_TYPES, Package


class LanguageMatcher(Matcher):
    name = "language"

    def handles(self, pkg: Package) -> bool:
        return pkg.type not in OS_PACKAGE_TYPES

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or pkg.version == "(devel)" or not pkg.ecosystem:
            return []
        out = [(pkg.ecosystem, pkg.name, NAME)]
        if pkg.ecosystem == "NuGet" and pkg.name != pkg.name.lower():
            out.append((pkg.ecosystem, pkg.name.lower(), NAME))
        return out
