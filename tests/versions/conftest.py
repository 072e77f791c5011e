"""The version-vector records, read once per session."""

from __future__ import annotations

import pytest
from vectors_data import load_vectors


@pytest.fixture(scope="session")
def vectors() -> dict[str, list[dict]]:
    """All records of versions.jsonl grouped by scheme."""
    return load_vectors()
