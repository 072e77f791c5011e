"""Turn a target string into an opened Image, with DESIGN.md's prefixes and detection order.

`docker-archive:PATH`, `oci:PATH[:TAG|@DIGEST]` (also `oci-dir:`), `oci-archive:PATH[:TAG]`, `dir:PATH`,
`registry:REF`, `sbom:PATH`, `stored:sha256:DIGEST` (a stored inventory, matched by the scan service).
Without a prefix an existing path is sniffed (a directory with
`oci-layout` → OCI layout, another directory → dir; a tar with index.json → OCI archive, else with
manifest.json → docker-archive); a name that looks like a file (DESIGN.md "Bare targets": `app.tar`,
`./img`, `~/x`) but does not exist is "no such file", never a Docker Hub pull; anything else is an
image name, looked up in the sources of `--image-src` in order (default: the Docker engine, the Podman
engine, the registry): an engine that does not answer or does not hold the image is passed over.
`docker:IMAGE` / `podman:IMAGE` ask that engine only: down is exit 3, no such image exit 2
(docs/engines.md).
"""

from __future__ import annotations

import os
import re

from hullscan.errors import InputError, UsageError
from hullscan.image.model import Image, Platform
from hullscan.record import record

PREFIXES = ("docker-archive", "oci-archive", "oci-dir", "oci", "dir", "registry", "sbom", "stored", "docker", "podman")
IMAGE_SOURCES = ("docker", "podman", "registry")
"""Where a bare image name is looked for, in this order unless `--image-src` says otherwise (Trivy's flag)."""
FILE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".json", ".xml", ".spdx")
FILE_STARTS = ("./", "../", "/", "~")
"""A bare target shaped like one of these is a local file, never an image reference (DESIGN.md "Bare targets")."""


@record(frozen=True)
class SourceOptions:
    """How to open a target; registry options are used only by the registry source."""

    platform: Platform | None = None
    insecure: bool = False
    username: str = ""
    password: str = ""
    image_src: tuple[str, ...] = IMAGE_SOURCES
    """The sources a bare image name is looked up in, in order (`--image-src`)."""
    docker_host: str = ""
    """The Docker engine's address (`--docker-host`; else DOCKER_HOST, else the default socket)."""
    podman_host: str = ""
    """The Podman engine's address (`--podman-host`; else the default sockets)."""


@record(frozen=True)
class Target:
    kind: str
    path: str
    tag: str = ""
    digest: str = ""


def split_ref(text: str) -> tuple[str, str, str]:
    """PATH[:TAG|@DIGEST] where PATH exists on disk: the longest existing prefix wins."""
    if os.path.exists(text):
        return text, "", ""
    m = re.match(r"^(.*)@(sha256:[0-9a-f]{64})$", text)
    if m and os.path.exists(m.group(1)):
        return m.group(1), "", m.group(2)
    idx = text.rfind(":")
    while idx > 0:
        if os.path.exists(text[:idx]):
            return text[:idx], text[idx + 1 :], ""
        idx = text.rfind(":", 0, idx)
    return text, "", ""


def parse_target(text: str) -> Target:
    if not text:
        raise UsageError("no target given")
    prefix, sep, rest = text.partition(":")
    if sep and prefix in PREFIXES and not os.path.exists(text):
        kind = "oci" if prefix == "oci-dir" else prefix
        if kind in ("docker", "podman"):
            if not rest:
                raise UsageError(f"{text}: no image named after {prefix}:")
            return Target(kind, rest)
        if kind in ("registry", "stored"):  # stored:sha256:…: an inventory in the state store (state/inventories.py)
            return Target(kind, rest)
        path, tag, digest = split_ref(rest) if kind in ("oci", "oci-archive", "docker-archive") else (rest, "", "")
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file or directory")
        return Target(kind, path, tag, digest)
    if os.path.isdir(text):
        return Target("oci" if os.path.isfile(os.path.join(text, "oci-layout")) else "dir", text)
    if os.path.exists(text):
        return Target(_sniff_archive(text), text)
    path, tag, digest = split_ref(text)
    if path != text and os.path.exists(path):
        kind = "oci" if os.path.isdir(path) else _sniff_archive(path)
        return Target(kind, path, tag, digest)
    if looks_like_file(text):
        if text.startswith("~") and os.path.exists(os.path.expanduser(text)):  # a quoted `~/img.tar`
            return parse_target(os.path.expanduser(text))
        raise InputError(f"{text}: no such file or directory (a local path; for a registry image write registry:{text})"
                         if not text.startswith(FILE_STARTS) else f"{text}: no such file or directory")
    if "/" in text or ":" in text or "." in text or re.match(r"^[a-z0-9._-]+$", text):
        return Target("image", text)  # a bare image name: an engine's or the registry's (open_image)
    raise InputError(f"{text}: not a file, directory or image reference")


