"""The analyzer interface: the only thing an inventory capability implements.

An analyzer (after Trivy's fanal analyzers and claircore's versioned scanners) has a name and a
version, declares which files it wants with a cheap predicate, turns each wanted file of each layer
into a plain-JSON *fact* (cached per layer under (diff_id, name, version)), and finally assembles the
facts of the squashed image into packages or other results. Changing an analyzer's `version`
invalidates only its own cached facts.

Two steps, because the first is per layer and cached, and the second needs the merged image:
- `analyze(path, data, warn)`: a pure function of one file's bytes → JSON-able fact (or None).
- `assemble(view)`: the facts of one image state (squashed up to a layer) → `Assembled`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hullscan.model.inventory import LayerRef, OSInfo, Package, ScanWarning

WarnFn = Callable[[str], None]
"""Report a problem with the file being analyzed (the walker adds layer and path)."""

MiB = 1024 * 1024


@dataclass(frozen=True)
class FileFact:
    """A fact an analyzer made from one file of one layer."""

    path: str
    """Absolute, normalized path in the image (`/var/lib/dpkg/status`)."""
    layer: int
    """Index of the layer that wrote this file."""
    fact: Any
    """What `analyze` returned (plain JSON data)."""
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


@dataclass(frozen=True)
class PathHints:
    """Where an analyzer's files can be: a necessary condition of its `wants`, declared as data so
    the walker can find the few analyzers a file may concern with a handful of dict lookups instead
    of calling every analyzer's `wants` on every file (18 calls × ~20,000 files per image). A file
    matches when its basename is in `names`, its extension (after the basename's last dot,
    lowercased) is in `extensions`, its path starts with one of `prefixes`, or — `executable` — it
    has an x bit. `wants` is still asked about every file that matches."""

    names: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    executable: bool = False

    def matches(self, path: str, mode: int) -> bool:
        base = path[path.rfind("/") + 1 :]
        dot = base.rfind(".")
        return (
            base in self.names
            or (dot >= 0 and base[dot + 1 :].lower() in self.extensions)
            or path.startswith(self.prefixes)
            or (self.executable and bool(mode & 0o111))
        )


class Analyzer(ABC):
    """One inventory capability. Subclasses set `name`, `version` and implement the three methods."""

    name: ClassVar[str]
    """Unique, stable name: part of the cache key and of reports (`dpkg`, `python-dist`, `os-release`)."""
    version: int
    """Bump when `analyze` changes its facts: cached facts of other versions are ignored. A class
    attribute, which an instance may override (a secret analyzer with its own rules config)."""
    max_size: ClassVar[int] = 32 * MiB
    """Files bigger than this are never handed to `analyze` (memory stays flat)."""
    wants_history: ClassVar[bool] = False
    """Set when `assemble` needs deleted and replaced files too (`AnalyzerView.history`)."""
    detects_os: ClassVar[bool] = False
    """Set for OS detection, which is assembled first; the others then see `view.os`."""
    scanners: ClassVar[frozenset[str]] = frozenset({"vuln", "license"})
    """The scanners (`--scanners`) that need this analyzer; package analyzers keep the default."""
    hints: ClassVar[PathHints | None] = None
    """Where the files `wants` accepts can be (None: anywhere, `wants` is asked about every file).
    tests/inventory/test_path_hints.py checks each analyzer's hints against its `wants`."""

    @abstractmethod
    def wants(self, path: str, size: int, mode: int) -> bool:
        """Cheap predicate on a regular file's path (absolute, normalized), size and permission bits."""

    @abstractmethod
    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        """One file's bytes → a JSON-able fact, or None when the file holds nothing for this analyzer.

        Must not raise on bad content: call `warn` and return None (or what could be read)."""

    @abstractmethod
    def assemble(self, view: AnalyzerView) -> Assembled:
        """The squashed facts → packages (without `layer`; the applier sets it) or other results."""


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
