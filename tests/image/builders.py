"""Build real container images in code: layer tars, OCI layouts (gzip, zstd, uncompressed layers,
nested and multi-platform indexes), oci-archive tars, docker-archive tars (classic `docker save`
with manifest.json, and the Docker >= 25 form holding an OCI layout), `.tar.gz` of a docker archive.

Layer tars are written with the stdlib `tarfile` (an independent implementation from hullscan's
reader); digests with hashlib. Nothing here imports hullscan, so tests compare hullscan's view of
an image with what was put into it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_MT = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "": "application/vnd.oci.image.layer.v1.tar",
}
REF_NAME = "org.opencontainers.image.ref.name"
MTIME = 1_700_000_000  # fixed: builds are byte-for-byte reproducible


@dataclass(frozen=True)
class E:
    """One tar member. kind: file, dir, symlink, hardlink, fifo, chr, blk."""

    name: str
    data: bytes = b""
    kind: str = "file"
    link: str = ""
    mode: int = 0o644


def f(name: str, data: bytes | str = b"", mode: int = 0o644) -> E:
    return E(name, data.encode() if isinstance(data, str) else data, "file", mode=mode)


def d(name: str) -> E:
    return E(name, kind="dir", mode=0o755)


def sym(name: str, target: str) -> E:
    return E(name, kind="symlink", link=target, mode=0o777)


def hard(name: str, target: str) -> E:
    return E(name, kind="hardlink", link=target)


def wh(path: str) -> E:
    """Whiteout deleting `path` (a file or a directory)."""
    parent, _, base = path.rpartition("/")
    return E(f"{parent}/.wh.{base}" if parent else f".wh.{base}")


def opaque(directory: str) -> E:
    return E(f"{directory.rstrip('/')}/.wh..wh..opq")


_TYPES = {
    "file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
}


def layer_tar(entries: Iterable[E], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """An uncompressed layer tar holding `entries` in order (names kept verbatim, even hostile ones)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for e in entries:
            ti = tarfile.TarInfo(e.name)
            ti.type = _TYPES[e.kind]
            ti.mode = e.mode
            ti.mtime = MTIME
            ti.linkname = e.link
            if e.kind == "file":
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            else:
                tar.addfile(ti)
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layer:
    """A layer ready to put in an image: the tar, its compression and blob."""

    tar: bytes
    compression: str = "gzip"
    created_by: str = ""

    @property
    def blob(self) -> bytes:
        return compress(self.tar, self.compression)

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)


def layer(entries: Iterable[E], compression: str = "gzip", created_by: str = "") -> Layer:
    return Layer(layer_tar(entries), compression, created_by)


def config_doc(
    layers: Sequence[Layer],
    *,
    arch: str = "amd64",
    os_: str = "linux",
    variant: str = "",
    config: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "created": "2024-01-02T03:04:05Z",
        "architecture": arch,
        "os": os_,
        "config": config if config is not None else {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [lay.diff_id for lay in layers]},
        "history": history
        if history is not None
        else [{"created": "2024-01-02T03:04:05Z", "created_by": lay.created_by or f"layer {i}"} for i, lay in enumerate(layers)],
    }
    if variant:
        doc["variant"] = variant
    return doc


def _json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class OCILayout:
    """An OCI image layout being written under `root` (blobs are written as they are added)."""

    root: Path
    manifests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = sha256(data)
        (self.root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(
        self,
        layers: Sequence[Layer],
        *,
        config: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None,
        **config_kw: Any,
    ) -> dict[str, Any]:
        """Write config, layers and manifest; returns the manifest descriptor (not yet indexed)."""
        cfg = config if config is not None else config_doc(layers, **config_kw)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(_json(cfg), OCI_CONFIG),
            "layers": [self.blob(lay.blob, LAYER_MT[lay.compression]) for lay in layers],
        }
        if annotations:
            manifest["annotations"] = annotations
        return self.blob(_json(manifest), OCI_MANIFEST)

    def index(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """A nested image index blob over these descriptors; returns its descriptor."""
        return self.blob(_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), OCI_INDEX)

    def add(self, desc: dict[str, Any], tag: str = "", platform: dict[str, str] | None = None) -> None:
        entry = dict(desc)
        if tag:
            entry["annotations"] = {REF_NAME: tag}
        if platform:
            entry["platform"] = platform
        self.manifests.append(entry)

    def save(self) -> Path:
        (self.root / "index.json").write_bytes(
            _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.manifests})
        )
        return self.root


def oci_image(root: Path, layers: Sequence[Layer], tag: str = "latest", **kw: Any) -> Path:
    """A one-image OCI layout."""
    lay = OCILayout(root)
    lay.add(lay.image(layers, **kw), tag=tag)
    return lay.save()


def tar_dir(src: Path, out: Path, extra: dict[str, bytes] | None = None, gz: bool = False) -> Path:
    """Tar a directory's content (names relative, sorted) into `out`, plus extra in-memory members."""
    opener = gzip.open(out, "wb", compresslevel=1) if gz else open(out, "wb")
    with opener as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(Path(src).rglob("*")):
            tar.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)
        for name, data in (extra or {}).items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), MTIME
            tar.addfile(ti, io.BytesIO(data))
    return out


def oci_archive(layout: Path, out: Path) -> Path:
    return tar_dir(layout, out)


