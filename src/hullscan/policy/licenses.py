"""Licence rules: deny and allow lists of SPDX ids, evaluated on SPDX expressions with `license-expression`.

A package fails `deny` when every choice its expression offers (each alternative of an OR) uses a
denied licence, and fails `allow` when no choice is made only of allowed licences. Licences that are
not valid SPDX expressions are left alone (reported by the license scanner, not gated here).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing

from hullscan.policy.model import LicenseRule


@lru_cache(maxsize=1)
def _licensing():
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _choices(expression: str) -> tuple[frozenset[str], ...] | None:
    """The alternatives of an expression, each the set of licence keys it needs (DNF)."""
    lic = _licensing()
    try:
        parsed = lic.parse(expression, validate=True, strict=False)
    except (ExpressionError, Exception):
        return None
    if parsed is None:
        return None
    dnf = lic.dnf(parsed)
    alternatives = dnf.args if type(dnf).__name__ == "OR" else (dnf,)
    out = []
    for alt in alternatives:
        keys = frozenset(s.key for s in alt.symbols)
        out.append(keys)
    return tuple(out)


def license_violations(packages: list[dict[str, Any]], rule: LicenseRule) -> Iterator[tuple[dict[str, Any], str, str]]:
    deny = {d.lower() for d in rule.deny}
    allow = {a.lower() for a in rule.allow}
    for pkg in packages:
        for expression in pkg.get("licenses") or []:
            choices = _choices(expression)
            if not choices:
                continue
            lowered = [frozenset(k.lower() for k in c) for c in choices]
            if deny and all(c & deny for c in lowered):
                yield pkg, expression, "denied"
            elif allow and not any(c <= allow for c in lowered):
                yield pkg, expression, "not in the allow list"
