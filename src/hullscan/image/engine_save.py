"""One forward pass over an engine's save stream (`/images/{name}/get`, the tar `docker save` writes),
never on disk and never whole in memory, then the check that it is the image the engine described.

The stream's order is the engine's: dockerd 20.10 tars a directory it exported, in name order, so each
`<v1-id>/layer.tar` comes by its v1 ID (not in layer order), the config `<id>.json` somewhere among
them, and `manifest.json` after every layer; a layer that occurs twice is a symlink to the first copy.
Docker >= 25 names layers `blobs/sha256/<diff_id>`, Podman `<diff_id>.tar`. So layers are handed out
as they pass (`SaveStream.layers()`: the caller hashes and analyzes each), small documents are kept,
and `finish()` checks at the end, against the engine's own description (ImageInspect), that the config
is the image ID's, that its diff_ids are the engine's, and that manifest.json's layers, in order, are
the layers that passed with those digests. Any disagreement refuses the image (InputError, exit 2).
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hullscan.digests import bulk_hash
from hullscan.errors import InputError
from hullscan.image.engine import ImageInspect
from hullscan.image.manifest import load_json, parse_config
from hullscan.image.tarstream import REGULAR, SYMLINK, TarError, TarReader
from hullscan.model.image import ImageConfig

CHUNK = 1 << 20
MAX_DOCUMENT = 16 * 1024 * 1024
"""A member at most this big that is no layer is kept as a document (manifest, config, v1 json)."""
MAX_DOCUMENTS = 64 * 1024 * 1024
"""All kept documents together: a stream of thousands of small members must not fill memory."""
_BLOB = re.compile(r"^blobs/sha256/([0-9a-f]{64})$")
_PODMAN = re.compile(r"^([0-9a-f]{64})\.tar$")


class _MemberFile(io.RawIOBase):
    """The current member's data, read straight from the stream (a layer's `opener()`)."""

    def __init__(self, reader: TarReader) -> None:
        self._reader = reader

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._reader.read(CHUNK if n is None or n < 0 else n)

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


@dataclass
class SavedLayer:
    """A layer tar passing in the stream. Read it once: `open()` (to analyze) or `hash()` (to check)."""

    name: str
    size: int
    claimed: str
    """The diff_id its name gives (`blobs/sha256/<hex>`, `<hex>.tar`), "" when the name says nothing."""
    _reader: TarReader = field(repr=False)
    _used: bool = field(default=False, repr=False)

    @property
    def used(self) -> bool:
        """Whether its data has been (or is being) read: the stream cannot give it again."""
        return self._used

    def open(self) -> io.BufferedReader:
        if self._used:
            raise OSError(f"{self.name}: the stream has moved past it")
        self._used = True
        return io.BufferedReader(_MemberFile(self._reader), buffer_size=CHUNK)

    def hash(self) -> str:
        """sha256 of the member's data (for a layer tar: its diff_id)."""
        h = bulk_hash("sha256")
        with self.open() as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
        return f"sha256:{h.hexdigest()}"


@dataclass(frozen=True)
class SavedImage:
    """What `finish` verified: the config and, per layer in image order, the member holding it."""

    config: ImageConfig
    config_digest: str
    layers: tuple[tuple[str, int], ...]
    """(member name, size in bytes) of each layer, bottom first."""


