"""Constraint dialects of tests/versions/testdata/vectors/README.md, evaluated with any scheme.

- `cmp`: `||` separates alternatives; inside one, `,` or whitespace separates terms that must
  all hold. A term is `OP VERSION` (OP in `= == != < <= > >=`, optionally followed by spaces) or a
  bare, possibly quoted, VERSION meaning `=`. An empty constraint holds for every version.
- `pep440`: a PEP 440 specifier set (delegated to the pep440 scheme).
- `native` / `trivy-<scheme>`: the ecosystem's own syntax (npm ranges, gem requirements, Maven
  ranges, PEP 440 specifiers...), delegated to `Scheme.satisfies_native`.

Advisories (trivy's vulnerable / patched / unaffected lists) are decided by `advisory`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hullscan.versions._base import Scheme

_TERM = re.compile(r"""(==|!=|<=|>=|=|<|>)?\s*('[^']*'|"[^"]*"|[^\s,'"<>=!][^\s,'"]*)""")

Term = tuple[str, str]


@functools.lru_cache(maxsize=1 << 14)
def parse_cmp(constraint: str) -> tuple[tuple[Term, ...], ...]:
    """Alternatives, each a tuple of (op, version) terms; () alternatives = always true."""
    alts: list[tuple[Term, ...]] = []
    for alt in constraint.split("||"):
        terms: list[Term] = []
        for m in _TERM.finditer(alt):
            op, ver = m.group(1) or "=", m.group(2)
            if ver[:1] in "'\"" and len(ver) >= 2:
                ver = ver[1:-1]
            terms.append(("==" if op == "=" else op, ver))
        alts.append(tuple(terms))
    if all(not a for a in alts):
        return ()
    return tuple(alts)


def check_term(scheme: Scheme, version: str, op: str, other: str) -> bool:
    c = scheme.compare_to_bound(version, other)
    if op == "==":
        return c == 0
    if op == "!=":
        return c != 0
    if op == "<":
        return c < 0
    if op == "<=":
        return c <= 0
    if op == ">":
        return c > 0
    if op == ">=":
        return c >= 0
    raise ValueError(f"unknown operator {op!r}")


def satisfies_cmp(scheme: Scheme, version: str, constraint: str) -> bool:
    alts = parse_cmp(constraint.strip())
    if not alts:
        return True
    return any(alt and all(check_term(scheme, version, op, v) for op, v in alt) for alt in alts)


def satisfies(scheme: Scheme, version: str, constraint: str, dialect: str = "cmp") -> bool:
    if dialect == "cmp":
        return satisfies_cmp(scheme, version, constraint)
    if dialect == "pep440":
        from hullscan.versions import get_scheme  # the registry imports this module (through _base.py)

        return get_scheme("pep440").satisfies_native(version, constraint)
    if dialect == "native" or dialect.startswith("trivy-"):
        return scheme.satisfies_native(version, constraint)
    raise ValueError(f"unknown constraint dialect {dialect!r}")


def advisory(
    scheme: Scheme,
    version: str,
    vulnerable: Sequence[str],
    patched: Sequence[str],
    unaffected: Sequence[str],
    dialect: str = "native",
) -> bool:
    """Trivy's rule: match one `vulnerable` entry (if any are given), then match no
    `patched`/`unaffected` entry (if any are given); all three empty = not vulnerable. An
    advisory with a constraint the ecosystem cannot read is not reported (as trivy does)."""
    if not vulnerable and not patched and not unaffected:
        return False
    try:
        if vulnerable and not any(satisfies(scheme, version, c, dialect) for c in vulnerable):
            return False
        safe = list(patched) + list(unaffected)
        return not any(satisfies(scheme, version, c, dialect) for c in safe)
    except ValueError:
        return False
