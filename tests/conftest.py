"""Root fixtures. Shared helpers live in testsupport.py (import them from there, not from conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testsupport import IN_CI, REPO, SHARED, read_tree, require_tool  # noqa: F401  (re-exported for old imports)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        msg = f"shared data not found at {SHARED}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return SHARED
