"""Licence rules: deny and allow lists of SPDX ids, evaluated on SPDX expressions with `license-expression`.

A package fails `deny` when every choice its expression offers (each alternative of an OR) uses a
denied licence, and fails `allow` when no choice is made only of allowed licences. A licence with an
exception (`GPL-2.0-only WITH Classpath-exception-2.0`) is named by its licence or by the whole `WITH`
form: the exception only adds permissions. Licences that are not valid SPDX expressions are left
alone (reported by the license scanner, not gated here). A rule's entries are names the same way
(`GPL-2.0` is `GPL-2.0-only`): the policy loader refuses an entry that is not one SPDX licence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from license_expression import ExpressionError, LicenseSymbol, LicenseWithExceptionSymbol, Licensing, get_spdx_licensing

from hullscan.model.inventory import Package
from hullscan.policy.model import LicenseRule

_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")

Choice = tuple[frozenset[str], ...]
"""One alternative of an expression: for each licence it needs, the (lower-cased) names it goes by."""


@lru_cache(maxsize=1)
def _licensing() -> Licensing:
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _choices(expression: str) -> tuple[Choice, ...] | None:
    """The alternatives of an expression (its disjunctive normal form); None when it is not SPDX."""
    lic = _licensing()
    try:
        parsed = lic.parse(expression, validate=False, strict=False)
    # the parser's own bugs on malformed text ("( )", "( AND MIT") surface as IndexError and AssertionError
    except (ExpressionError, IndexError, AssertionError):
        return None
    # `LicenseRef-…` is SPDX's own spelling of a licence without an id (inventory/spdx_license.py makes
    # them): an ordinary symbol, so `GPL-2.0-only AND LicenseRef-x` is still judged by its GPL part.
    if parsed is None or any(not _REF.match(key) for key in lic.unknown_license_keys(parsed)):
        return None
    dnf = lic.dnf(parsed)
    alternatives = dnf.args if isinstance(dnf, lic.OR) else (dnf,)
    return tuple(tuple(_names(symbol) for symbol in alt.symbols) for alt in alternatives)


def _entry(entry: str) -> LicenseSymbol | LicenseWithExceptionSymbol:
    """A rule entry parsed: one licence, optionally WITH an exception; ExpressionError otherwise."""
    lic = _licensing()
    try:
        parsed = lic.parse(entry, validate=False, strict=True)
    # the parser's own bugs on malformed text ("( )") surface as IndexError and AssertionError
    except (IndexError, AssertionError) as err:
        raise ExpressionError("Invalid expression") from err
    unknown = [key for key in lic.unknown_license_keys(parsed) if not _REF.match(key)] if parsed is not None else []
    if unknown:
        raise ExpressionError(f"Unknown license key(s): {', '.join(unknown)}")
    if not isinstance(parsed, LicenseSymbol | LicenseWithExceptionSymbol):
        raise _NotOne(entry)
    return parsed


class _NotOne(ExpressionError):
    """An entry that parses but names no licence, or several (`MIT OR Apache-2.0`)."""


def rule_entry_error(entry: str) -> str | None:
    """Why a deny/allow entry names no SPDX licence, or None when it does."""
    try:
        _entry(entry)
    except _NotOne:
        return "is not one SPDX licence (give one licence per entry, optionally WITH an exception)"
    except ExpressionError as err:
        return f"is not an SPDX licence id ({str(err).splitlines()[0][:160]})"
    return None


def _rule_names(entries: tuple[str, ...]) -> frozenset[str]:
    """The lower-cased names a rule's entries go by, as package licences are named (aliases resolved)."""
    out: set[str] = set()
    for entry in entries:
        out.add(entry.lower())
        try:
            symbol = _entry(entry)
        except ExpressionError:
            continue  # the loader refused it already; a hand-built rule keeps its text
        out.add(str(symbol).lower() if isinstance(symbol, LicenseWithExceptionSymbol) else symbol.key.lower())
    return frozenset(out)


def _names(symbol: LicenseSymbol | LicenseWithExceptionSymbol) -> frozenset[str]:
    if isinstance(symbol, LicenseWithExceptionSymbol):
        return frozenset({symbol.license_symbol.key.lower(), str(symbol).lower()})
    return frozenset({symbol.key.lower()})


def license_violations(packages: Iterable[Package], rule: LicenseRule) -> Iterator[tuple[Package, str, str]]:
    """Each (package, expression, why) that breaks the rule."""
    deny = _rule_names(rule.deny)
    allow = _rule_names(rule.allow)
    for pkg in packages:
        for expression in pkg.licenses:
            choices = _choices(expression)
            if not choices:
                continue
            if deny and all(any(names & deny for names in choice) for choice in choices):
                yield pkg, expression, "denied"
            elif allow and not any(all(names & allow for names in choice) for choice in choices):
                yield pkg, expression, "not in the allow list"
