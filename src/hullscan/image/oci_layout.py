"""OCI image layouts: a directory (`oci:`/`oci-dir:`) or the same inside a tar (`oci-archive:`,
and Docker ≥ 25 `docker save` output, which carries an OCI layout beside its manifest.json)."""

from __future__ import annotations

import os
from collections.abc import Callable

from hullscan.digests import hexdigest
from hullscan.errors import InputError
from hullscan.image.archive import ImageArchive
from hullscan.image.manifest import (
    check_digest,
    check_index,
    check_manifest,
    layer_created_by,
    load_json,
    parse_config,
    select_manifest,
)
from hullscan.image.model import INDEX_TYPES, Image, Layer, Platform

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import IO, Any

MAX_INDEX_DEPTH = 4


class _Store:
    """Blob access for a layout: `blob(digest)` bytes and `opener(digest)` streams."""

    def __init__(
        self,
        label: str,
        read: Callable[[str], bytes],
        open_: Callable[[str], IO[bytes]],
        size: Callable[[str], int],
        location: Callable[[str], tuple[str, int] | None],
    ) -> None:
        self.label = label
        self._read, self._open, self._size, self._location = read, open_, size, location

    @staticmethod
    def rel(digest: str) -> str:
        algo, _, hexpart = digest.partition(":")
        return f"blobs/{algo}/{hexpart}"

    def document(self, digest: str, what: str) -> Any:
        check_digest(digest, f"{self.label}: {what}")
        data = self._read(self.rel(digest))
        algo, _, hexpart = digest.partition(":")
        if hexdigest(algo, data) != hexpart:
            raise InputError(f"{self.label}: {what} {digest[:19]}… does not match its digest")
        return data

    def size(self, digest: str) -> int:
        return self._size(self.rel(digest))

    def opener(self, digest: str) -> Callable[[], IO[bytes]]:
        return lambda: self._open(self.rel(digest))

    def location(self, digest: str) -> tuple[str, int] | None:
        return self._location(self.rel(digest))


