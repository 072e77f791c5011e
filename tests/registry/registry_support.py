"""Registry test helpers importable by name (`from registry_support import …`): conftest names are
ambiguous across directories in a whole-suite run."""

from __future__ import annotations

import hashlib
import subprocess

USER, PASSWORD = "alice", "s3cret-Pa55word-xyz"


def skopeo_raw_manifest(ref: str) -> bytes:
    """The manifest as skopeo reads it (an independent client): `skopeo inspect --raw`."""
    out = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], capture_output=True, check=True)
    return out.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
