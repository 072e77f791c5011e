"""`docker save` tarballs: manifest.json + config + layer tars (plain or gzip), or a `.tar.gz` of one.

Docker ≥ 25 writes an OCI layout into the same tar; such a tar is read as that layout (DESIGN.md).
"""

from __future__ import annotations

from hullscan.digests import hexdigest
from hullscan.errors import InputError
from hullscan.image.archive import ImageArchive
from hullscan.image.manifest import layer_created_by, load_json, parse_config
from hullscan.image.model import Image, Layer, Platform
from hullscan.image.oci_layout import archive_store, open_layout

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


def open_docker_archive(path: str, *, input_ref: str, tag: str = "", platform: Platform | None = None) -> Image:
    archive = ImageArchive(path)
    try:
        image = _open(archive, input_ref, tag, platform)
    except BaseException:
        archive.close()
        raise
    image.closers.append(archive.close)
    return image


def _open(archive: ImageArchive, input_ref: str, tag: str, platform: Platform | None) -> Image:
    path = archive.path
    if archive.exists("index.json") and archive.exists("oci-layout"):
        image = open_layout(
            archive_store(archive), archive.read("index.json"),
            input_ref=input_ref, source_type="docker-archive", tag=tag, platform=platform,
        )
        if archive.exists("manifest.json"):
            entries = _entries(archive)
            image.repo_tags = tuple(t for e in entries for t in e.get("RepoTags") or [] if isinstance(t, str))
        return image
    if not archive.exists("manifest.json"):
        raise InputError(f"{path}: not a docker-archive (no manifest.json)")
    entries = _entries(archive)
    entry = _select(entries, path, tag)
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise InputError(f"{path}: manifest.json entry lacks Config or Layers")
    config_data = archive.read(config_name)
    config_digest = "sha256:" + hexdigest("sha256", config_data)
    config = parse_config(config_data, f"{path}: {config_name}")
    if platform is not None:  # docker save holds one platform, named only in the config
        platform.check_config(config, path)
    if len(layer_names) != len(config.diff_ids):
        raise InputError(f"{path}: manifest.json lists {len(layer_names)} layers but the config has {len(config.diff_ids)} diff_ids")
    created = layer_created_by(config)
    layers = []
    for i, (name, diff_id) in enumerate(zip(layer_names, config.diff_ids, strict=True)):
        if not isinstance(name, str) or not archive.exists(name):
            raise InputError(f"{path}: layer {i} ({name!r}) is missing from the archive")
        layers.append(
            Layer(
                index=i,
                digest="",  # docker save records no blob digest; the diff_id is verified
                size=archive.size(name),
                media_type=DOCKER_LAYER,
                diff_id=diff_id,
                opener=_opener(archive, name),
                location=archive.location(name),
                created_by=created[i] if i < len(created) else "",
            )
        )
    tags = tuple(t for t in entry.get("RepoTags") or [] if isinstance(t, str))
    return Image(
        input=input_ref,
        source_type="docker-archive",
        name=tags[0] if tags else path,
        config=config,
        layers=layers,
        config_digest=config_digest,
        repo_tags=tags,
    )


def _entries(archive: ImageArchive) -> list[dict[str, Any]]:
    doc = load_json(archive.read("manifest.json"), f"{archive.path}: manifest.json")
    if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
        raise InputError(f"{archive.path}: manifest.json is not a list of images")
    for i, e in enumerate(doc):
        tags = e.get("RepoTags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise InputError(f"{archive.path}: manifest.json[{i}].RepoTags is not a list of strings")
    return doc


def _select(entries: list[dict[str, Any]], path: str, tag: str) -> dict[str, Any]:
    if tag:
        for e in entries:
            tags = e.get("RepoTags") or []
            if tag in tags or any(t.endswith("/" + tag) or t.split("/")[-1] == tag for t in tags if isinstance(t, str)):
                return e
        raise InputError(f"{path}: no image tagged {tag!r}")
    if len(entries) > 1:
        listing = "; ".join(", ".join(e.get("RepoTags") or ["<untagged>"]) for e in entries)
        raise InputError(f"{path}: holds {len(entries)} images, choose one by tag: {listing}")
    return entries[0]


def _opener(archive: ImageArchive, name: str) -> Callable[[], IO[bytes]]:
    """`Layer.opener` for a member of the archive."""
    return lambda: archive.open(name)
