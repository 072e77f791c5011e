"""Packagist (Composer) versions, ordered like PHP's `version_compare`.

Composer itself orders normalized versions with `version_compare`; the reference fixtures
(osv-scalibr, which copies php-src's own tests) follow it. Re-implemented from
ext/standard/versioning.c (no Python library has it):

1. canonicalize: `-`, `_`, `+` become `.`, a `.` is inserted wherever a digit meets a non-digit,
   repeated dots collapse; other characters stay part of their word (so `1.2.3.#` reads as the
   special form `#`, equal to any number, as the reference fixtures expect — PHP would drop it);
2. compare dot-separated parts left to right: numbers numerically; words by their special form
   (prefix match) dev < alpha = a < beta = b < RC = rc < # < pl = p, anything else below dev;
   a number is "#" against a word;
3. when one side runs out, its next part decides: a number makes the longer version newer,
   a word is compared as a special form against "#".

A leading `v` (`v1.2.3`, common in Packagist tags) is dropped first, as Composer's
VersionParser does.
"""

from __future__ import annotations

import functools
import re

from hullscan.versions._base import Scheme, cached, num
from hullscan.versions.constraints import check_term

_SPECIAL = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3),
            ("#", 4), ("pl", 5), ("p", 5))


def _special(form: str) -> int:
    for name, order in _SPECIAL:
        if form.startswith(name):
            return order
    return -6


def canonicalize(v: str) -> str:
    if not v:
        return v
    out = [v[0]]
    lp = v[0]
    for c in v[1:]:
        lq = out[-1]
        if c in "-_+":
            if lq != ".":
                out.append(".")
        elif (not lp.isdecimal() and lp != "." and c.isdecimal()) or (lp.isdecimal() and not c.isdecimal() and c != "."):
            if lq != ".":
                out.append(".")
            out.append(c)
        else:
            out.append(c)
        lp = c
    return "".join(out)


def _isdigit(s: str) -> bool:
    return s[:1].isdecimal()


def _strtol(s: str) -> int:
    n = 0
    for c in s:
        if not c.isdecimal():
            break
        n = n * 10 + ord(c) - 48
    return n


@cached
def _parts(v: str) -> tuple[str, ...]:
    s = v.strip()
    if s[:1] in ("v", "V") and s[1:2].isdecimal():
        s = s[1:]
    c = canonicalize(s)
    return tuple(c.split("."))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _compare_parts(p1: tuple[str, ...], p2: tuple[str, ...]) -> int:
    i = 0
    n = min(len(p1), len(p2))
    compare = 0
    while i < n and compare == 0:
        a, b = p1[i], p2[i]
        if _isdigit(a) and _isdigit(b):
            compare = _sign(_strtol(a) - _strtol(b))
        elif not _isdigit(a) and not _isdigit(b):
            compare = _sign(_special(a) - _special(b))
        elif _isdigit(a):
            compare = _sign(_special("#N#") - _special(b))
        else:
            compare = _sign(_special(a) - _special("#N#"))
        i += 1
    if compare == 0:
        if len(p1) > i:
            compare = 1 if _isdigit(p1[i]) else _compare_parts(p1[i:], ("#N#",))
        elif len(p2) > i:
            compare = -1 if _isdigit(p2[i]) else _compare_parts(("#N#",), p2[i:])
    return compare


def php_version_compare(a: str, b: str) -> int:
    """PHP's version_compare(a, b) on the canonical forms."""
    if not a or not b:
        return _sign((1 if a else 0) - (1 if b else 0)) if (a or b) else 0
    return _compare_parts(_parts(a), _parts(b))


_OP_SPACE = re.compile(r"(<=|>=|<>|!=|==|<|>|=|\^|~)\s+")
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_NUMERIC = re.compile(r"^v?(\d+(?:\.\d+)*)(?:\.[*xX])?$")


_RELEASE = re.compile(r"^(v?)(\d+(?:\.\d+)*)")


def _pad4(v: str) -> str:
    m = _RELEASE.match(v.strip())
    if not m:
        return v
    nums = m.group(2).split(".")
    if len(nums) < 4:
        nums += ["0"] * (4 - len(nums))
    return ".".join(nums) + v.strip()[m.end():]


def _bump(nums: list[str], index: int) -> str:
    head = [num(n) for n in nums[: index + 1]]
    head[-1] += 1
    return ".".join(str(n) for n in head + [0] * max(0, 3 - len(head))) + "-dev"


def _composer_terms(tok: str) -> list[tuple[str, str]]:
    """Composer's constraint syntax desugared to comparisons (upper bounds end in `-dev` so
    pre-releases of the next line stay outside, as Composer does)."""
    tok = tok.split("@", 1)[0]
    if tok in ("*", ""):
        return []
    for op in ("<=", ">=", "<>", "!=", "==", "<", ">", "=", "^", "~"):
        if tok.startswith(op):
            rest = tok[len(op):]
            break
    else:
        op, rest = "", tok
    m = _NUMERIC.match(rest)
    wildcard = rest.endswith((".*", ".x", ".X"))
    if op == "^" and m:
        nums = m.group(1).split(".")
        idx = next((i for i, n in enumerate(nums) if num(n) != 0), len(nums) - 1)
        return [(">=", rest), ("<", _bump(nums, idx))]
    if op == "~" and m:
        nums = m.group(1).split(".")
        return [(">=", rest), ("<", _bump(nums, max(0, len(nums) - 2)))]
    if op == "" and wildcard and m:
        nums = m.group(1).split(".")
        return [(">=", m.group(1)), ("<", _bump(nums, len(nums) - 1))]
    op = {"": "==", "=": "==", "<>": "!=", "^": ">=", "~": ">="}.get(op, op)
    return [(op, rest)]


class Composer(Scheme):
    """Composer/Packagist ordering."""

    name = "composer"

    def compare_to_bound(self, version: str, bound: str) -> int:
        """Constraints compare Composer-normalized versions: the numeric release padded to four
        parts (`2.0` -> `2.0.0.0`), so `2.0` is not below `2.0.0-dev` as raw version_compare says."""
        return php_version_compare(_pad4(version), _pad4(bound))

    def satisfies_native(self, version: str, constraint: str) -> bool:
        """Composer constraints: `||` (or `|`) alternatives; `,` or space for AND; `^`, `~`,
        `1.2.*`, hyphen ranges `1.0 - 2.0`, and comparison operators."""
        for alt in re.split(r"\|\|?", constraint):
            alt = alt.strip()
            h = _HYPHEN.match(alt)
            if h:
                hi = _NUMERIC.match(h.group(2))
                if hi and len(hi.group(1).split(".")) < 3:  # `1.0 - 2.0` takes in 2.0.x
                    nums = hi.group(1).split(".")
                    terms = [(">=", h.group(1)), ("<", _bump(nums, len(nums) - 1))]
                else:
                    terms = [(">=", h.group(1)), ("<=", h.group(2))]
            else:
                terms = []
                for tok in re.split(r"[\s,]+", _OP_SPACE.sub(lambda mo: mo.group(1), alt)):
                    terms.extend(_composer_terms(tok))
            if all(check_term(self, version, op, v) for op, v in terms):
                return True
        return False

    def compare(self, a: str, b: str) -> int:
        return php_version_compare(a, b)

    def key(self, v: str):
        return _KEY(v)

    def valid(self, v: str) -> bool:
        return bool(v.strip())


_KEY = functools.cmp_to_key(php_version_compare)
