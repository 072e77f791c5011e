"""Declared OS-package licences → SPDX license expressions.

One normalizer for the licence names distro package databases declare: Debian's DEP-5 short names
(`GPL-2+`, `BSD-4-clause-UC`, `GFDL-NIV-1.3`, `Expat`, `LGPL-3+ or GPL-2+, and MIT`), Alpine's `L:`
values (SPDX, or older names such as `GPL2+`), and rpm `License` tags (SPDX, or Fedora's legacy short
names such as `GPLv2+ and ASL 2.0`). The output is always a valid SPDX expression, so a policy's
`licenses.deny` written in SPDX matches it.

How a name is resolved, first hit wins (the only facts used are the SPDX licence index that
`license-expression` maintains and the small tables below, each entry with its source):

1. the index: SPDX ids in any case and the other spellings it records (deprecated ids `GPL-2.0+`,
   aliases such as `GPL 2.0`; bare `GPL` is its alias of `GPL-1.0-or-later`, which is what the GPL
   itself says of a work that names no version). Keys outside the SPDX list (ScanCode's
   `LicenseRef-scancode-…`) are not used;
2. `_NAMES`: names the index does not know, with one unambiguous SPDX meaning;
3. the DEP-5 version rules (copyright-format 1.0, "License specification"): a trailing `+` means
   "or any later version", and "versions with trailing dot-zeroes are equivalent to versions
   without" (`GPL-2` = `GPL-2.0`, `Apache-2` = `Apache-2.0`); `v2`/`2` spellings (`GPLv2+`, `GPL2`) are
   read the same way, and `GFDL-NIV-x` is the GFDL without invariant sections;
4. `X with Y exception` / `X WITH Y`: an SPDX exception id when Y is one (`Linux-syscall-note`,
   `Texinfo-exception`) or `_EXCEPTIONS` pins it; otherwise the whole `X with Y` is one LicenseRef
   (an unknown exception may change what X allows, so X alone would claim too much);
5. anything else becomes `LicenseRef-<the name, sanitized>`; the original text is returned beside it
   (`Normalized.refs`) so the package record keeps it. A guess is never made: `LGPL`, `BSD`, `MIT/X11`,
   `public-domain`, `Public Domain` have no single SPDX id and stay LicenseRefs.

Operators: `and`/`or`/`with` in any case, DEP-5's comma form (`A or B, and C` = `(A OR B) AND C`),
`and/or` (= OR), parentheses, gnutls-style `A_or_B`, and `X or (any) later (version)` (= `X+`). AND binds tighter than OR, as in both SPDX
and DEP-5. A value that cannot be parsed as an expression (unbalanced parentheses) becomes one
LicenseRef.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from license_expression import ExpressionError, LicenseSymbol, get_spdx_licensing

# Names the index does not know (or knows under another meaning) with one SPDX meaning, lower-cased.
_NAMES = {
    # DEP-5 short-name table: "Expat: the Expat license", the text SPDX lists as MIT.
    "expat": "MIT",
    # DEP-5 "Artistic"; Debian's /usr/share/common-licenses/Artistic is Perl's, and base-files'
    # copyright says its SPDX name is "Artistic License 1.0 (Perl)".
    "artistic": "Artistic-1.0-Perl",
    # DEP-5: "Perl: Perl license (use "GPL-1+ or Artistic-1" instead)", Artistic as above.
    "perl": "GPL-1.0-or-later OR Artistic-1.0-Perl",
    # DEP-5 "CC0": Creative Commons Zero; 1.0 is its only version.
    "cc0": "CC0-1.0",
    # Fedora's legacy short names (rpm License tags before Fedora moved to SPDX in 2022).
    "asl 1.0": "Apache-1.0",
    "asl 1.1": "Apache-1.1",
    "asl 2.0": "Apache-2.0",
    "boost": "BSL-1.0",
}

# (GNU licence, exception word) → SPDX exception id, where the version of the exception follows from
# the licence's: the Autoconf exceptions are one per GPL version, and Bison's GPL-3 skeletons carry the
# 2.2 text (Bison-exception-1.24 predates GPL-3).
_EXCEPTIONS = {
    ("GPL-2.0", "autoconf"): "Autoconf-exception-2.0",
    ("GPL-3.0", "autoconf"): "Autoconf-exception-3.0",
    ("GPL-3.0", "bison"): "Bison-exception-2.2",
}

# DEP-5 GNU names: GPL-2, GPL-2+, GPLv3+, GPL2, LGPL-2.1+, GFDL-NIV-1.3+, GFDL-1.3+-no-invariant.
_GNU = re.compile(r"^(A?GPL|LGPL|GFDL|GFDL-NIV)[- ]?v?(\d+(?:\.\d+)*)(\+?)(-no-invariants?)?(\+|-only|-or-later)?$", re.I)
_GNU_FAMILY = {"agpl": "AGPL", "gpl": "GPL", "lgpl": "LGPL", "gfdl": "GFDL", "gfdl-niv": "GFDL"}
# Another name with a version: `Apache-2`, `MPLv2.0`, `Artistic-2`, `BSL-1`.
_VERSIONED = re.compile(r"^(.*?[A-Za-z])[- ]?v?(\d+(?:\.\d+)*)(\+?)$")
_WITH = re.compile(r"^(.+?)[ _-]+with[ _-]+(.+?)(?:[ _-]+exceptions?)?$", re.I)
_LATER = r"\bor\s+(?:any\s+)?later(?:\s+versions?)?\b"  # "version 2 or later" is one licence, not two
_OR_LATER = re.compile(r"(?i)\s+" + _LATER)
_TOKEN = re.compile(r"\s*(\(|\)|,\s*(?:and|or)\b|\band/or\b|" + _LATER + r"|\band\b|\bor\b|,|[^\s(),]+)", re.I)
_REF_CHARS = re.compile(r"[^A-Za-z0-9.]+")
_SPDX_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")
_IGNORED = frozenset({"", "none", "(none)", "unknown", "other", "noassertion"})

Node = str | tuple[Any, ...]  # a leaf's SPDX text, or ("AND"|"OR", child, child, …)


@dataclass(frozen=True)
class Normalized:
    """One declared licence value as SPDX."""

    expression: str
    """A valid SPDX expression ('' when the value names no licence)."""
    refs: dict[str, str] = field(default_factory=dict)
    """Each `LicenseRef-…` it uses → the declared text it stands for."""


@lru_cache(maxsize=1)
def _licensing() -> Any:  # license_expression.Licensing (the library ships no types)
    return get_spdx_licensing()


@lru_cache(maxsize=8192)
def _index(name: str, *, exception: bool = False) -> str:
    """The SPDX id the index gives `name` (a licence, or an exception when `exception`), else ''."""
    if not name or any(c in name for c in "()"):
        return ""
    try:
        parsed = _licensing().parse(name, validate=False)
    except (ExpressionError, IndexError, AssertionError, ValueError):  # the parser's own bugs on odd text
        return ""
    if not isinstance(parsed, LicenseSymbol) or _licensing().unknown_license_keys(parsed):
        return ""
    key = str(parsed.key)
    if key.startswith("LicenseRef-") or bool(getattr(parsed, "is_exception", False)) != exception:
        return ""
    return key


def license_ref(text: str) -> str:
    """`LicenseRef-<text>` with the characters SPDX allows in an id (letters, digits, `.`, `-`); `+` is
    spelled `plus` so that `GPL-2+ with X` and `GPL-2 with X` stay apart."""
    body = _REF_CHARS.sub("-", text.replace("+", "-plus-")).strip("-.") or "unknown"
    if len(body) > 64:  # a sentence pasted into the field: keep it short but distinct
        body = body[:55].rstrip("-.") + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return "LicenseRef-" + body


def _gnu(name: str) -> tuple[str, str]:
    """(SPDX id, family-version) of a DEP-5-style GNU name, else ('', '')."""
    m = _GNU.match(name)
    if not m:
        return "", ""
    family, version, plus, niv, tail = m.groups()
    family = family.lower()
    if niv and family != "gfdl":
        return "", ""
    niv = "-no-invariants" if niv or family == "gfdl-niv" else ""
    base = _GNU_FAMILY[family]
    if "." not in version:
        version += ".0"  # DEP-5: GPL-2 = GPL-2.0
    later = bool(plus) or tail in ("+", "-or-later")
    return _index(f"{base}-{version}{niv}{'-or-later' if later else '-only'}"), f"{base}-{version}"


def _simple(name: str) -> str:
    """The SPDX expression for one licence name without operators, '' when it has none."""
    if _SPDX_REF.match(name):
        return name
    for candidate in (name, re.sub(r"(?i)[ -]licen[cs]e$", "", name)):
        hit = _NAMES.get(candidate.lower()) or _index(candidate) or _gnu(candidate)[0]
        if hit:
            return hit
        m = _VERSIONED.match(candidate)
        if m and "." not in m.group(2):  # DEP-5: trailing ".0"s are not significant
            for version in (m.group(2) + ".0", m.group(2) + ".0.0"):
                hit = _index(f"{m.group(1)}-{version}{m.group(3)}")
                if hit:
                    return hit
        if m:
            hit = _index(f"{m.group(1)}-{m.group(2)}{m.group(3)}")
            if hit:
                return hit
    return ""


def _with_exception(name: str) -> str:
    """`X with Y exception` → `X WITH Y-id` when both resolve to SPDX ids, else ''."""
    m = _WITH.match(name)
    if not m:
        return ""
    base_text, exc_text = m.group(1).strip(), m.group(2).strip()
    base = _simple(base_text)
    if not base or " " in base:
        return ""
    gnu = _gnu(base_text)[1]  # GPL-3.0 for GPL-3+, GPL-3.0-or-later…
    exc = _EXCEPTIONS.get((gnu.split(".")[0] + ".0", exc_text.lower()), "") if gnu else ""
    if not exc:
        versioned = re.sub(r"^(.*?)-(\d[\d.]*)$", r"\1-exception-\2", exc_text)
        for candidate in (exc_text, f"{exc_text}-exception", versioned):
            exc = _index(candidate, exception=True)
            if exc:
                break
    return f"{base} WITH {exc}" if exc else ""


def _leaf(text: str, refs: dict[str, str]) -> Node:
    original = " ".join(text.split())
    name = _OR_LATER.sub("+", original)
    spdx = _with_exception(name) if re.search(r"(?i)[ _-]with[ _-]", name) else ""
    spdx = spdx or _simple(name)
    if spdx:
        return spdx if " OR " not in spdx else ("OR", *spdx.split(" OR "))
    ref = license_ref(original)
    refs.setdefault(ref, original)
    return ref


class _Parser:
    """Recursive descent over the tokens: expr := term (OR term)*; term := atom (AND atom)*."""

    def __init__(self, tokens: list[str], refs: dict[str, str]) -> None:
        self.tokens, self.pos, self.refs = tokens, 0, refs

    def peek(self) -> str:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else ""

    def comma_expr(self) -> Node:
        # DEP-5: a comma before and/or lowers that operator's precedence below both.
        node = self.expr()
        while self.peek().startswith(","):
            op = "AND" if self.tokens[self.pos].lower().endswith("and") or self.peek() == "," else "OR"
            self.pos += 1
            node = (op, node, self.expr())
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek() in ("or", "and/or"):
            self.pos += 1
            node = ("OR", node, self.term())
        return node

    def term(self) -> Node:
        node = self.atom()
        while self.peek() == "and":
            self.pos += 1
            node = ("AND", node, self.atom())
        return node

    def atom(self) -> Node:
        if self.peek() == "(":
            self.pos += 1
            node = self.comma_expr()
            if self.peek() != ")":
                raise ValueError("unbalanced parentheses")
            self.pos += 1
            return node
        words: list[str] = []
        while self.pos < len(self.tokens) and self.peek() not in ("(", ")", "and", "or", "and/or") \
                and not self.peek().startswith(","):
            words.append(self.tokens[self.pos])
            self.pos += 1
        if not words:
            raise ValueError("a licence name is missing")
        return _leaf(" ".join(words), self.refs)


def _render(node: Node, parent: str = "") -> str:
    if isinstance(node, str):
        return node
    op = node[0]
    parts: list[str] = []
    for child in _flatten(node, op):
        text = _render(child, op)
        if text not in parts:
            parts.append(text)
    out = f" {op} ".join(parts)
    return f"({out})" if parent == "AND" and op == "OR" and len(parts) > 1 else out


def _flatten(node: Node, op: str) -> list[Node]:
    if isinstance(node, str) or node[0] != op:
        return [node]
    out: list[Node] = []
    for child in node[1:]:
        out.extend(_flatten(child, op))
    return out


@lru_cache(maxsize=8192)
def _normalize(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    text = " ".join(value.split())
    if text.lower() in _IGNORED:
        return "", ()
    refs: dict[str, str] = {}
    text = re.sub(r"(?i)(?<=\S)_(and|or)_(?=\S)", r" \1 ", text)  # gnutls: LGPLv3+_or_GPLv2+
    tokens = [t.strip() for t in _TOKEN.findall(text)]
    try:
        parser = _Parser(tokens, refs)
        node = parser.comma_expr()
        if parser.pos != len(tokens):
            raise ValueError("text after the expression")
        expression = _render(node)
        _licensing().parse(expression, validate=False)  # a self-check: what we emit must parse
    except (ValueError, ExpressionError):
        refs = {}
        expression = license_ref(text)
        refs[expression] = text
    return expression, tuple(refs.items())


def normalize(value: str) -> Normalized:
    """One declared licence value (a name or an expression) as an SPDX expression."""
    expression, refs = _normalize(value or "")
    return Normalized(expression, dict(refs))


def normalize_all(values: Iterable[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Declared values → (distinct SPDX expressions in order, LicenseRef → declared text)."""
    expressions: dict[str, None] = {}
    refs: dict[str, str] = {}
    for value in values:
        n = normalize(value)
        if n.expression:
            expressions.setdefault(n.expression, None)
            for ref, text in n.refs.items():
                refs.setdefault(ref, text)
    return tuple(expressions), refs


def record_extra(declared: Iterable[str], refs: dict[str, str]) -> dict[str, Any]:
    """The `Package.extra` entries that keep what was declared: `declared_licenses` (as read) and
    `license_refs` (each LicenseRef used → its text), each only when not empty."""
    out: dict[str, Any] = {}
    values = [d for d in declared if d]
    if values:
        out["declared_licenses"] = values
    if refs:
        out["license_refs"] = dict(refs)
    return out
