"""Fixtures for the notification tests: the receiver (notify_support.py), the secret in the
environment, and a state store on SQLite and on PostgreSQL (a throwaway schema, as tests/base does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notify_support import SECRET, Receiver

from testsupport import pg_throwaway_schema


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    return "HOOK_SECRET"


@pytest.fixture
def pg_url() -> Iterator[tuple[str, str]]:
    """(URL, a schema unique to this test), dropped afterwards."""
    with pg_throwaway_schema("hs_notify") as got:
        yield got


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(location, schema) of an empty state store, on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite"), "hullscan_state"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: tuple[str, str]) -> Iterator[Any]:
    from hullscan.state.store import open_state

    with open_state(store_url[0], schema=store_url[1]) as s:
        yield s
