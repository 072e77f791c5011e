"""Go module and toolchain versions.

Go modules are SemVer with a `v` prefix (golang.org/x/mod/semver): pseudo-versions
(`v0.0.0-20170116102854-1ef0e047d5a7`) are pre-releases whose timestamp sorts them in time order,
`+incompatible` is build metadata and so ignored, and toolchain/stdlib versions are written
`go1.21.4` (or `go1.21rc1`, read as `1.21.0-rc.1` the way golang.org/x/vuln does, so it sorts
against the vulndb's SemVer ranges correctly). All of these fit the lenient SemVer reading of semver.py once a
`go` prefix is dropped, so this scheme is that with Go's spellings.
"""

from __future__ import annotations

import re

from hullscan.versions._base import cached
from hullscan.versions.semver import SemVer, semver_key

_GO = re.compile(r"^go(\d)")
_TOOLCHAIN = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?$")
_MODULE = re.compile(
    r"^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?)?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)


@cached
def go_key(v: str) -> tuple:
    s = v.strip()
    t = _TOOLCHAIN.match(s)
    if t:
        # the spelling golang.org/x/vuln maps toolchains to: go1.21rc2 -> v1.21.0-rc.2
        M, m, p, pre, n = t.groups()
        s = f"{M}.{m or 0}.{p or 0}" + (f"-{pre}.{n}" if pre else "")
    elif _GO.match(s):
        s = s[2:]
    return semver_key(s)


class Golang(SemVer):
    """Go modules (incl. pseudo-versions, +incompatible) and go1.x toolchain versions."""

    name = "golang"

    def key(self, v: str) -> tuple:
        return go_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = go_key(a), go_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        s = v.strip()
        return bool(_MODULE.match(s) or _GO.match(s) or super().valid(s))
