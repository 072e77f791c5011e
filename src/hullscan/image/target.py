"""Turn a target string into an opened Image, with DESIGN.md's prefixes and detection order.

`docker-archive:PATH`, `oci:PATH[:TAG|@DIGEST]` (also `oci-dir:`), `oci-archive:PATH[:TAG]`, `dir:PATH`,
`registry:REF`, `sbom:PATH`. Without a prefix an existing path is sniffed (a directory with
`oci-layout` → OCI layout, another directory → dir; a tar with index.json → OCI archive, else with
manifest.json → docker-archive); a name that looks like a file (DESIGN.md "Bare targets": `app.tar`,
`./img`, `~/x`) but does not exist is "no such file", never a Docker Hub pull; anything else is a
registry reference (hullscan talks to no container engine).
"""

from __future__ import annotations

import os
import re

from hullscan.errors import InputError, UsageError
from hullscan.image.model import Image, Platform
from hullscan.record import record

PREFIXES = ("docker-archive", "oci-archive", "oci-dir", "oci", "dir", "registry", "sbom", "docker", "podman")
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
            raise UsageError(f"{prefix}: targets need a container daemon, which hullscan does not use; "
                             f"save the image with `{prefix} save` and scan the tar")
        if kind in ("registry",):
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
        return Target("registry", text)
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
        try:
            from hullscan.image.registry import open_registry
        except ImportError:
            raise InputError(f"{t.path}: not a local file or directory, and registry pulls are not available") from None
        return open_registry(t.path, input_ref=text, options=options)
    raise UsageError(f"{text}: {t.kind} targets are scanned with `hullscan sbom`")
