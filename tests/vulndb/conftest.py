"""Fixtures for the vulnerability DB tests: a SQLite DB built from a subset of the shared real data,
and a throwaway PostgreSQL schema (dropped afterwards) on 127.0.0.1:5432 db `test`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

PG_BASE = os.environ.get("HULLSCAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

#: Real feed files the unit tests import (small; the benchmark imports everything).
SUBSET = (
    "debian-tracker/data/DSA/list",
    "debian-tracker/data/DLA/list",
    "alpine-secdb/v3.10",
    "osv-pypi/sample",
    "osv-go/sample",
    "rustsec/sample/crates",
    "rubysec/sample",
    "kev/known_exploited_vulnerabilities.json",
)


def subset_paths(shared: Path) -> list[Path]:
    return [shared / "vulndata" / p for p in SUBSET]


@pytest.fixture(scope="session")
def subset(shared: Path) -> list[Path]:
    """The SUBSET paths."""
    return subset_paths(shared)


@pytest.fixture(scope="session")
def subset_db(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite DB file holding SUBSET (built once per session; tests open it read-only)."""
    from hullscan.vulndb import importer
    from hullscan.vulndb.store import VulnDB

    path = tmp_path_factory.mktemp("vulndb") / "subset.sqlite"
    summary = importer.read(subset_paths(shared))
    with VulnDB.open(path, create=True) as db:
        importer.write(db, summary)
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of an empty PostgreSQL schema unique to this test; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    schema = f"hs_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if IN_CI:
            pytest.fail(f"PostgreSQL not reachable at {PG_BASE}: {err}")
        pytest.skip(f"PostgreSQL not reachable at {PG_BASE}")
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
