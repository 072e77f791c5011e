"""The walker's path index: every analyzer's file table, compiled once into a few lookups.

It is asked about every regular file of every layer (~20,000 in a distro image) and answers with the
(analyzer, rule) pairs that parse the file: per analyzer the first of its rules that covers it, in
the analyzers' order. Each selector of each rule is filed where a path finds it cheaply: exact paths,
basenames and extensions in dicts; directory prefixes in a dict asked once per `/` of the path, only
when the path starts with one of them; executables in a list asked for files with an x bit; a glob
by what every path it matches has (`globs.anchor`: a basename, a directory, an extension), or, when
nothing is certain, in a short list asked about every file. A rule found this way is then checked
whole: its glob (when the anchor alone does not decide), its size bounds and its exclusions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hullscan.walk.analyzer import Analyzer, FileRule
from hullscan.walk.globs import PathTest, anchor, path_test

_Entry = tuple[int, PathTest | None]
"""(position of the rule among all rules, the test the path must still pass — None when found is enough)."""


class PathIndex:
    """Which analyzers parse a file, and with which of their rules."""

    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self._rules: list[tuple[int, Analyzer, FileRule, Callable[[str, str, int], bool]]] = []
        self._by_path: dict[str, list[_Entry]] = {}
        self._by_name: dict[str, list[_Entry]] = {}
        self._by_ext: dict[str, list[_Entry]] = {}
        self._by_prefix: dict[str, list[_Entry]] = {}
        self._executable: list[_Entry] = []
        self._always: list[_Entry] = []
        tables = {"name": self._by_name, "ext": self._by_ext, "prefix": self._by_prefix}
        self.link_rules: list[tuple[Analyzer, FileRule]] = []
        """The rules that take symlinks (`FileRule.symlinks`), asked by `links` only."""
        for position, an in enumerate(analyzers):
            for rule in an.files:
                if rule.symlinks:
                    self.link_rules.append((an, rule))
                    continue
                key = len(self._rules)
                self._rules.append((position, an, rule, rule.admits))
                for table, keys in ((self._by_path, rule.paths), (self._by_name, rule.names),
                                    (self._by_ext, rule.extensions), (self._by_prefix, rule.prefixes)):
                    for k in keys:
                        table.setdefault(k, []).append((key, None))
                if rule.executable:
                    self._executable.append((key, None))
                for glob in rule.globs:
                    kind, where = anchor(glob)
                    decided = glob == "**" or (kind == "name" and glob == f"**/{where}")
                    entry = (key, None if decided else path_test((glob,)))
                    filed = tables.get(kind)
                    if filed is None:
                        self._always.append(entry)
                    else:
                        filed.setdefault(where, []).append(entry)
        self._prefixes = tuple(self._by_prefix)
        self._longest = max(map(len, self._prefixes), default=0)

    def links(self, path: str, mode: int) -> list[tuple[Analyzer, FileRule]]:
        """The (analyzer, rule) pairs that record a symlink at `path` (per analyzer its first such rule)."""
        out: list[tuple[Analyzer, FileRule]] = []
        for an, rule in self.link_rules:
            if (not out or out[-1][0] is not an) and rule.covers(path, 0, mode):
                out.append((an, rule))
        return out

    def match(self, path: str, size: int, mode: int) -> list[tuple[Analyzer, FileRule]]:
        """The (analyzer, rule) pairs for a regular file: its path (absolute, normalized), size and mode."""
        slash = path.rfind("/")
        base = path[slash + 1 :]
        dot = base.rfind(".")
        ext = base[dot + 1 :].lower() if dot >= 0 else ""
        found = list(self._always)
        hit = self._by_path.get(path)
        if hit:
            found += hit
        hit = self._by_name.get(base)
        if hit:
            found += hit
        if ext:
            hit = self._by_ext.get(ext)
            if hit:
                found += hit
        if self._prefixes and path.startswith(self._prefixes):
            by_prefix = self._by_prefix
            last = min(slash, self._longest - 1)  # the `/` that ends the longest prefix, at most
            i = 0
            while 0 <= i <= last:
                hit = by_prefix.get(path[: i + 1])
                if hit:
                    found += hit
                i = path.find("/", i + 1)
        if mode & 0o111 and self._executable:
            found += self._executable
        if len(found) == 1:  # the common case: one rule that takes (nearly) every file, like the secret scanner's
            key, test = found[0]
            _position, an, rule, admits = self._rules[key]
            return [(an, rule)] if (test is None or test(path)) and admits(path, ext, size) else []
        if not found:
            return []
        keys = sorted([key for key, test in found if test is None or test(path)])  # a repeated key is asked again: harmless
        out: list[tuple[Analyzer, FileRule]] = []
        taken = -1
        for key in keys:
            position, an, rule, admits = self._rules[key]
            if position != taken and admits(path, ext, size):
                out.append((an, rule))
                taken = position
        return out
