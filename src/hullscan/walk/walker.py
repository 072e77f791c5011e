"""Walk one layer (or a root filesystem) once and hand each analyzer only the files its table names.

Produces `LayerFacts` for the applier. Each regular file goes through the path index (`index.py`)
built from every analyzer's file table, is read once if any rule covers it, and goes to each rule's
parser inside one guard (`analyzer.parse_guarded`): a parser that raises costs a warning naming the
analyzer, layer and path, and the file's other analyzers still run. Hostile members are neutralized
with a warning naming the layer and the member, never with an exception: names escaping the root,
links to nothing, device nodes and FIFOs where analyzers look, whiteouts pointing outside, oversized
files. Nothing is read from or written to the host but the image's own bytes.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hullscan.errors import InputError
from hullscan.image.blobs import layer_label, stream_layer
from hullscan.image.model import Layer
from hullscan.image.tarstream import DEVICE, DIRECTORY, FIFO, HARDLINK, REGULAR, SYMLINK, TarError, TarReader
from hullscan.model.inventory import LayerRef, ScanWarning
from hullscan.walk.analyzer import Analyzer, FileRule, LayerFacts, parse_guarded
from hullscan.walk.index import PathIndex

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_WARNINGS_PER_LAYER = 200  # one hostile layer must not drown the report
# No file is read into memory above this, whatever an analyzer's max_size says: a hostile 500 MB
# member must not take the scan past its 250 MB memory budget (issue 2).
MAX_FILE_READ = 128 * 1024 * 1024
#: Bytes of files read in a layer kept for hard links to them later in the same layer (a tar puts a link after
#: its target): within it, a link is fed from memory instead of a second pass over the layer — which for an
#: engine's save stream means a second stream, and for a compressed blob a second decompression.
KEEP_FOR_LINKS = 32 * 1024 * 1024
BIG_READ = 16 * 1024 * 1024
# Set (to a multiprocessing lock) while layers are walked by parallel worker processes: files over
# BIG_READ are then read and analyzed by one worker at a time, so the workers together stay within
# the memory one walk needs, and results do not depend on the number of workers.
BIG_READ_GUARD: Any = None
PATH_MAX = 4096  # Linux's limit on a path: longer member names cannot exist in a running container
# Characters of paths one layer's walk keeps (written files, their sizes, whiteouts): ~400k ordinary
# paths. Beyond it a hostile layer (say 300,000 distinct names of 4,000 characters) would hold
# gigabytes; later paths are then not tracked (a warning says so), files are still analyzed.
MAX_PATH_CHARS = 32 * 1024 * 1024
OVER_BUDGET = (f"more than {MAX_PATH_CHARS} characters of paths in this layer; from here on its files and "
               "whiteouts are analyzed but not tracked for the squashed image")


Parse = tuple[Analyzer, FileRule]
"""An analyzer and the rule of its file table that parses a file."""


def normalize(name: str) -> str | None:
    """A member name as an absolute image path, or None when it escapes the root (`..`)."""
    if "//" in name or "/." in name or "\\" in name or name.startswith("."):
        return _normalize_parts(name)
    # no empty, `.` or `..` part and no backslash: nothing to fold (nearly every member; ~1/10 of a walk's CPU)
    return "/" + name.strip("/")


def _normalize_parts(name: str) -> str | None:
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def resolve_link(path: str, target: str) -> str | None:
    """Where a symlink at `path` points inside the image, None when it climbs out of the root."""
    base = target if target.startswith("/") else posixpath.join(posixpath.dirname(path), target)
    return normalize(base) if target else None


@dataclass
class AnalyzerRun:
    """Per-analyzer output of one layer: facts and the warnings made while producing them."""

    facts: dict[str, object] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)


class _Dispatcher:
    """Decides, per member, which analyzers parse it (the path index), and collects facts and warnings."""

    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self.runs = {an.name: AnalyzerRun() for an in analyzers}
        index = PathIndex(analyzers)
        self.wanting = index.match
        """`wanting(path, size, mode)`: the (analyzer, rule) pairs that parse a regular file."""
        self.link_rules = index.links if index.link_rules else None
        """`link_rules(path, mode)`: the rules recording a symlink (None: no analyzer wants links)."""
        self.walk_warnings: list[tuple[str, str]] = []
        self._dropped = 0

    def warn(self, path: str, message: str) -> None:
        if len(self.walk_warnings) < MAX_WARNINGS_PER_LAYER:
            self.walk_warnings.append((path, message))
        else:
            self._dropped += 1

    def feed(self, wanting: list[Parse], path: str, size: int, read: Callable[[int], bytes]) -> None:
        fits = [(an, rule) for an, rule in wanting if size <= min(an.max_size, MAX_FILE_READ)]
        for an, _rule in wanting:
            limit = min(an.max_size, MAX_FILE_READ)
            if size > limit:
                self.runs[an.name].warnings.append((path, f"{an.name}: skipped, {size} bytes exceeds its {limit} limit"))
        if not fits:
            return
        if size > BIG_READ and BIG_READ_GUARD is not None:
            with BIG_READ_GUARD:
                self._run(fits, path, read)
        else:
            self._run(fits, path, read)

    def _run(self, fits: list[Parse], path: str, read: Callable[[int], bytes]) -> None:
        data = read(max(min(an.max_size, MAX_FILE_READ) for an, _rule in fits))
        for an, rule in fits:
            run = self.runs[an.name]
            fact, problems = parse_guarded(an, rule, path, data)
            run.warnings.extend((path, p) for p in problems)
            if fact is not None:
                run.facts[path] = fact

    def link(self, path: str, mode: int, target: str) -> None:
        """A symlink: recorded as `{"link": target}` by the analyzers whose rules take it."""
        if self.link_rules is not None:
            for an, _rule in self.link_rules(path, mode):
                self.runs[an.name].facts[path] = {"link": target}

    def finish(self) -> None:
        if self._dropped:
            self.walk_warnings.append(("", f"{self._dropped} more warnings about this layer not shown"))


def walk_tar_layer(
    layer: Layer, analyzers: Sequence[Analyzer], seen: dict[str, object] | None = None
) -> tuple[LayerFacts, dict[str, AnalyzerRun], list[tuple[str, str]]]:
    """Stream one layer blob; return its facts, per-analyzer runs (for the cache) and walker warnings.
    `seen` receives the blob's digest and size as read."""
    label = layer_label(layer)
    d = _Dispatcher(analyzers)
    notes: list[str] = []
    written: set[str] = set()
    sizes: dict[str, int] = {}
    deleted: list[str] = []
    opaque: list[str] = []
    pending_links: list[tuple[str, str, list[Parse]]] = []
    contents: dict[str, bytes] = {}  # path -> the bytes read of it, for hard links to it (KEEP_FOR_LINKS)
    held = 0
    kept, over = 0, False  # characters of paths held in written/sizes/deleted; budget exceeded
    reader = TarReader(stream_layer(layer, notes, seen=seen))
    try:
        for m in reader.members():
            if len(m.name) > PATH_MAX or len(m.linkname) > PATH_MAX:
                # no Linux file system holds such a name (ENAMETOOLONG), and keeping a few PAX names of
                # megabytes each (in `written`, in warnings) took a scan past 400 MB
                longest = max(len(m.name), len(m.linkname))
                d.warn(m.name[:200] + "…", f"name or link target of {longest} characters exceeds PATH_MAX; skipped")
                continue
            path = normalize(m.name)
            if path is None:
                d.warn(m.name, "member name escapes the image root; skipped")
                continue
            if m.name.startswith("/"):  # docker/containerd apply it under the root; say so, it is never normal
                d.warn(m.name, f"absolute member name; read as {path}")
            if path == "/":
                continue
            base = path[path.rfind("/") + 1 :]
            if base.startswith(WHITEOUT):
                parent = posixpath.dirname(path)
                if base == OPAQUE:
                    opaque.append(parent)
                else:
                    target = normalize(posixpath.join(parent, base[len(WHITEOUT):]))
                    if target is None or target == "/" or base[len(WHITEOUT):] in ("", ".", ".."):
                        d.warn(m.name, "whiteout points outside its directory; ignored")
                    else:
                        kept += len(target)
                        if kept <= MAX_PATH_CHARS:
                            deleted.append(target)
                        elif not over:
                            over = True
                            d.warn(path, OVER_BUDGET)
                continue
            if m.kind == DIRECTORY:
                continue
            kept += len(path)
            if kept <= MAX_PATH_CHARS:
                written.add(path)
                if m.kind == REGULAR:
                    sizes[path] = m.size
            elif not over:
                over = True
                d.warn(path, OVER_BUDGET)
            if m.kind == REGULAR:
                held -= len(contents.pop(path, b""))  # a later member of the same name replaces it
                wanting = d.wanting(path, m.size, m.mode)
                if wanting:
                    got: list[bytes] = []
                    d.feed(wanting, path, m.size, _keeping(reader.read, got))
                    if got and len(got[0]) == m.size and held + m.size <= KEEP_FOR_LINKS:
                        contents[path] = got[0]
                        held += m.size
            elif m.kind == HARDLINK:
                target = normalize(m.linkname)
                if target is None:
                    d.warn(path, "hard link points outside the image; skipped")
                    continue
                size = sizes.get(target)
                wanting = d.wanting(path, size if size is not None else 0, m.mode)
                if not wanting:
                    continue
                if size is None:
                    d.warn(path, f"hard link to {target}, which this layer does not hold; skipped")
                    continue
                if target in contents:
                    d.feed(wanting, path, size, _prefix_reader(contents[target]))
                else:
                    pending_links.append((path, target, wanting))
            elif m.kind == SYMLINK:
                if resolve_link(path, m.linkname) is None and d.wanting(path, 0, m.mode):
                    d.warn(path, f"symlink points outside the image ({m.linkname}); not followed")
                d.link(path, m.mode, m.linkname)
            elif m.kind in (DEVICE, FIFO) and d.wanting(path, 0, m.mode):
                d.warn(path, f"{m.kind} where an analyzer looks; skipped")
        reader.drain()
    except TarError as err:
        raise InputError(f"{label}: {err}") from None
    if pending_links:
        _read_hard_links(layer, pending_links, sizes, d)
    d.finish()
    for note in notes:
        d.warn("", note)
    ref = LayerRef(index=layer.index, diff_id=layer.diff_id, created_by=layer.created_by)
    lf = LayerFacts(ref=ref, written=written, deleted=deleted, opaque=opaque)
    for name, run in d.runs.items():
        lf.facts[name] = run.facts
    return lf, d.runs, d.walk_warnings


