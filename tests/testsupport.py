"""Helpers every test may import (`from testsupport import …`): where ../shared is, tools that must
exist under CI=true, and a directory as an in-memory layer.

Not in conftest.py: several directories have a conftest.py, so `from conftest import …` would name
whichever was imported last.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HULLSCAN_SHARED", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """Path of an external tool; skip the test when missing, fail under CI=true (.ci/run installs it)."""
    path = shutil.which(name)
    if path is None:
        msg = f"tool {name!r} not installed (.ci/run installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def read_tree(root: Path, prefix: str = "/") -> dict[str, bytes]:
    """A directory as one in-memory layer for `hullscan.inventory.applier.analyze_files`:
    {absolute image path: bytes}; symlinks and special files are left out."""
    out: dict[str, bytes] = {}
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(root).as_posix()
            out[prefix.rstrip("/") + "/" + rel] = path.read_bytes()
    return out
