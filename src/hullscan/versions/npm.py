"""npm versions and node-semver ranges.

Ordering is SemVer (semver.py). Ranges follow node-semver's grammar: `||` alternatives; inside one,
space-separated comparators (commas are accepted too, as feeds write them); hyphen ranges
(`1.2 - 2.3.4`); x-ranges (`1.x`, `1.2.*`, `*`, missing parts); tilde (`~1.2.3` = `>=1.2.3
<1.3.0-0`) and caret (`^0.2.3` = `>=0.2.3 <0.3.0-0`) desugared as node-semver does, with `-0`
upper bounds so pre-releases of the next line stay outside.

One deliberate difference from `npm install`: a pre-release version is tested against the
comparators like any other version (node-semver would skip it unless a comparator has the same
major.minor.patch). For vulnerability matching a pre-release inside an affected range is affected;
this is also what trivy's advisory data expects.

Hand-written: the `nodesemver` PyPI port is unmaintained and does not follow the lenient
version spelling used here.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from hullscan.versions._base import incr, num
from hullscan.versions.constraints import check_term
from hullscan.versions.semver import SemVer

if TYPE_CHECKING:
    from hullscan.versions._base import Scheme

_OP_SPACE = re.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_PARTIAL = re.compile(
    r"^v?(?P<M>[0-9]+|[xX*])?(?:\.(?P<m>[0-9]+|[xX*]))?(?:\.(?P<p>[0-9]+|[xX*]))?"
    r"(?:[-.]?(?P<pre>[0-9A-Za-z][0-9A-Za-z.-]*))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)

Comparator = tuple[str, str]


def _is_x(s: str | None) -> bool:
    return s is None or s in ("x", "X", "*")


def _partial(s: str) -> tuple[str | None, str | None, str | None, str]:
    m = _PARTIAL.match(s)
    if not m:
        # not an npm partial: keep it whole as an exact version (the scheme orders it)
        return s, "0", "0", "\x00" + s
    M, mi, p, pre = m.group("M"), m.group("m"), m.group("p"), m.group("pre") or ""
    if _is_x(M):
        return None, None, None, ""
    if _is_x(mi):
        return M, None, None, ""
    if _is_x(p):
        return M, mi, None, ""
    return M, mi, p, pre


def _ver(M: str, m: str, p: str, pre: str = "") -> str:
    if pre.startswith("\x00"):
        return pre[1:]
    return f"{M}.{m}.{p}" + (f"-{pre}" if pre else "")


def _desugar(tok: str) -> list[Comparator]:
    op = ""
    for candidate in ("<=", ">=", "~>", "<", ">", "=", "~", "^"):
        if tok.startswith(candidate):
            op, tok = candidate, tok[len(candidate):]
            break
    M, m, p, pre = _partial(tok)
    if pre.startswith("\x00"):  # not an npm partial: compare the whole token as a version
        if op in ("~", "~>", "^"):
            return [(">=", tok)]
        return [("==" if op in ("", "=") else op, tok)]
    if op in ("~", "~>"):
        if M is None:
            return []
        if m is None:
            return [(">=", _ver(M, "0", "0")), ("<", _ver(incr(M), "0", "0", "0"))]
        return [(">=", _ver(M, m, p or "0", pre)), ("<", _ver(M, incr(m), "0", "0"))]
    if op == "^":
        if M is None:
            return []
        if m is None:
            return [(">=", _ver(M, "0", "0")), ("<", _ver(incr(M), "0", "0", "0"))]
        lo = (">=", _ver(M, m, p or "0", pre))
        if num(M) != 0:
            hi = _ver(incr(M), "0", "0", "0")
        elif p is None or num(m) != 0:
            hi = _ver("0", incr(m), "0", "0")
        else:
            hi = _ver("0", "0", incr(p), "0")
        return [lo, ("<", hi)]
    if M is None:  # `*`, `x`: anything; `<*` and `>*` match nothing, as in node-semver
        return [] if op in ("", "=", ">=", "<=") else [("<", "0.0.0-0")]
    if m is None or p is None:
        # x-range with an operator
        if op in ("", "="):
            if m is None:
                return [(">=", _ver(M, "0", "0")), ("<", _ver(incr(M), "0", "0", "0"))]
            return [(">=", _ver(M, m, "0")), ("<", _ver(M, incr(m), "0", "0"))]
        if op == ">":
            return [(">=", _ver(incr(M), "0", "0"))] if m is None else [(">=", _ver(M, incr(m), "0"))]
        if op == ">=":
            return [(">=", _ver(M, m or "0", "0"))]
        if op == "<":
            return [("<", _ver(M, m or "0", "0", "0"))]
        if op == "<=":
            return [("<", _ver(incr(M), "0", "0", "0"))] if m is None else [("<", _ver(M, incr(m), "0", "0"))]
    return [("==" if op in ("", "=") else op, _ver(M, m, p, pre))]  # type: ignore[arg-type]  # m and p are set past the x-range cases


@functools.lru_cache(maxsize=1 << 14)
def parse_range(rng: str) -> tuple[tuple[Comparator, ...], ...]:
    alts: list[tuple[Comparator, ...]] = []
    for alt in rng.split("||"):
        alt = alt.strip()
        h = _HYPHEN.match(alt)
        comps: list[Comparator] = []
        if h:
            M, m, p, pre = _partial(h.group(1))
            if M is not None:
                comps.append((">=", _ver(M, m or "0", p or "0", pre)))
            M, m, p, pre = _partial(h.group(2))
            if M is not None:
                if m is None:
                    comps.append(("<", _ver(incr(M), "0", "0", "0")))
                elif p is None:
                    comps.append(("<", _ver(M, incr(m), "0", "0")))
                else:
                    comps.append(("<=", _ver(M, m, p, pre)))
        else:
            alt = _OP_SPACE.sub(lambda mo: mo.group(1), alt)
            for tok in re.split(r"[\s,]+", alt):
                if tok:
                    comps.extend(_desugar(tok))
        alts.append(tuple(comps))
    return tuple(alts)


def satisfies_range(scheme: Scheme, version: str, rng: str) -> bool:
    for comps in parse_range(rng.strip()):
        if all(check_term(scheme, version, op, v) for op, v in comps):
            return True
    return False


class Npm(SemVer):
    """npm: SemVer ordering plus node-semver ranges."""

    name = "npm"

    def satisfies_native(self, version: str, constraint: str) -> bool:
        return satisfies_range(self, version, constraint)
