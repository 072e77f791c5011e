"""Parsing of the small JSON documents of an image: index, manifest, config.

Shared by every source so that each reports bad documents the same way (one line, exit 2).
"""

from __future__ import annotations

import json
import re

from hullscan.errors import InputError
from hullscan.image.model import (
    DOCKER_SCHEMA1,
    INDEX_TYPES,
    LAYER_TYPES,
    Platform,
)
from hullscan.model.image import HistoryEntry, ImageConfig

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

MAX_DOCUMENT = 16 * 1024 * 1024  # a manifest or config above this is not an image document
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")


def load_json(data: bytes, what: str) -> Any:
    """Parse a JSON document; anything wrong (size, syntax, absurd nesting) is an InputError."""
    if len(data) > MAX_DOCUMENT:
        raise InputError(f"{what}: {len(data)} bytes is too large for an image document")
    try:
        return json.loads(data)
    except RecursionError:
        raise InputError(f"{what}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{what}: not valid JSON ({err})") from None


def check_digest(value: Any, what: str) -> str:
    if not isinstance(value, str) or not DIGEST_RE.match(value):
        raise InputError(f"{what}: invalid digest {value!r}")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return (value,)
    return ()


def parse_config(data: bytes, what: str) -> ImageConfig:
    """An OCI / Docker image config → ImageConfig."""
    raw = load_json(data, what)
    if not isinstance(raw, dict):
        raise InputError(f"{what}: config is not a JSON object")
    cfg = raw.get("config") or raw.get("container_config") or {}
    if not isinstance(cfg, dict):
        cfg = {}
    rootfs = raw.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise InputError(f"{what}: config has no rootfs.diff_ids")
    for d in diff_ids:
        check_digest(d, f"{what}: rootfs.diff_ids")
    history = []
    raw_history = raw.get("history")
    for h in raw_history if isinstance(raw_history, list) else []:
        if isinstance(h, dict):
            history.append(
                HistoryEntry(
                    created=str(h.get("created", "")),
                    created_by=str(h.get("created_by", "")),
                    empty_layer=bool(h.get("empty_layer", False)),
                    comment=str(h.get("comment", "")),
                )
            )
    labels = cfg.get("Labels") or {}
    return ImageConfig(
        raw=raw,
        architecture=str(raw.get("architecture", "")),
        os=str(raw.get("os", "")),
        variant=str(raw.get("variant", "")),
        created=str(raw.get("created", "")),
        user=str(cfg.get("User", "") or ""),
        env=_strs(cfg.get("Env")),
        entrypoint=_strs(cfg.get("Entrypoint")),
        cmd=_strs(cfg.get("Cmd")),
        working_dir=str(cfg.get("WorkingDir", "") or ""),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        exposed_ports=tuple(sorted((cfg.get("ExposedPorts") or {}).keys()))
        if isinstance(cfg.get("ExposedPorts"), dict)
        else (),
        history=tuple(history),
        diff_ids=tuple(diff_ids),
    )


def layer_created_by(config: ImageConfig) -> list[str]:
    """The `created_by` of each non-empty history entry, in layer order."""
    return [h.created_by for h in config.history if not h.empty_layer]


_PLATFORM_KEYS = ("os", "architecture", "variant")


def check_index(doc: Any, what: str) -> list[dict[str, Any]]:
    """An image index's `manifests`, each a descriptor with a digest, and `platform` and `annotations`
    objects when present (OCI image-spec descriptor and index): everything later steps read of an entry."""
    entries = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{what}: has no manifests list")
    for i, entry in enumerate(entries):
        where = f"{what}: manifests[{i}]"
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not an object")
        if "digest" not in entry:
            raise InputError(f"{where} has no digest")
        check_digest(entry["digest"], where)
        plat = entry.get("platform")
        if plat is not None and not (isinstance(plat, dict) and all(isinstance(plat.get(k, ""), str) for k in _PLATFORM_KEYS)):
            raise InputError(f"{where}: platform is not an object with string os, architecture and variant")
        check_annotations(entry, where)
    return entries


def check_annotations(desc: dict[str, Any], what: str) -> None:
    value = desc.get("annotations")
    if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        raise InputError(f"{what}: annotations is not an object of strings")


def check_manifest(doc: Any, what: str) -> dict[str, Any]:
    """Validate an image manifest (OCI or Docker v2s2); schema 1 is refused clearly."""
    if not isinstance(doc, dict):
        raise InputError(f"{what}: manifest is not a JSON object")
    check_annotations(doc, what)
    mt = doc.get("mediaType", "")
    if mt in DOCKER_SCHEMA1 or doc.get("schemaVersion") == 1:
        raise InputError(f"{what}: Docker schema 1 manifests are unsupported")
    if mt in INDEX_TYPES or "manifests" in doc:
        raise InputError(f"{what}: expected an image manifest, found an index")
    config = doc.get("config")
    layers = doc.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise InputError(f"{what}: manifest lacks config or layers")
    check_digest(config.get("digest"), f"{what}: config")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise InputError(f"{what}: layer {i} is not an object")
        check_digest(layer.get("digest"), f"{what}: layer {i}")
        check_annotations(layer, f"{what}: layer {i}")
        lmt = layer.get("mediaType", "")
        if not isinstance(lmt, str) or lmt not in LAYER_TYPES:  # a list is not even hashable
            raise InputError(f"{what}: layer {i} has unknown media type {lmt!r}")
    return doc


def select_manifest(
    entries: list[dict[str, Any]],
    what: str,
    tag: str = "",
    digest: str = "",
    platform: Platform | None = None,
) -> dict[str, Any]:
    """Choose one entry of an index by tag, digest or platform; several left → error listing them."""
    cands = [e for e in entries if isinstance(e, dict)]
    if digest:
        cands = [e for e in cands if e.get("digest") == digest]
        if not cands:
            raise InputError(f"{what}: no manifest with digest {digest}")
    if tag:
        cands = [e for e in cands if (e.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag]
        if not cands:
            raise InputError(f"{what}: no manifest tagged {tag!r} (tags: {', '.join(list_tags(entries)) or 'none'})")
    if platform is not None:
        with_platform = [e for e in cands if isinstance(e.get("platform"), dict)]
        if with_platform:
            cands = [e for e in with_platform if platform.matches(e["platform"])]
            if not cands:
                have = ", ".join(describe(e) for e in with_platform)
                raise InputError(f"{what}: no manifest for platform {platform} (has: {have})")
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise InputError(f"{what}: no image manifest found")
    listing = "; ".join(describe(e) for e in cands)
    raise InputError(f"{what}: holds {len(cands)} manifests, choose one by tag, digest or --platform: {listing}")


def list_tags(entries: list[dict[str, Any]]) -> list[str]:
    return [
        t for e in entries if isinstance(e, dict)
        if (t := (e.get("annotations") or {}).get("org.opencontainers.image.ref.name"))
    ]


def describe(entry: dict[str, Any]) -> str:
    bits = [str(entry.get("digest", "?"))[:19]]
    tag = (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name")
    if tag:
        bits.append(f"tag {tag}")
    plat = entry.get("platform")
    if isinstance(plat, dict):
        bits.append(str(Platform(plat.get("os", ""), plat.get("architecture", ""), plat.get("variant", ""))))
    return " ".join(bits)
