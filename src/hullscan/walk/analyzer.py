"""The analyzer interface: what an inventory capability declares and implements.

An analyzer (after Trivy's fanal analyzers, claircore's versioned scanners and Syft's generic
cataloger, which binds parsers to globs) has:

- `name` and `version`: the key of its cached facts, per layer (diff_id, name, version). Bump
  `version` when a parser's facts change: only this analyzer's cached facts are then ignored.
- `files`: its file table, a tuple of `FileRule`s. A rule says which files it covers (exact paths,
  basenames, globs, extensions, directory prefixes, executables; size bounds; exclusions) and names
  the parser that turns one such file's bytes into a plain-JSON *fact*. The walker builds one path
  index from every analyzer's rules (`walk/index.py`): the table is the only place that says where
  an analyzer's files are. An analyzer's rules are tried in order; the first that covers a file
  parses it, so an analyzer whose choice of parser depends on the path has one rule per case.
- `assemble(view)`: the facts of one squashed image state → `Assembled` (packages, the OS, other
  facts such as secrets).

Two steps, because parsing is per layer and cached, while assembling needs the merged image. Each
is guarded once, by the walker (`parse_guarded`) and the applier: a parser that raises costs that
file's fact, an `assemble` that raises costs the files it raises on (each assembled alone to find
them), each with a warning naming the analyzer, the layer and the path — never the scan. A parser
therefore catches only what lets it keep *part* of a file (a damaged record among good ones); for
everything else it calls `warn` or simply raises. Purls are built with `inventory/purl.py`, which
returns "" for parts that make none; the applier leaves those packages out with a warning.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from hullscan.model.inventory import LayerRef, OSInfo, Package, ScanWarning
from hullscan.walk.globs import path_test

WarnFn = Callable[[str], None]
"""Report a problem with the file being parsed (the walker adds analyzer, layer and path)."""

MiB = 1024 * 1024
MAX_PROBLEMS = 20
"""Warnings kept per file and analyzer: one wrecked file must not drown the report."""


@dataclass(frozen=True)
class FileFact:
    """A fact an analyzer made from one file of one layer."""

    path: str
    """Absolute, normalized path in the image (`/var/lib/dpkg/status`)."""
    layer: int
    """Index of the layer that wrote this file."""
    fact: Any
    """What the parser returned (plain JSON data)."""
    removed_in: int | None = None
    """Index of the layer that deleted or replaced the file, None while it is still in the image."""


@dataclass
class AnalyzerView:
    """What `assemble` sees: the squashed image up to some layer, as this analyzer's facts."""

    files: dict[str, FileFact]
    """path → fact, from the layer that last wrote the path, for files still present."""
    layers: list[LayerRef]
    """All layers of the image (not only those up to this state)."""
    os: OSInfo | None = None
    """The OS detected in the final image (None while detecting it, or when unknown)."""
    history: list[FileFact] = field(default_factory=list)
    """Every fact of every layer up to this state, including files later deleted or replaced
    (`removed_in` set). Only filled for analyzers with `wants_history`."""
    warnings: list[tuple[str, str]] = field(default_factory=list)
    """(path, message) problems found while assembling; the applier turns them into scan warnings."""

    def warn(self, path: str, message: str) -> None:
        self.warnings.append((path, message))

    def under(self, prefix: str) -> Iterator[FileFact]:
        """Facts of files under a directory prefix (`/var/lib/dpkg/`)."""
        for path, ff in self.files.items():
            if path.startswith(prefix):
                yield ff


@dataclass
class Assembled:
    """What an analyzer contributes to the inventory."""

    packages: list[Package] = field(default_factory=list)
    os: OSInfo | None = None
    facts: Any = None
    """Any other plain-data result (secrets, config findings), stored under the analyzer's name."""


Parser = Callable[[str, bytes, WarnFn], Any]
"""`parse(path, data, warn)`: one file's bytes → a JSON-able fact, or None when it holds nothing.
What it can say about bad content goes to `warn`; an exception costs the file's fact (`parse_guarded`)."""


