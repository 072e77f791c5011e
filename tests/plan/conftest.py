"""Fixtures for the fix-plan tests: tests/image/builders.py on the path, and `hullscan` run as a command with
its own XDG directories (the state store holding the base catalog, the layer cache) under the test's tmp."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))

HULLSCAN = [sys.executable, "-m", "hullscan"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="module")
def hullscan(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """`hullscan ARGS` → Run, one state store and cache for the module (its images are catalogued once)."""
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"), "COLUMNS": "80"}
    env.pop("HULLSCAN_STATE_URL", None)
    env.pop("NO_COLOR", None)

    def run(*args: str, columns: int = 80) -> Run:
        p = subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env={**env, "COLUMNS": str(columns)},
                           timeout=300)
        return Run(p.returncode, p.stdout, p.stderr)

    return run
