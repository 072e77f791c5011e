"""The glob dialect of the analyzers' file tables, compiled to the cheapest test that decides it.

A glob is matched against a file's whole path in the image (absolute, normalized, case-sensitive):
`*` matches any characters but `/`, `?` one such character, and `**`, a segment of its own, any
number of whole segments: none at all included (`/a/**/b` matches `/a/b`), except at the end, where
it means "anything under" (`**/site-packages/**` matches no file named site-packages). A glob starts
with `/`, or with `**/` to match at any depth; `**` alone matches every path.

The shapes the tables use most (`**/NAME`, `**/*.ext`, `**/DIR/**`, `**/*TEXT*`, a literal path or
directory) become string operations rather than regular expressions: exclusions are tested against
every file the index hands an analyzer (for the secret scanner, every file of the image).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

PathTest = Callable[[str], bool]


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _absolute(glob: str) -> str:
    """The glob with a leading `/` (`**/x` → `/**/x`), checked for the dialect's rules."""
    g = "/" + glob if glob.startswith("**/") or glob == "**" else glob
    if not g.startswith("/"):
        raise ValueError(f"glob {glob!r}: must start with / or **/")
    for seg in g[1:].split("/"):
        if not seg or ("**" in seg and seg != "**"):
            raise ValueError(f"glob {glob!r}: empty segment, or ** not a segment of its own")
    return g


def glob_regex(glob: str) -> re.Pattern[str]:
    """The glob as a regular expression over a whole path (use `fullmatch`)."""
    segs = _absolute(glob)[1:].split("/")
    out = []
    for i, seg in enumerate(segs):
        if seg == "**":
            # normalized paths have no `//`: a group ending anywhere but before the next `/` cannot match
            out.append("/.+" if i == len(segs) - 1 else "(?:/.*)?")
        else:
            out.append("/" + "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in seg))
    return re.compile("".join(out))


def path_test(globs: Iterable[str]) -> PathTest | None:
    """One predicate: does a path match any of the globs (None for no globs)."""
    equal: set[str] = set()
    suffixes: list[str] = []
    starts: list[str] = []
    inside: list[str] = []
    in_base: list[str] = []
    regexes: list[str] = []
    for glob in globs:
        g = _absolute(glob)
        rest = g[4:]  # after `/**/`
        if not _wild(g):
            equal.add(g)
        elif g.startswith("/**/") and not _wild(rest):
            suffixes.append("/" + rest)  # **/NAME, **/DIR/NAME
        elif g.startswith("/**/*") and "/" not in rest and not _wild(rest[1:]):
            suffixes.append(rest[1:])  # **/*.ext: a suffix without `/` is the basename's
        elif g.startswith("/**/") and g.endswith("/**") and len(rest) > 3 and not _wild(rest[:-3]):
            inside.append(f"/{rest[:-3]}/")  # **/DIR/**: anything under a directory of that name
        elif g.startswith("/**/*") and g.endswith("*") and "/" not in rest and not _wild(rest[1:-1]):
            in_base.append(rest[1:-1])  # **/*TEXT*
        elif g.endswith("/**") and not _wild(g[:-3]):
            starts.append(g[:-2])  # /DIR/**
        else:
            regexes.append(glob_regex(glob).pattern)
    tests: list[PathTest] = []  # only the kinds present: each is asked about most files of an image
    if equal:
        tests.append(equal.__contains__)
    if suffixes:
        ends = tuple(suffixes)
        tests.append(lambda p: p.endswith(ends))
    if starts:
        begins = tuple(starts)
        tests.append(lambda p: p.startswith(begins))
    tests += [_within(text) for text in inside]
    tests += [_within_basename(text) for text in in_base]
    if regexes:
        match = re.compile("|".join(f"(?:{r})" for r in regexes)).fullmatch
        tests.append(lambda p: match(p) is not None)
    if len(tests) <= 1:
        return tests[0] if tests else None

    def any_test(path: str) -> bool:
        for t in tests:
            if t(path):
                return True
        return False

    return any_test


def _within(text: str) -> PathTest:
    return lambda p: text in p


def _within_basename(text: str) -> PathTest:
    return lambda p: text in p[p.rfind("/") + 1 :]


def anchor(glob: str) -> tuple[str, str]:
    """Where the path index files a glob: by the basename every match has (`name`), a directory every
    match is under (`prefix`), an extension every match has (`ext`, lowercased), or nowhere (`always`:
    asked about every file)."""
    g = _absolute(glob)
    last = g[g.rfind("/") + 1 :]
    if not _wild(last):
        return "name", last
    first = min(i for i in (g.find("*"), g.find("?")) if i >= 0)
    prefix = g[: g.rfind("/", 0, first) + 1]
    if prefix != "/":
        return "prefix", prefix
    ext = last[last.rfind(".") + 1 :] if "." in last else ""
    if ext and not _wild(ext):
        return "ext", ext.lower()
    return "always", ""
