"""Walk one layer (or a root filesystem) once and hand each analyzer only the files it wants.

Produces `LayerFacts` for the applier. Hostile members are neutralized with a warning naming the
layer and the member, never with an exception: names escaping the root, links to nothing, device
nodes and FIFOs where analyzers look, whiteouts pointing outside, oversized files. Nothing is read
from or written to the host but the image's own bytes.
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
from hullscan.walk.analyzer import Analyzer, LayerFacts

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_WARNINGS_PER_LAYER = 200  # one hostile layer must not drown the report
# No file is read into memory above this, whatever an analyzer's max_size says: a hostile 500 MB
# member must not take the scan past its 250 MB memory budget (issue 2).
MAX_FILE_READ = 128 * 1024 * 1024
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


def normalize(name: str) -> str | None:
    """A member name as an absolute image path, or None when it escapes the root (`..`)."""
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
    """Decides, per member, which analyzers get it, and collects facts and warnings."""

    def __init__(self, analyzers: Sequence[Analyzer], label: str) -> None:
        self.analyzers = list(analyzers)
        self.label = label
        self.runs = {an.name: AnalyzerRun() for an in analyzers}
        self._predicates = [(an, an.wants) for an in self.analyzers]
        self.walk_warnings: list[tuple[str, str]] = []
        self._dropped = 0
        # The analyzers' PathHints, indexed: which analyzers a basename, an extension, a path prefix
        # or an x bit may concern (by position, so `wanting` keeps the analyzers' order).
        self._always = [i for i, an in enumerate(self.analyzers) if an.hints is None]
        self._by_name: dict[str, list[int]] = {}
        self._by_ext: dict[str, list[int]] = {}
        self._prefixed: list[tuple[tuple[str, ...], int]] = []
        self._executable: list[int] = []
        for i, an in enumerate(self.analyzers):
            h = an.hints
            if h is None:
                continue
            for name in h.names:
                self._by_name.setdefault(name, []).append(i)
            for ext in h.extensions:
                self._by_ext.setdefault(ext, []).append(i)
            if h.prefixes:
                self._prefixed.append((h.prefixes, i))
            if h.executable:
                self._executable.append(i)
        self._all_prefixes = tuple(p for prefixes, _ in self._prefixed for p in prefixes)

    def warn(self, path: str, message: str) -> None:
        if len(self.walk_warnings) < MAX_WARNINGS_PER_LAYER:
            self.walk_warnings.append((path, message))
        else:
            self._dropped += 1

    def candidates(self, path: str, mode: int) -> list[int]:
        """Positions of the analyzers whose hints match the file (or that have none), in order."""
        base = path[path.rfind("/") + 1 :]
        found = self._by_name.get(base)
        picked = list(found) if found else []
        dot = base.rfind(".")
        if dot >= 0:
            found = self._by_ext.get(base[dot + 1 :].lower())
            if found:
                picked += found
        if self._all_prefixes and path.startswith(self._all_prefixes):
            picked += [i for prefixes, i in self._prefixed if path.startswith(prefixes)]
        if mode & 0o111 and self._executable:
            picked += self._executable
        if not picked:
            return self._always
        picked += self._always
        return sorted(set(picked))

    def wanting(self, path: str, size: int, mode: int) -> list[Analyzer]:
        # called for every regular file: `wants` is asked only of the analyzers the file's name,
        # extension, place or x bit may concern, in one comprehension over bound methods in the
        # common case; the careful loop only when some predicate raised
        predicates = self._predicates
        chosen = [predicates[i] for i in self.candidates(path, mode)]
        try:
            return [an for an, wants in chosen if wants(path, size, mode)]
        except Exception:
            pass
        out = []
        for an, wants in chosen:
            try:
                if wants(path, size, mode):
                    out.append(an)
            except Exception as err:  # a buggy predicate must not stop the scan
                self.warn(path, f"{an.name}: wants() failed: {err!r}")
        return out

    def feed(self, analyzers: list[Analyzer], path: str, size: int, read: Callable[[int], bytes]) -> None:
        fits = [an for an in analyzers if size <= min(an.max_size, MAX_FILE_READ)]
        for an in analyzers:
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

    def _run(self, fits: list[Analyzer], path: str, read: Callable[[int], bytes]) -> None:
        data = read(max(min(an.max_size, MAX_FILE_READ) for an in fits))
        for an in fits:
            run = self.runs[an.name]
            problems: list[str] = []
            try:
                fact = an.analyze(path, data, problems.append)
            except Exception as err:  # an analyzer bug on hostile content is a warning, not a crash
                problems.append(f"failed: {type(err).__name__}: {err}")
                fact = None
            run.warnings.extend((path, f"{an.name}: {p}") for p in problems[:20])
            if fact is not None:
                run.facts[path] = fact

    def finish(self) -> None:
        if self._dropped:
            self.walk_warnings.append(("", f"{self._dropped} more warnings about this layer not shown"))


def walk_tar_layer(
    layer: Layer, analyzers: Sequence[Analyzer], seen: dict[str, object] | None = None
) -> tuple[LayerFacts, dict[str, AnalyzerRun], list[tuple[str, str]]]:
    """Stream one layer blob; return its facts, per-analyzer runs (for the cache) and walker warnings.
    `seen` receives the blob's digest and size as read."""
    label = layer_label(layer)
    d = _Dispatcher(analyzers, label)
    notes: list[str] = []
    written: set[str] = set()
    sizes: dict[str, int] = {}
    deleted: list[str] = []
    opaque: list[str] = []
    pending_links: list[tuple[str, str, list[Analyzer]]] = []
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
            base = posixpath.basename(path)
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
                wanting = d.wanting(path, m.size, m.mode)
                if wanting:
                    d.feed(wanting, path, m.size, lambda n: reader.read(n))
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
                pending_links.append((path, target, wanting))
            elif m.kind == SYMLINK:
                if resolve_link(path, m.linkname) is None and d.wanting(path, 0, m.mode):
                    d.warn(path, f"symlink points outside the image ({m.linkname}); not followed")
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


def _read_hard_links(layer: Layer, links: list[tuple[str, str, list[Analyzer]]], sizes: dict[str, int], d: _Dispatcher) -> None:
    """Second pass, only when an analyzer wants a hard link: read the targets' bytes."""
    by_target: dict[str, list[tuple[str, list[Analyzer]]]] = {}
    for path, target, wanting in links:
        by_target.setdefault(target, []).append((path, wanting))
    reader = TarReader(stream_layer(layer, verify=False))
    try:
        for m in reader.members():
            if m.kind != REGULAR:
                continue
            member = normalize(m.name)
            if member is not None and member in by_target:
                data = reader.read(max(an.max_size for _, ws in by_target[member] for an in ws))
                for link_path, wanting in by_target.pop(member):
                    d.feed(wanting, link_path, len(data), _prefix_reader(data))
                if not by_target:
                    return
    except TarError:
        return  # the first pass already reported a broken tar


def _prefix_reader(data: bytes) -> Callable[[int], bytes]:
    """`read(n)` for bytes already in memory (a hard link's target)."""
    return lambda n: data[:n]


def walk_rootfs(root: str, analyzers: Sequence[Analyzer]) -> tuple[LayerFacts, list[tuple[str, str]]]:
    """A plain directory as one layer: lstat only, never follow a symlink, open regular files only."""
    d = _Dispatcher(analyzers, root)
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
