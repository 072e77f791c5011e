"""`--skip-files` and `--skip-dirs`: the files of an image a scan leaves out, in Trivy's glob syntax.

Applied when layers are applied (inventory/applier.py), never while walking: the per-layer facts in
the cache stay the same whatever a scan skips, so images scanned with other skip globs share them.
What is skipped is therefore part of the whole-result cache key (scan/result_cache.py).

The glob syntax is Trivy's (its `doublestar` library): a pattern is cleaned as Trivy cleans it
(`./a//b/` → `a/b`, a leading `/` dropped) and matched against the whole path without its leading
`/`. `*` matches any characters but `/`, `?` one of them, `[abc]`, `[a-z]`, `[!a]` or `[^a]` one of a
class, `{a,b}` either alternative, `\\x` the character x, and `**` as a segment of its own zero or
more segments: `**/.git` is a `.git` at any depth, `usr/**` everything under `usr`. A file is skipped
when its path matches a `--skip-files` glob, or when a directory above it matches a `--skip-dirs`
glob (Trivy then skips the whole directory).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from hullscan.errors import UsageError
from hullscan.walk.analyzer import LayerFacts

MAX_ALTERNATIVES = 256
"""`{a,b}{c,d}…` expands into this many patterns at most (a pattern is a user's, not a bomb)."""


def clean(pattern: str) -> str:
    """A pattern as Trivy cleans it (Go's `filepath.Clean`, then the leading `/` trimmed)."""
    return posixpath.normpath(pattern).lstrip("/") if pattern else ""


def split_globs(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated option values as one list (`--skip-dirs a,b --skip-dirs c`),
    empty items dropped, order kept, duplicates dropped. A comma inside `{…}` separates
    alternatives, not globs."""
    out: dict[str, None] = {}
    for value in values or ():
        for item in _top_level_split(value, ","):
            if item.strip():
                out[item.strip()] = None
    return tuple(out)


def glob_regex(pattern: str, option: str = "glob") -> str:
    """One cleaned pattern as a regular expression over a path without its leading `/` (for `fullmatch`).
    A pattern that cannot match anything sensible (empty, `.`, `..`, an unclosed `[` or `{`) is a
    UsageError naming the option."""
    cleaned = clean(pattern)
    if cleaned in ("", ".", "..") or cleaned.startswith("../"):
        raise UsageError(f"{option} {pattern!r}: not a path pattern inside the image")
    try:
        alternatives = _expand_braces(cleaned)
    except ValueError as err:
        raise UsageError(f"{option} {pattern!r}: {err}") from None
    try:
        return "|".join(f"(?:{_alternative_regex(alt)})" for alt in alternatives)
    except ValueError as err:
        raise UsageError(f"{option} {pattern!r}: {err}") from None


class SkipPaths:
    """The skip globs of one scan, and what they skipped (`tally`): make one per scan."""

    def __init__(self, files: Sequence[str] = (), dirs: Sequence[str] = ()) -> None:
        self.files = tuple(files)
        self.dirs = tuple(dirs)
        self._file = _compile(files, "--skip-files")
        self._dir = _compile(dirs, "--skip-dirs")
        self._dir_memo: dict[str, str | None] = {"": None}
        self.tally: dict[str, int] = {}
        """What was skipped → how many distinct files: a directory (`/.git/`) or a file (`/app/.env`)."""

    def __bool__(self) -> bool:
        return bool(self.files or self.dirs)

    def reason(self, path: str) -> str | None:
        """Why an image path (`/app/.env`) is skipped: the topmost skipped directory above it (`/.git/`),
        the path itself (a skipped file), or None when it is kept."""
        rel = path.lstrip("/")
        if self._dir is not None:
            hit = self._dir_hit(rel.rpartition("/")[0])
            if hit is not None:
                return f"/{hit}/"
        if self._file is not None and self._file(rel) is not None:
            return "/" + rel
        return None

    def _dir_hit(self, directory: str) -> str | None:
        """The topmost directory of `directory`'s ancestors (itself included) a --skip-dirs glob
        matches; memoized, as every file of a directory asks about the same ancestors."""
        memo = self._dir_memo
        if directory in memo:
            return memo[directory]
        parent = directory.rpartition("/")[0]
        hit = self._dir_hit(parent)
        if hit is None and self._dir is not None and self._dir(directory) is not None:
            hit = directory
        memo[directory] = hit
        return hit

    def filter(self, layer_facts: Sequence[LayerFacts]) -> list[LayerFacts]:
        """Each layer's facts without those of skipped files (the layers given are not changed), and
        `tally` counting every skipped file a layer wrote, whether or not an analyzer read it."""
        if not self:
            return list(layer_facts)
        reasons: dict[str, str | None] = {}

        def skipped(path: str) -> bool:
            if path not in reasons:
                reasons[path] = self.reason(path)
            return reasons[path] is not None

        out = []
        for lf in layer_facts:
            for path in lf.written:
                skipped(path)
            facts = {name: {p: fact for p, fact in per_path.items() if not skipped(p)}
                     for name, per_path in lf.facts.items()}
            out.append(replace(lf, facts=facts))
        for why in reasons.values():
            if why is not None:
                self.tally[why] = self.tally.get(why, 0) + 1
        return out

    def describe(self, most: int = 5) -> str:
        """One line saying what was skipped: `skipped 57 files: /.git/ (55), /app/.env`."""
        total = sum(self.tally.values())
        items = sorted(self.tally.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = [f"{what} ({n})" if what.endswith("/") else what for what, n in items[:most]]
        more = f", … {len(items) - most} more" if len(items) > most else ""
        return f"skipped {total} file{'s' if total != 1 else ''}: {', '.join(shown)}{more}"


def _compile(patterns: Sequence[str], option: str) -> Callable[[str], re.Match[str] | None] | None:
    """One `fullmatch` for all the patterns of an option (None for none)."""
    regexes = [glob_regex(p, option) for p in patterns]
    return re.compile("|".join(f"(?:{r})" for r in regexes)).fullmatch if regexes else None


def _top_level_split(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside `{…}` and `[…]` (and not escaped)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if text[i + 1 : i + 2] in ("!", "^"):
                i += 1
            if text[i + 1 : i + 2] == "]":  # `[]a]`: a leading `]` is a member
                i += 1
        elif c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _expand_braces(pattern: str) -> list[str]:
    """`a{b,c{d,e}}f` → [abf, acdf, acef]: alternatives become whole patterns, so `**` stays a segment."""
    out: list[str] = []
    todo = [pattern]
    while todo:
        p = todo.pop()
        start = _first_brace(p)
        if start < 0:
            out.append(p)
            continue
        end = _closing_brace(p, start)
        for alt in _top_level_split(p[start + 1 : end], ","):
            todo.append(p[:start] + alt + p[end + 1 :])
        if len(todo) + len(out) > MAX_ALTERNATIVES:
            raise ValueError(f"more than {MAX_ALTERNATIVES} alternatives")
    return sorted(set(out))


def _first_brace(p: str) -> int:
    i, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "{":
            return i
        i += 1
    return -1


def _closing_brace(p: str, start: int) -> int:
    depth, i = 0, start
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unclosed {")


def _alternative_regex(pattern: str) -> str:
    """A brace-free pattern as a regular expression; `**` only as a whole segment, as doublestar has it
    (elsewhere it is `*`)."""
    segments: list[str] = []
    for seg in pattern.split("/"):
        if not (seg == "**" and segments and segments[-1] == "**"):  # `**/**` is `**`
            segments.append(seg)
    last = len(segments) - 1
    out: list[str] = []
    slash = False  # whether the next literal segment needs a `/` before it
    for i, seg in enumerate(segments):
        if seg == "**":
            if i == 0 and i == last:
                out.append(".*")
            elif i == 0:
                out.append("(?:.*/)?")
            elif i == last:
                out.append("(?:/.*)?")
            else:
                out.append("/(?:.*/)?")
            slash = False
            continue
        if slash:
            out.append("/")
        out.append(_segment_regex(seg))
        slash = True
    return "".join(out)


def _segment_regex(seg: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "\\":
            if i + 1 >= len(seg):
                raise ValueError("a trailing \\ escapes nothing")
            out.append(re.escape(seg[i + 1]))
            i += 2
            continue
        if c == "*":
            if not out or out[-1] != "[^/]*":  # `**` inside a segment is `*`; one is enough for the regex
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end, cls = _char_class(seg, i)
            out.append(cls)
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _char_class(seg: str, start: int) -> tuple[int, str]:
    """`[…]` at `start` → (index of its `]`, the regex class; a negated class never matches `/`)."""
    i = start + 1
    negate = i < len(seg) and seg[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while i < len(seg) and (seg[i] != "]" or first):
        c = seg[i]
        if c == "\\" and i + 1 < len(seg):
            members.append(re.escape(seg[i + 1]))
            i += 2
        else:
            members.append("-" if c == "-" else re.escape(c))
            i += 1
        first = False
    if i >= len(seg):
        raise ValueError("unclosed [")
    body = "".join(members)
    return i, f"[^/{body}]" if negate else f"[{body}]"
