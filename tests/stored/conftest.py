"""Fixtures for the stored-inventory tests: real images built with tests/image/builders.py (imported by
name, as tests/base does) on two Alpine 3.10 bases, a DB of the demo feeds (examples/feeds), and a
throwaway PostgreSQL schema on 127.0.0.1:5432 db `test` (as tests/base/conftest.py makes one).

Images (what the tests know from building them, never from hullscan):
    app1   base A + layer: sqlparse 0.4.1 dist-info, /app/.env holding Trivy's fake GitHub token
           OCI layout, ref.name `example/app:1`
    app2   base A + layer: idna 3.6 dist-info                       `example/app:2`
    other  base B + layer: sqlparse 0.4.4 dist-info                 `example/other:1`
    app2b  docker-archive of app2's layers, RepoTags example/app:2 and example/app:two (the same config
           digest, no manifest digest: stored under its config digest)
Base A is the real Alpine 3.10 root of Trivy's test image (testdata/alpine-3.10, PROVENANCE.md): 14
packages in lib/apk/db/installed. Base B is the same with musl and musl-utils at 1.1.22-r2 (changed
here) so that it is another layer holding the same package names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import docker_archive, f, layer, oci_image  # noqa: E402
from storedhelp import (  # noqa: E402
    ALPINE,
    HULLSCAN,
    TOKEN,
    Images,
    apk_entries,
    base_layer,
    dist,
)

from testsupport import REPO, pg_throwaway_schema  # noqa: E402


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = tmp_path_factory.mktemp("stored-images")
    installed = (ALPINE / "lib/apk/db/installed").read_text()
    base_a = base_layer(installed)
    base_b = base_layer(installed.replace("V:1.1.22-r3", "V:1.1.22-r2"))
    l1 = layer([dist("sqlparse", "0.4.1"), f("app/.env", TOKEN.read_bytes())], created_by="RUN pip install sqlparse")
    l2 = layer([dist("idna", "3.6")], created_by="RUN pip install idna")
    l3 = layer([dist("sqlparse", "0.4.4")], created_by="RUN pip install sqlparse==0.4.4")
    app1 = oci_image(root / "app1", [base_a, l1], tag="example/app:1")
    app2 = oci_image(root / "app2", [base_a, l2], tag="example/app:2")
    other = oci_image(root / "other", [base_b, l3], tag="example/other:1")
    app2b = docker_archive(root / "app2b.tar", [base_a, l2], tags=("example/app:2", "example/app:two"))
    return Images(f"oci:{app1}", f"oci:{app2}", f"oci:{other}", f"docker-archive:{app2b}",
                  {"base_a": base_a.diff_id, "base_b": base_b.diff_id, "app1": l1.diff_id, "app2": l2.diff_id,
                   "other": l3.diff_id}, apk_entries(installed))


@pytest.fixture(scope="session")
def run_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("stored-env")
    env = {**os.environ, "XDG_DATA_HOME": str(root / "data"), "XDG_CACHE_HOME": str(root / "cache"), "COLUMNS": "200"}
    for k in ("HULLSCAN_STATE_URL", "HULLSCAN_DB_URL", "NO_COLOR"):
        env.pop(k, None)
    return env


@pytest.fixture(scope="session")
def vulndb(tmp_path_factory: pytest.TempPathFactory, run_env: dict[str, str]) -> str:
    db = tmp_path_factory.mktemp("stored-db") / "vuln.db"
    p = subprocess.run([*HULLSCAN, "db", "import", str(REPO / "examples" / "feeds"), "--db", str(db)],
                       capture_output=True, text=True, env=run_env, timeout=600)
    assert p.returncode == 0, p.stderr
    return str(db)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(URL, a schema unique to this test), dropped afterwards."""
    with pg_throwaway_schema("hs_stored") as got:
        yield got
