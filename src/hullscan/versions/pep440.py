"""PyPI versions: PEP 440 through `packaging`, plus the pre-PEP 440 "legacy" strings.

`packaging.version.Version` is exactly PEP 440, so it is used as is. Strings it rejects (such as
`1.3.4-r0` or `0.9.pre-release`) are still published on PyPI and still appear in advisories; they
get the ordering setuptools/packaging gave them before LegacyVersion was dropped (packaging < 22):
they sort before every PEP 440 version, and among themselves by a key that splits digits and
letters, pads numbers, maps pre/preview/rc to "c" and dev to "@", and drops trailing zeros. That
class no longer exists in the library, so its small key function is re-implemented here.

Specifier sets (`~=1.1, !=1.4`) are evaluated with `packaging.specifiers` with prereleases
included: a pre-release of an affected line is affected too.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from hullscan.versions import constraints
from hullscan.versions._base import Scheme, cached

_LEGACY_COMPONENT = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_MAP = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_parts(s: str):
    for part in _LEGACY_COMPONENT.split(s):
        part = _LEGACY_MAP.get(part, part)
        if not part or part == ".":
            continue
        if part[:1] in "0123456789":
            yield part.zfill(8)
        else:
            yield "*" + part
    yield "*final"


def legacy_key(v: str) -> tuple:
    parts: list[str] = []
    for part in _legacy_parts(v.lower()):
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    return tuple(parts)


@cached
def parse(v: str) -> Version | None:
    try:
        return Version(v.strip())
    except (InvalidVersion, ValueError):  # ValueError: a release number past int()'s 4300 digits, which pip refuses too
        return None


@cached
def pep440_key(v: str) -> tuple:
    pv = parse(v)
    if pv is None:
        return (0, legacy_key(v.strip()))
    return (1, pv)


@cached
def _specifier_set(spec: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier:
        return None


class Pep440(Scheme):
    """PEP 440 ordering (PyPI), with legacy strings sorted before all PEP 440 versions."""

    name = "pep440"

    def key(self, v: str) -> tuple:
        return pep440_key(v)

    def compare(self, a: str, b: str) -> int:
        ka, kb = pep440_key(a), pep440_key(b)
        return (ka > kb) - (ka < kb)

    def valid(self, v: str) -> bool:
        return parse(v) is not None

    def compare_to_bound(self, version: str, bound: str) -> int:
        """PEP 440 comparison operators ignore the candidate's local label (`+cgr.1`) unless the
        bound has one: `6.4+cgr.1` satisfies `<=6.4.0`."""
        pv, pb = parse(version), parse(bound)
        if pv is not None and pb is not None and pv.local is not None and pb.local is None:
            version = pv.public
        return self.compare(version, bound)

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """PEP 440 specifier sets; `||` separates alternatives, a bare version means `==`, `*`
        matches everything, and spaces may separate specifiers as commas do. A version that is
        not PEP 440 matches no specifier (as `packaging` decides); bounds that are not PEP 440
        fall back to the cmp terms under this scheme's ordering."""
        pv = parse(version)
        for alt in constraint.split("||"):
            alt = alt.strip()
            if alt in ("", "*"):
                return True
            alt = re.sub(r"(===|==|!=|~=|<=|>=|<|>)\s+", r"\1", alt)
            terms = [t for t in re.split(r"[\s,]+", alt) if t]
            terms = [t if t[0] in "<>=!~" else "==" + t for t in terms]
            spec = _specifier_set(",".join(terms))
            if spec is not None:
                if pv is not None and spec.contains(pv, prereleases=True):
                    return True
            elif constraints.satisfies_cmp(self, version, " ".join(t.replace("~=", ">=") for t in terms)):
                return True
        return False
