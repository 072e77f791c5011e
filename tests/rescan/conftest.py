"""Fixtures for the rescan tests: real images built with tests/image/builders.py holding PyPI packages the
two real slices of the PyPA advisory database (tests/vulndb/testdata/changelog-pypi: old 2023-06-05, new
2023-06-30) speak of, the DB at the older slice, and state stores (SQLite, a throwaway PostgreSQL schema).

Images (what the tests know from building them, never from hullscan):
    one    layer L1: redis 4.5.4, sqlparse 0.4.3, starlette 0.26.1 dist-infos; layer L2: django 3.1.14
           OCI layout, ref.name `example/one:1`
    two    L1 (the same layer: shared) + layer L3: django 4.2            `example/two:1`
    three  layer L4: idna 3.6 (no record of either slice names idna)     `example/three:1`
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import layer, oci_image  # noqa: E402
from rescan_support import Images, dist  # noqa: E402

from testsupport import pg_throwaway_schema  # noqa: E402


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = tmp_path_factory.mktemp("rescan-images")
    l1 = layer([dist("redis", "4.5.4"), dist("sqlparse", "0.4.3"), dist("starlette", "0.26.1")],
               created_by="RUN pip install redis sqlparse starlette")
    l2 = layer([dist("django", "3.1.14")], created_by="RUN pip install django==3.1.14")
    l3 = layer([dist("django", "4.2")], created_by="RUN pip install django==4.2")
    l4 = layer([dist("idna", "3.6")], created_by="RUN pip install idna")
    return Images(f"oci:{oci_image(root / 'one', [l1, l2], tag='example/one:1')}",
                  f"oci:{oci_image(root / 'two', [l1, l3], tag='example/two:1')}",
                  f"oci:{oci_image(root / 'three', [l4], tag='example/three:1')}")


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "COLUMNS": "200"}
    for k in ("HULLSCAN_STATE_URL", "HULLSCAN_DB_URL", "NO_COLOR"):
        env.pop(k, None)
    return env


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(URL, a schema unique to this test), dropped afterwards."""
    with pg_throwaway_schema("hs_rescan") as got:
        yield got
