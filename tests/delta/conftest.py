"""The delta tests build real images with tests/image/builders.py (imported by name, as tests/base does)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
