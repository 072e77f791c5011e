"""What the stored-inventory tests share with their fixtures (a module of its own: several test
directories have a conftest.py, so `from conftest import …` would name whichever loaded first)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import Layer, f, layer  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
TESTDATA = Path(__file__).parent / "testdata"
ALPINE = TESTDATA / "alpine-3.10"
TOKEN = TESTDATA / "github-token.txt"
SITE = "usr/lib/python3.7/site-packages"


def dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def apk_entries(installed: str) -> list[dict[str, str]]:
    """The stanzas of an apk installed DB as {field letter: value} (written here, not hullscan's parser)."""
    out = []
    for stanza in installed.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields:
            out.append(fields)
    return out


def base_layer(installed: str) -> Layer:
    return layer([f("etc/os-release", (ALPINE / "etc/os-release").read_bytes()),
                  f("etc/alpine-release", (ALPINE / "etc/alpine-release").read_bytes()),
                  f("lib/apk/db/installed", installed)], created_by="ADD alpine-minirootfs.tar.gz /")


@dataclass
class Images:
    app1: str
    app2: str
    other: str
    app2b: str
    layers: dict[str, str]
    """diff_ids by name: base_a, base_b, app1, app2, other."""
    base_a_packages: list[dict[str, str]]


def hullscan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env=env, timeout=600)


def as_json(p: subprocess.CompletedProcess[str]) -> Any:
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)
