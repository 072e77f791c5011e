"""A running container of a Docker / Podman engine as hullscan reads it (docs/engines.md "Running
containers"): what the engine says of it, and its runtime changes as one more layer on top of its image.

The runtime layer is never an export of the whole filesystem: the engine's changes list
(`/containers/{id}/changes`: A added, C changed, D deleted) names the paths, and only those are read,
one `/containers/{id}/archive?path=…` each, as they are walked. The layer is a tar made on the fly —
each path under its full name, a deleted path as a whiteout (`.wh.NAME`), a symlink as the link itself
(its target is never resolved on the host: the walker resolves links inside the image only) — so every
analyzer sees the live filesystem exactly as it sees an image layer. Directories are not read (their
new or changed files are listed one by one); a file no analyzer would read (`wants` says so: by path,
size and mode, the analyzers' own limits) keeps its name and size but its body is not read from the
engine (zeros stand in for it, and the walker skips them).
Memory is bounded by construction: a file's bytes pass in CHUNK pieces from the engine to the walker.

A container that is not running, or stops while its changes are read, is an unreadable input (exit 2):
its filesystem is no longer the one that ran. An engine that goes away is exit 3 (EngineDown).
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import tarfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from hullscan.errors import InputError
from hullscan.image.engine import EngineClient
from hullscan.image.tarstream import DIRECTORY, REGULAR, SYMLINK, TarError, TarReader

CHUNK = 1 << 20
PREFETCH = 4
"""Archives asked for ahead of the one being read."""
MAX_CHANGES = 200_000
"""Changed paths read at most: a container that wrote millions of files is read in part, with a warning."""
KINDS = {0: "C", 1: "A", 2: "D"}
"""The changes list's Kind numbers as `docker diff` prints them."""
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
BLOCK = 512

Wants = Callable[[str, int, int], bool]
"""Whether some analyzer reads a regular file at this path (absolute), of this size and mode."""


@dataclass(frozen=True, slots=True)
class ContainerInspect:
    """`/containers/{id}/json`: what identifies a container and what it runs."""

    id: str
    name: str
    """Without the leading `/` the engine puts on it."""
    image_id: str
    """The image it runs, by ID (sha256:…): what is scanned, whatever its tag points at now."""
    image: str
    """The image as the container was created from it (`Config.Image`: a name or an ID)."""
    running: bool
    status: str
    started_at: str
    created: str
    labels: tuple[tuple[str, str], ...] = ()


def parse_container(doc: Any, what: str) -> ContainerInspect:
    """A container inspect document → ContainerInspect; what a scan needs missing is an InputError."""
    if not isinstance(doc, dict):
        raise InputError(f"{what}: the engine's container description is not a JSON object")
    cid, image_id = doc.get("Id"), doc.get("Image")
    if not isinstance(cid, str) or not cid:
        raise InputError(f"{what}: the engine gives no container ID")
    if not isinstance(image_id, str) or not image_id:
        raise InputError(f"{what}: the engine gives no image ID for the container")
    if not image_id.startswith("sha256:") and len(image_id) == 64:
        image_id = f"sha256:{image_id}"  # podman spells it bare
    state = _object(doc.get("State"))
    config = _object(doc.get("Config"))
    labels = _object(config.get("Labels"))
    return ContainerInspect(
        id=cid, name=_text(doc.get("Name")).lstrip("/"), image_id=image_id, image=_text(config.get("Image")),
        running=state.get("Running") is True, status=_text(state.get("Status")), started_at=_text(state.get("StartedAt")),
        created=_text(doc.get("Created")),
        labels=tuple(sorted((str(k), v) for k, v in labels.items() if isinstance(v, str))))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def inspect_running(client: EngineClient, name: str) -> ContainerInspect:
    """The container NAME (name, short or long ID), which must be running: InputError (exit 2) else."""
    doc = client.inspect_container(name)
    if doc is None:
        raise InputError(f"{name}: no such container in the {client.label}")
    found = parse_container(doc, f"{client.label}: container {name}")
    if not found.running:
        raise InputError(f"container {found.name or name} is not running ({found.status or 'stopped'}); "
                         "hullscan container scans running containers")
    return found