def looks_like_file(text: str) -> bool:
    """A bare target written as a file: a file name's suffix (`app.tar`, `sbom.json`) or a path's start."""
    return text.lower().endswith(FILE_SUFFIXES) or text.startswith(FILE_STARTS)


def _sniff_archive(path: str) -> str:
    from hullscan.image.archive import ImageArchive

    archive = ImageArchive(path)
    try:
        if archive.exists("index.json"):
            return "oci-archive"
        if archive.exists("manifest.json"):
            return "docker-archive"
    finally:
        archive.close()
    raise InputError(f"{path}: neither an OCI archive (index.json) nor a docker-archive (manifest.json)")


def open_image(text: str, options: SourceOptions | None = None) -> Image:
    """Open a target as an Image (sbom: targets are handled by the caller)."""
    options = options or SourceOptions()
    t = parse_target(text)
    if t.kind == "docker-archive":
        from hullscan.image.docker_archive import open_docker_archive

        return open_docker_archive(t.path, input_ref=text, tag=t.tag, platform=options.platform)
    if t.kind == "oci":
        from hullscan.image.oci_layout import open_oci_dir

        return open_oci_dir(t.path, input_ref=text, tag=t.tag, digest=t.digest, platform=options.platform)
    if t.kind == "oci-archive":
        from hullscan.image.oci_layout import open_oci_archive

        return open_oci_archive(t.path, input_ref=text, tag=t.tag, digest=t.digest, platform=options.platform)
    if t.kind == "dir":
        from hullscan.image.rootfs import open_rootfs

        return open_rootfs(t.path, input_ref=text)
    if t.kind == "registry":
        return _open_registry(t.path, text, options)
    if t.kind in ("docker", "podman"):
        from hullscan.image.engine_source import open_engine_image

        return open_engine_image(t.kind, t.path, input_ref=text, host=_engine_host(t.kind, options),
                                 platform=options.platform)
    if t.kind == "image":
        return _open_bare(t.path, options)
    if t.kind == "stored":
        raise UsageError(f"{text}: a stored inventory is no image to open (the scan service matches it)")
    raise UsageError(f"{text}: {t.kind} targets are scanned with `hullscan sbom`")


def _open_registry(ref: str, text: str, options: SourceOptions) -> Image:
    try:
        from hullscan.image.registry import open_registry
    except ImportError:
        raise InputError(f"{ref}: not a local file or directory, and registry pulls are not available") from None
    return open_registry(ref, input_ref=text, options=options)


def _open_bare(name: str, options: SourceOptions) -> Image:
    """A bare image name from the first source of `--image-src` that has it (DESIGN.md "Bare targets")."""
    for src in options.image_src:
        if src == "registry":
            return _open_registry(name, name, options)
        from hullscan.image.engine_source import find_engine_image

        found = find_engine_image(src, name, input_ref=name, host=_engine_host(src, options), platform=options.platform)
        if found is not None:
            return found
    raise InputError(f"{name}: not found in {' or '.join(f'the {s} engine' for s in options.image_src)} "
                     "(none answers or holds it; --image-src chooses where to look)")


def _engine_host(kind: str, options: SourceOptions) -> str:
    return options.docker_host if kind == "docker" else options.podman_host


def image_sources(text: str) -> tuple[str, ...]:
    """`--image-src docker,podman,registry`: any of them, in the order given."""
    chosen = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not chosen or set(chosen) - set(IMAGE_SOURCES):
        raise UsageError(f"--image-src: choose one or more of {', '.join(IMAGE_SOURCES)} (comma-separated), not {text!r}")
    return chosen