def _read_hard_links(layer: Layer, links: list[tuple[str, str, list[Parse]]], sizes: dict[str, int], d: _Dispatcher) -> None:
    """Second pass, only when a rule covers a hard link: read the targets' bytes."""
    by_target: dict[str, list[tuple[str, list[Parse]]]] = {}
    for path, target, wanting in links:
        by_target.setdefault(target, []).append((path, wanting))
    reader = TarReader(stream_layer(layer, verify=False))
    try:
        for m in reader.members():
            if m.kind != REGULAR:
                continue
            member = normalize(m.name)
            if member is not None and member in by_target:
                data = reader.read(max(an.max_size for _, ws in by_target[member] for an, _rule in ws))
                for link_path, wanting in by_target.pop(member):
                    d.feed(wanting, link_path, len(data), _prefix_reader(data))
                if not by_target:
                    return
    except TarError:
        return  # the first pass already reported a broken tar


def _keeping(read: Callable[[int], bytes], got: list[bytes]) -> Callable[[int], bytes]:
    """`read`, remembering what it returned (the walker keeps it for hard links)."""

    def keep(n: int) -> bytes:
        data = read(n)
        got.append(data)
        return data

    return keep


def _prefix_reader(data: bytes) -> Callable[[int], bytes]:
    """`read(n)` for bytes already in memory (a hard link's target)."""
    return lambda n: data[:n]