class SaveStream:
    """A save stream read once, forward (module docstring)."""

    def __init__(self, chunks: Iterator[bytes], expected: ImageInspect, label: str) -> None:
        self.expected = expected
        self.label = label
        self._reader = TarReader(chunks)
        self._diff_ids = set(expected.diff_ids)
        self.documents: dict[str, bytes] = {}
        self.links: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self._kept = 0

    def layers(self) -> Iterator[SavedLayer]:
        """Every member that may be a layer, as it passes; documents and links are kept meanwhile. The
        caller must read or hash each layer before asking for the next (else it is skipped unread)."""
        try:
            for m in self._reader.members():
                name = member_name(m.name)
                if m.kind == SYMLINK:
                    self.links[name] = member_name(posixpath.join(posixpath.dirname(name), m.linkname))
                    continue
                if m.kind != REGULAR:
                    continue
                self.sizes[name] = m.size
                claimed = _claimed(name, self._diff_ids)
                if claimed or name.endswith(("/layer.tar", ".tar")) or m.size > MAX_DOCUMENT:
                    yield SavedLayer(name, m.size, claimed, self._reader)
                    continue
                self._kept += m.size
                if self._kept > MAX_DOCUMENTS:
                    raise InputError(f"{self.label}: save stream holds more than {MAX_DOCUMENTS} bytes of documents")
                self.documents[name] = self._reader.read()
            self._reader.drain()
        except TarError as err:
            raise InputError(f"{self.label}: save stream: {err}") from None

    def finish(self, hashed: dict[str, str]) -> SavedImage:
        """Check the stream against the engine's description, given each layer member's sha256 as it
        was read (`hashed`: member name → digest)."""
        exp = self.expected
        entry = self._entry()
        config_name = self._resolve(entry.get("Config"), "Config")
        config_data = self.documents.get(config_name)
        if config_data is None:
            raise InputError(f"{self.label}: save stream lacks the config {config_name}")
        h = bulk_hash("sha256")
        h.update(config_data)
        config_digest = f"sha256:{h.hexdigest()}"
        if config_digest != exp.id:
            raise InputError(f"{self.label}: the save stream's config is {config_digest[:19]}…, the engine says the image "
                             f"is {exp.id[:19]}…; image refused")
        config = parse_config(config_data, f"{self.label}: {config_name}")
        if config.diff_ids != exp.diff_ids:
            raise InputError(f"{self.label}: the config's diff_ids are not the engine's RootFS.Layers; image refused")
        names = entry.get("Layers")
        if not isinstance(names, list) or len(names) != len(exp.diff_ids):
            count = len(names) if isinstance(names, list) else "no"
            raise InputError(f"{self.label}: manifest.json lists {count} layers, the config {len(exp.diff_ids)}; image refused")
        layers = []
        for i, (raw, diff_id) in enumerate(zip(names, exp.diff_ids, strict=True)):
            name = self._resolve(raw, f"Layers[{i}]")
            digest = hashed.get(name)
            if digest is None:
                raise InputError(f"{self.label}: layer {i} ({name}) did not pass in the save stream; image refused")
            if digest != diff_id:
                raise InputError(f"{self.label}: layer {i} ({name}) is {digest[:19]}…, the config says {diff_id[:19]}…: "
                                 "the save stream disagrees with its manifest; image refused")
            layers.append((name, self.sizes[name]))
        return SavedImage(config, config_digest, tuple(layers))

    def _entry(self) -> dict[str, Any]:
        data = self.documents.get("manifest.json")
        if data is None:
            raise InputError(f"{self.label}: save stream lacks manifest.json")
        doc = load_json(data, f"{self.label}: manifest.json")
        if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
            raise InputError(f"{self.label}: manifest.json is not a list of images")
        if len(doc) == 1:
            return doc[0]
        wanted = self.expected.id.split(":", 1)[1]
        for e in doc:
            if isinstance(e.get("Config"), str) and wanted in e["Config"]:
                return e
        raise InputError(f"{self.label}: manifest.json names {len(doc)} images, none with config {self.expected.id[:19]}…")

    def _resolve(self, raw: Any, what: str) -> str:
        """A manifest path as the member that holds its bytes (following the stream's symlinks)."""
        if not isinstance(raw, str) or not raw:
            raise InputError(f"{self.label}: manifest.json {what} is not a path")
        name = member_name(raw)
        for _ in range(8):
            if name not in self.links:
                return name
            name = self.links[name]
        raise InputError(f"{self.label}: manifest.json {what}: too many symlinks")


def member_name(name: str) -> str:
    """A member name as manifest.json spells paths (no leading `./` or `/`)."""
    return posixpath.normpath(name.lstrip("./") or ".").lstrip("/")


def _claimed(name: str, diff_ids: set[str]) -> str:
    m = _BLOB.match(name) or _PODMAN.match(name)
    if m and f"sha256:{m.group(1)}" in diff_ids:
        return f"sha256:{m.group(1)}"
    return ""