def docker_archive(
    out: Path,
    layers: Sequence[Layer],
    *,
    tags: Sequence[str] = ("test/image:1",),
    config: dict[str, Any] | None = None,
    gz: bool = False,
    **config_kw: Any,
) -> Path:
    """Classic `docker save`: manifest.json, <config>.json, <id>/layer.tar (uncompressed or gzip blobs)."""
    cfg = _json(config if config is not None else config_doc(layers, **config_kw))
    members: dict[str, bytes] = {}
    names = []
    for lay in layers:
        ident = lay.diff_id.split(":")[1]
        members[f"{ident}/VERSION"] = b"1.0"
        members[f"{ident}/layer.tar"] = lay.blob
        names.append(f"{ident}/layer.tar")
    cfg_name = sha256(cfg).split(":")[1] + ".json"
    members[cfg_name] = cfg
    members["manifest.json"] = _json([{"Config": cfg_name, "RepoTags": list(tags), "Layers": names}])
    return write_tar(out, members, gz=gz)


def docker25_archive(out: Path, layers: Sequence[Layer], *, tag: str = "test/image:1", gz: bool = False, **kw: Any) -> Path:
    """Docker >= 25 `docker save`: an OCI layout (blobs/, index.json, oci-layout) plus manifest.json
    whose Config/Layers point at the OCI blobs."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        lay = OCILayout(Path(tmp))
        desc = lay.image(layers, **kw)
        lay.add(desc, tag=tag)
        lay.save()
        manifest = json.loads((lay.root / "blobs/sha256" / desc["digest"].split(":")[1]).read_bytes())
        legacy = [{
            "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
            "RepoTags": [tag],
            "Layers": ["blobs/sha256/" + x["digest"].split(":")[1] for x in manifest["layers"]],
        }]
        return tar_dir(lay.root, out, extra={"manifest.json": _json(legacy)}, gz=gz)


def write_tar(out: Path, members: dict[str, bytes], gz: bool = False) -> Path:
    """A tar (optionally gzip'd) of in-memory members, in the given order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), MTIME
            tar.addfile(ti, io.BytesIO(data))
    data = buf.getvalue()
    Path(out).write_bytes(gzip.compress(data, compresslevel=1, mtime=0) if gz else data)
    return Path(out)


def cache_dir() -> Path:
    d = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def tar_header(name: str, size: int = 0, kind: str = "file", link: str = "", mode: int = 0o644) -> bytes:
    """One 512-byte (or longer, for long names) tar header, as tarfile writes it."""
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.linkname, ti.mode, ti.mtime = _TYPES[kind], size if kind == "file" else 0, link, mode, MTIME
    return ti.tobuf(format=tarfile.GNU_FORMAT)


class RepeatLayer:
    """A layer blob written as gzip members, each compressing one chunk once and repeated: a few GB of
    tar content (a decompression bomb, a 500 MB file) costs megabytes and seconds to build. Multi-member
    gzip is valid gzip (RFC 1952). `diff_id` is the sha256 of the uncompressed tar."""

    def __init__(self) -> None:
        self.parts: list[tuple[bytes, int]] = []
        self._size = 0

    def add(self, data: bytes, repeat: int = 1) -> RepeatLayer:
        if data and repeat:
            self.parts.append((data, repeat))
            self._size += len(data) * repeat
        return self

    def file(self, name: str, chunk: bytes, repeat: int = 1) -> RepeatLayer:
        size = len(chunk) * repeat
        self.add(tar_header(name, size))
        self.add(chunk, repeat)
        return self.add(b"\0" * (-size % 512))

    def small(self, entries: Iterable[E]) -> RepeatLayer:
        """Ordinary members (any kind), written with tarfile's header code."""
        for e in entries:
            if e.kind == "file":
                self.add(tar_header(e.name, len(e.data), mode=e.mode) + e.data + b"\0" * (-len(e.data) % 512))
            else:
                self.add(tar_header(e.name, 0, e.kind, e.link, e.mode))
        return self

    def end(self) -> RepeatLayer:
        return self.add(b"\0" * 1024)

    def write(self, out: Path) -> tuple[str, str, int]:
        """Write the gzip blob; returns (blob digest, diff_id, blob size)."""
        diff = hashlib.sha256()
        blob = hashlib.sha256()
        size = 0
        with open(out, "wb") as fh:
            for data, repeat in self.parts:
                member = gzip.compress(data, compresslevel=6, mtime=0)
                for _ in range(repeat):
                    fh.write(member)
                    blob.update(member)
                    diff.update(data)
                    size += len(member)
        return "sha256:" + blob.hexdigest(), "sha256:" + diff.hexdigest(), size


def oci_from_files(root: Path, blobs: Sequence[tuple[Path, str, str, int]], tag: str = "latest") -> Path:
    """An OCI layout whose gzip layers are already-written blob files (path, digest, diff_id, size)."""
    import shutil

    lay = OCILayout(root)
    for path, digest, _, _ in blobs:
        target = lay.root / "blobs" / "sha256" / digest.split(":")[1]
        if not target.exists():
            shutil.move(str(path), target)
    cfg = {
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [b[2] for b in blobs]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(blobs))],
    }
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": lay.blob(_json(cfg), OCI_CONFIG),
        "layers": [{"mediaType": LAYER_MT["gzip"], "digest": b[1], "size": b[3]} for b in blobs],
    }
    lay.add(lay.blob(_json(manifest), OCI_MANIFEST), tag=tag)
    return lay.save()