def walk_rootfs(root: str, analyzers: Sequence[Analyzer]) -> tuple[LayerFacts, list[tuple[str, str]]]:
    """A plain directory as one layer: lstat only, never follow a symlink, open regular files only."""
    d = _Dispatcher(analyzers)
    written: set[str] = set()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    for path, st in _scan(root, d):
        written.add(path)
        if stat.S_ISREG(st.st_mode):
            wanting = d.wanting(path, st.st_size, stat.S_IMODE(st.st_mode))
            if not wanting:
                continue
            host = os.path.join(root, path.lstrip("/"))

            def read(n: int, host: str = host, path: str = path) -> bytes:
                try:
                    fd = os.open(host, flags)
                except OSError as err:
                    d.warn(path, f"cannot open: {err.strerror}")
                    return b""
                with os.fdopen(fd, "rb") as f:
                    return f.read(n)

            d.feed(wanting, path, st.st_size, read)
        elif stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(os.path.join(root, path.lstrip("/")))
            except OSError:
                continue
            if resolve_link(path, target) is None and d.wanting(path, 0, 0):
                d.warn(path, f"symlink points outside the root ({target}); not followed")
            d.link(path, stat.S_IMODE(st.st_mode), target)
        elif (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) and d.wanting(path, 0, 0):
            d.warn(path, "device node or FIFO where an analyzer looks; skipped")
    d.finish()
    lf = LayerFacts(ref=LayerRef(index=0, diff_id=""), written=written)
    for name, run in d.runs.items():
        lf.facts[name] = run.facts
        lf.warnings.extend(ScanWarning(message=m, path=p, layer=0) for p, m in run.warnings)
    return lf, d.walk_warnings


def _scan(root: str, d: _Dispatcher) -> Iterator[tuple[str, os.stat_result]]:
    stack = [("", root)]
    while stack:
        rel, host = stack.pop()
        try:
            entries = sorted(os.scandir(host), key=lambda e: e.name)
        except OSError as err:
            d.warn(rel or "/", f"cannot list directory: {err.strerror}")
            continue
        for entry in entries:
            path = f"{rel}/{entry.name}"
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append((path, entry.path))
            else:
                yield path, st
