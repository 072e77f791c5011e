"""The Go standard library of a Go binary (`stdlib`, version `go1.21.3`): the Go vulndb's `stdlib`
records speak of `1.21.3`."""

from __future__ import annotations

from hullscan.match.matcher import NAME, Matcher, Query
from hullscan.model.inventory import Package


class GoStdlibMatcher(Matcher):
    name = "go-stdlib"

    def handles(self, pkg: Package) -> bool:
        return pkg.type == "golang" and pkg.name == "stdlib"

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or not pkg.ecosystem:
            return []
        return [(pkg.ecosystem, pkg.name, NAME)]

    def version(self, pkg: Package) -> str:
        return pkg.version.removeprefix("go")
