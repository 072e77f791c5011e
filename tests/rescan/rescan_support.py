"""What the rescan tests share (imported by name: several test directories have a conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import f  # noqa: E402

from testsupport import REPO  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
SLICES = REPO / "tests" / "vulndb" / "testdata" / "changelog-pypi"
OLD, NEW = SLICES / "old", SLICES / "new"
SITE = "usr/lib/python3.11/site-packages"
PACKAGES = {"one": [("redis", "4.5.4"), ("sqlparse", "0.4.3"), ("starlette", "0.26.1"), ("django", "3.1.14")],
            "two": [("redis", "4.5.4"), ("sqlparse", "0.4.3"), ("starlette", "0.26.1"), ("django", "4.2")],
            "three": [("idna", "3.6")]}


def dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@dataclass
class Images:
    one: str
    two: str
    three: str


def hullscan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env=env, timeout=600)


def as_json(p: subprocess.CompletedProcess[str]) -> Any:
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)
