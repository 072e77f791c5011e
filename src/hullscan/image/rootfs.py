"""A plain root filesystem (`dir:`): one pseudo-layer walked in place (see walker.walk_rootfs)."""

from __future__ import annotations

import os

from hullscan.errors import InputError
from hullscan.image.model import Image
from hullscan.model.image import ImageConfig


def open_rootfs(path: str, *, input_ref: str) -> Image:
    if not os.path.isdir(path):
        raise InputError(f"{path}: not a directory")
    return Image(
        input=input_ref,
        source_type="dir",
        name=os.path.abspath(path),
        config=ImageConfig(raw={}),
        layers=[],
        rootfs_path=os.path.abspath(path),
    )