def still_running(client: EngineClient, container: ContainerInspect) -> None:
    """After its changes were read: the same container still runs, else InputError (module docstring)."""
    doc = client.inspect_container(container.id)
    now = parse_container(doc, client.label) if doc is not None else None
    if now is None or not now.running or now.started_at != container.started_at:
        how = "was removed" if now is None else ("restarted" if now.running else f"exited ({now.status or 'stopped'})")
        raise InputError(f"container {container.name or container.id[:12]} {how} during the scan; "
                         "its runtime changes are not the running filesystem (scan it again)")


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    """Absolute, normalized."""
    kind: str
    """A (added), C (changed) or D (deleted)."""


def parse_changes(doc: Any, what: str) -> tuple[list[Change], list[str]]:
    """The changes list → changes sorted by path, and warnings (a malformed entry is skipped and counted;
    a list past MAX_CHANGES is cut)."""
    if doc is None:
        return [], []  # dockerd answers null for a container that changed nothing
    if not isinstance(doc, list):
        raise InputError(f"{what}: the engine's changes list is not a list")
    out: dict[str, Change] = {}
    bad = 0
    for entry in doc:
        path = entry.get("Path") if isinstance(entry, dict) else None
        kind = KINDS.get(_int(entry.get("Kind"), -1)) if isinstance(entry, dict) else None
        norm = posixpath.normpath(path) if isinstance(path, str) and path.startswith("/") and "\0" not in path else None
        if kind is None or norm is None or norm in ("/", "//") or len(norm) > 4096:
            bad += 1
            continue
        out[norm] = Change(norm, kind)
    warnings = [f"{what}: {bad} malformed entr{'y' if bad == 1 else 'ies'} of the changes list skipped"] if bad else []
    changes = sorted(out.values(), key=lambda c: c.path)
    if len(changes) > MAX_CHANGES:
        warnings.append(f"{what}: {len(changes)} changed paths; only the first {MAX_CHANGES} are read")
        changes = changes[:MAX_CHANGES]
    return changes, warnings


@dataclass
class RuntimeStats:
    """What reading the runtime layer did (for the report's warnings and the tests)."""

    read: int = 0
    """Files and links whose archive was read."""
    skipped: int = 0
    """Files no analyzer reads: written empty, their body not read."""
    deleted: int = 0
    bytes: int = 0
    """File bytes that passed from the engine."""
    vanished: list[str] = field(default_factory=list)
    """Paths gone between the changes list and their archive."""