@dataclass(frozen=True, kw_only=True)
class FileRule:
    """Which files an analyzer reads, and the parser for them. A file is covered when any selector
    picks it (`paths`, `names`, `globs`, `extensions`, `prefixes`, `executable`), its size is within
    [`min_size`, `max_size`], and no exclusion (`exclude`, `exclude_extensions`, `skip`) removes it.
    Globs follow `walk/globs.py`: `*` never crosses `/`, `**` spans any depth."""

    parse: Parser
    """Turns one covered file into a fact (see `Parser`)."""
    paths: tuple[str, ...] = ()
    """Exact absolute paths (`/var/lib/dpkg/status`)."""
    names: tuple[str, ...] = ()
    """Basenames, wherever they are (`go.mod`)."""
    globs: tuple[str, ...] = ()
    """Path globs (`**/node_modules/*/package.json`, `/usr/share/doc/*/copyright`)."""
    extensions: tuple[str, ...] = ()
    """What follows the basename's last dot, without it, matched case-insensitively (`jar` takes `LIB.JAR`)."""
    prefixes: tuple[str, ...] = ()
    """Directories, with their trailing `/` (`/usr/bin/`): every file under them, at any depth."""
    executable: bool = False
    """Every file with an x bit."""
    min_size: int = 0
    max_size: int | None = None
    """Size bounds (bytes, inclusive). A file outside them is simply not this rule's, without a warning:
    unlike the analyzer's `max_size`, which says the file is one it wants but too big to read."""
    exclude: tuple[str, ...] = ()
    """Globs of paths this rule never covers (`**/site-packages/**`: lockfiles that packages ship)."""
    exclude_extensions: tuple[str, ...] = ()
    """Extensions (case-insensitive) this rule never covers."""
    skip: Callable[[str], object] | None = None
    """A last test on the path, for exclusions no glob can say (the secret rules' allowed paths are
    regular expressions from a config); a true result excludes the file."""
    symlinks: bool = False
    """The rule covers symbolic links instead of files: each link it selects becomes the fact
    `{"link": target}` (the target as stored) without a parser — resolving paths inside the image
    (hullscan.reach) needs the links, which have no bytes to parse. Size bounds do not apply."""

    def __post_init__(self) -> None:
        if not (self.paths or self.names or self.globs or self.extensions or self.prefixes or self.executable):
            raise ValueError("a FileRule selects no file: give paths, names, globs, extensions, prefixes or executable")
        if any(not p.startswith("/") or not p.endswith("/") for p in self.prefixes):
            raise ValueError(f"prefixes are directories, from / to a trailing /: {self.prefixes}")
        if any(e.startswith(".") or e != e.lower() for e in (*self.extensions, *self.exclude_extensions)):
            raise ValueError("extensions are given lowercase, without their dot")

    @cached_property
    def _selects(self) -> Callable[[str, str, str, int], bool]:
        paths, names, exts, prefixes = frozenset(self.paths), frozenset(self.names), frozenset(self.extensions), self.prefixes
        glob = path_test(self.globs)
        executable = self.executable
        return lambda path, base, ext, mode: (
            path in paths or base in names or ext in exts or path.startswith(prefixes)
            or (executable and bool(mode & 0o111)) or (glob is not None and glob(path))
        )

    @cached_property
    def admits(self) -> Callable[[str, str, int], bool]:
        """`admits(path, ext, size)`: within the size bounds and not excluded (`ext` lowercased, "" for none).
        The path index calls it on the rules it picked a file for."""
        low, high = self.min_size, self.max_size
        excluded = path_test(self.exclude)
        skip_ext = frozenset(self.exclude_extensions)
        skip = self.skip
        return lambda path, ext, size: (
            low <= size and (high is None or size <= high) and ext not in skip_ext
            and (excluded is None or not excluded(path)) and not (skip is not None and skip(path))
        )

    def covers(self, path: str, size: int, mode: int) -> bool:
        """Whether this rule covers a file (rule by rule: the walker asks its index instead)."""
        base = path[path.rfind("/") + 1 :]
        ext = base[base.rfind(".") + 1 :].lower() if "." in base else ""
        return self._selects(path, base, ext, mode) and self.admits(path, ext, size)


class Analyzer(ABC):
    """One inventory capability. Subclasses set `name`, `version` and `files`, and implement `assemble`."""

    name: ClassVar[str]
    """Unique, stable name: part of the cache key and of reports (`dpkg`, `python-dist`, `os-release`)."""
    version: int
    """Bump when a parser's facts change: cached facts of other versions are ignored. A class
    attribute, which an instance may override (a secret analyzer with its own rules config)."""
    files: tuple[FileRule, ...]
    """The file table: which files this analyzer reads and how each is parsed (see `FileRule`)."""
    max_size: ClassVar[int] = 32 * MiB
    """Files bigger than this are never read, with a warning (memory stays flat)."""
    wants_history: ClassVar[bool] = False
    """Set when `assemble` needs deleted and replaced files too (`AnalyzerView.history`)."""
    detects_os: ClassVar[bool] = False
    """Set for OS detection, which is assembled first; the others then see `view.os`."""
    scanners: ClassVar[frozenset[str]] = frozenset({"vuln", "license"})
    """The scanners (`--scanners`) that need this analyzer; package analyzers keep the default."""

    def rule_for(self, path: str, size: int, mode: int) -> FileRule | None:
        """The rule that parses a file: the first of `files` that covers it (None: not this analyzer's)."""
        return next((rule for rule in self.files if rule.covers(path, size, mode)), None)

    @abstractmethod
    def assemble(self, view: AnalyzerView) -> Assembled:
        """The squashed facts → packages (without `layer`; the applier sets it) or other results."""


def parse_guarded(analyzer: Analyzer, rule: FileRule, path: str, data: bytes) -> tuple[Any, list[str]]:
    """One file through one rule's parser, inside the one guard every parser runs in: the fact (None
    when the parser found nothing or raised) and the warnings, each naming the analyzer."""
    problems: list[str] = []
    try:
        fact = rule.parse(path, data, problems.append)
    except Exception as err:  # a parser bug on hostile content costs this file's fact, never the scan
        problems.append(f"cannot parse: {type(err).__name__}: {err}")
        fact = None
    # one line each: library messages (YAML's, expat's) may span several
    return fact, [f"{analyzer.name}: {' '.join(str(p).split())}" for p in problems[:MAX_PROBLEMS]]


@dataclass
class LayerFacts:
    """Everything the walker learned from one layer (what the per-layer cache stores)."""

    ref: LayerRef
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """analyzer name → {path: fact}."""
    written: set[str] = field(default_factory=set)
    """Paths of the non-directory members this layer wrote (replacing lower copies)."""
    deleted: list[str] = field(default_factory=list)
    """Paths a whiteout (`.wh.NAME`) removed, with everything under them."""
    opaque: list[str] = field(default_factory=list)
    """Directories an opaque whiteout (`.wh..wh..opq`) emptied of lower layers' content."""
    warnings: list[ScanWarning] = field(default_factory=list)