def dir_store(root: str) -> _Store:
    # os.path, not pathlib: pathlib's import (urllib.parse, ipaddress) is ~5% of a warm scan
    base = os.path.realpath(root) + os.sep

    def resolve(rel: str) -> str:
        p = os.path.join(root, rel)
        # blobs must be inside the layout: refuse symlinks that lead elsewhere
        if not os.path.realpath(p).startswith(base):
            raise InputError(f"{root}: {rel} points outside the layout")
        if os.path.exists(p) and not os.path.isfile(p):  # a FIFO would block the scan forever on open()
            raise InputError(f"{root}: {rel} is not a regular file")
        return p

    def read(rel: str) -> bytes:
        p = resolve(rel)
        try:
            if os.stat(p).st_size > 16 * 1024 * 1024:
                raise InputError(f"{root}: {rel} is too large for an image document")
            with open(p, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise InputError(f"{root}: missing {rel}") from None
        except OSError as err:
            raise InputError(f"{root}: cannot read {rel} ({err.strerror})") from None

    def open_(rel: str) -> IO[bytes]:
        try:
            return open(resolve(rel), "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise InputError(f"{root}: missing {rel}") from None

    def size(rel: str) -> int:
        try:
            return os.stat(resolve(rel)).st_size
        except OSError:
            return -1

    def location(rel: str) -> tuple[str, int] | None:
        try:
            return (os.path.realpath(resolve(rel)), 0)
        except (InputError, OSError):
            return None

    return _Store(root, read, open_, size, location)


def archive_store(archive: ImageArchive) -> _Store:
    return _Store(archive.path, archive.read, archive.open, archive.size, archive.location)


def open_layout(
    store: _Store,
    index_data: bytes,
    *,
    input_ref: str,
    source_type: str,
    tag: str = "",
    digest: str = "",
    platform: Platform | None = None,
) -> Image:
    entries = check_index(load_json(index_data, f"{store.label}: index.json"), f"{store.label}: index.json")
    entry = select_manifest(entries, f"{store.label}", tag=tag, digest=digest, platform=platform)
    name = (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name", "") or tag
    entry = _descend(store, entry, platform, depth=0)
    manifest_digest = entry["digest"]
    manifest = check_manifest(load_json(store.document(manifest_digest, "manifest"), f"{store.label}: manifest"),
                              f"{store.label}: manifest {manifest_digest[:19]}")
    config_digest = manifest["config"]["digest"]
    config = parse_config(store.document(config_digest, "config"), f"{store.label}: config {config_digest[:19]}")
    if platform is not None:
        platform.check_config(config, store.label)
    return build_image(
        store, manifest, config, config_digest, manifest_digest,
        input_ref=input_ref, source_type=source_type, name=name or store.label,
    )


def _descend(store: _Store, entry: dict[str, Any], platform: Platform | None, depth: int) -> dict[str, Any]:
    """Follow nested indexes down to one image manifest (platform: asked, else the host's)."""
    while entry.get("mediaType") in INDEX_TYPES:
        depth += 1
        if depth > MAX_INDEX_DEPTH:
            raise InputError(f"{store.label}: indexes nested more than {MAX_INDEX_DEPTH} deep")
        what = f"{store.label}: index {entry['digest'][:19]}"
        entries = check_index(load_json(store.document(entry["digest"], "index"), what), what)
        real = [e for e in entries if (e.get("platform") or {}).get("os") != "unknown"]  # drop attestations
        entry = select_manifest(real or entries, f"{store.label}", platform=platform or _host_platform(real or entries))
    return entry


def _host_platform(entries: list[dict[str, Any]]) -> Platform | None:
    """Default for a multi-platform index: linux on this machine's architecture, when listed."""
    if len(entries) <= 1:
        return None
    import platform as _pf

    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}.get(
        _pf.machine(), _pf.machine()
    )
    return Platform("linux", arch)


def build_image(
    store: _Store,
    manifest: dict[str, Any],
    config: Any,
    config_digest: str,
    manifest_digest: str,
    *,
    input_ref: str,
    source_type: str,
    name: str,
) -> Image:
    """Manifest + config → Image with one Layer per manifest layer (diff_ids paired by position)."""
    descs = manifest["layers"]
    if len(descs) != len(config.diff_ids):
        raise InputError(
            f"{store.label}: manifest lists {len(descs)} layers but the config has {len(config.diff_ids)} diff_ids"
        )
    created = layer_created_by(config)
    layers = []
    for i, (desc, diff_id) in enumerate(zip(descs, config.diff_ids, strict=True)):
        size = desc.get("size", -1)
        layers.append(
            Layer(
                index=i,
                digest=desc["digest"],
                size=size if isinstance(size, int) else -1,
                media_type=desc.get("mediaType", ""),
                diff_id=diff_id,
                opener=store.opener(desc["digest"]),
                location=store.location(desc["digest"]),
                created_by=created[i] if i < len(created) else "",
                annotations=desc.get("annotations") or {},
            )
        )
    return Image(
        input=input_ref,
        source_type=source_type,
        name=name,
        config=config,
        layers=layers,
        manifest_digest=manifest_digest,
        config_digest=config_digest,
        manifest_annotations=manifest.get("annotations") or {},
    )


def open_oci_dir(path: str, *, input_ref: str, tag: str = "", digest: str = "", platform: Platform | None = None) -> Image:
    if not os.path.isfile(os.path.join(path, "index.json")):
        raise InputError(f"{path}: not an OCI layout (no index.json)")
    store = dir_store(path)
    return open_layout(store, store._read("index.json"), input_ref=input_ref, source_type="oci", tag=tag, digest=digest, platform=platform)


def open_oci_archive(path: str, *, input_ref: str, tag: str = "", digest: str = "", platform: Platform | None = None) -> Image:
    archive = ImageArchive(path)
    try:
        if not archive.exists("index.json"):
            raise InputError(f"{path}: not an OCI archive (no index.json)")
        image = open_layout(
            archive_store(archive), archive.read("index.json"),
            input_ref=input_ref, source_type="oci-archive", tag=tag, digest=digest, platform=platform,
        )
    except BaseException:
        archive.close()
        raise
    image.closers.append(archive.close)
    return image