class RuntimeLayer:
    """The runtime changes of one container as a tar stream (module docstring). Read it once."""

    def __init__(self, client: EngineClient, container: ContainerInspect, changes: list[Change], wants: Wants) -> None:
        self.client = client
        self.container = container
        self.changes = changes
        self.wants = wants
        self.stats = RuntimeStats()

    def open(self) -> io.BufferedReader:
        """The tar, as a layer's `opener()` gives its blob."""
        return io.BufferedReader(_ChunkFile(self.chunks()), buffer_size=CHUNK)

    def chunks(self) -> Iterator[bytes]:
        # a path that is another changed path's parent is a directory: nothing of it to read
        parents = {posixpath.dirname(c.path) for c in self.changes}
        wanted = [c for c in self.changes if c.kind != "D" and c.path not in parents]
        with ThreadPoolExecutor(PREFETCH) as pool:
            # each archive costs the engine a round trip of tens of milliseconds before its first byte:
            # the next few are asked for while one is read (their bodies wait, unread, in the sockets)
            ahead: deque[tuple[Change, Future[tuple[ExitStack, Iterator[bytes], dict[str, str]] | None]]] = deque()
            todo = iter(wanted)
            try:
                for change in self.changes:
                    name = change.path.lstrip("/")
                    if change.kind == "D":
                        self.stats.deleted += 1
                        parent, base = posixpath.split(name)
                        yield _header(tarfile.TarInfo(posixpath.join(parent, ".wh." + base)))
                        continue
                    if change.path in parents:
                        continue
                    while len(ahead) < PREFETCH and (nxt := next(todo, None)) is not None:
                        ahead.append((nxt, pool.submit(self._open, nxt.path)))
                    _change, future = ahead.popleft()
                    yield from self._path(change.path, name, future.result())
            finally:  # left early (an error, the reader gone): close what was opened ahead
                for _change, future in ahead:
                    if future.cancel():
                        continue
                    try:
                        opened = future.result()
                    except Exception:  # noqa: BLE001, S112 - its own error does not matter any more
                        continue
                    if opened is not None:
                        opened[0].close()
        yield b"\0" * (2 * BLOCK)

    def _open(self, path: str) -> tuple[ExitStack, Iterator[bytes], dict[str, str]] | None:
        """The archive of one path, its headers read and its body not yet; None when it is gone (404)."""
        headers: dict[str, str] = {}
        stack = ExitStack()
        try:
            chunks = stack.enter_context(self.client.container_archive(self.container.id, path, headers))
        except InputError:
            return None
        return stack, chunks, headers

    def _path(self, path: str, name: str, opened: tuple[ExitStack, Iterator[bytes], dict[str, str]] | None) -> Iterator[bytes]:
        """One added or changed path: nothing for a directory, else its member under its full name."""
        if opened is None:  # 404: the path, or the container, is gone
            still_running(self.client, self.container)
            self.stats.vanished.append(path)
            return
        stack, chunks, headers = opened
        with stack:
            stat = _stat(headers.get("x-docker-container-path-stat", ""))
            mode = _int(stat.get("mode"), 0)
            if mode & _GO_DIR:
                return  # its files are changes of their own; the body (all of it) is left unread
            size = _int(stat.get("size"), -1)
            if not mode & _GO_SYMLINK and 0 <= size and not self.wants(path, size, mode & 0o7777):
                # its size and presence (it may shadow an image file) matter, its bytes to no analyzer:
                # zeros stand in for them (the walker skips them unread), the engine's body is left unread
                self.stats.skipped += 1
                info = tarfile.TarInfo(name)
                info.mode, info.size = mode & 0o7777, size
                yield _header(info)
                yield from _zeros(size + (-size % BLOCK))
                return
            yield from self._member(TarReader(chunks), path, name)

    def _member(self, reader: TarReader, path: str, name: str) -> Iterator[bytes]:
        try:
            for m in reader.members():
                if m.kind == DIRECTORY:
                    return
                info = tarfile.TarInfo(name)
                info.mode = m.mode & 0o7777
                if m.kind == SYMLINK:
                    info.type, info.linkname = tarfile.SYMTYPE, m.linkname
                    self.stats.read += 1
                    yield _header(info)
                elif m.kind == REGULAR:
                    info.size = m.size
                    self.stats.read += 1
                    yield _header(info)
                    left = m.size
                    while left > 0:
                        data = reader.read(min(CHUNK, left))
                        if not data:
                            raise TarError("member cut short")
                        left -= len(data)
                        self.stats.bytes += len(data)
                        yield data
                    if m.size % BLOCK:
                        yield b"\0" * (BLOCK - m.size % BLOCK)
                return  # the path itself is the first member: nothing else is read
        except TarError as err:
            raise InputError(f"{self.client.label}: container {self.container.name}: {path}: archive: {err}") from None


_ZEROS = bytes(CHUNK)


def _zeros(n: int) -> Iterator[bytes]:
    while n > 0:
        yield _ZEROS if n >= CHUNK else _ZEROS[:n]
        n -= CHUNK


def _header(info: tarfile.TarInfo) -> bytes:
    info.mtime = 0
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _stat(value: str) -> dict[str, Any]:
    """X-Docker-Container-Path-Stat: base64 of {name, size, mode, mtime, linkTarget}; {} when unreadable."""
    try:
        doc = json.loads(base64.b64decode(value, validate=False) or b"{}")
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


class _ChunkFile(io.RawIOBase):
    """A file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while self._pos >= len(self._buf):
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf, self._pos = nxt, 0
        n = min(len(buf), len(self._buf) - self._pos)
        buf[:n] = memoryview(self._buf)[self._pos:self._pos + n]
        self._pos += n
        return n
