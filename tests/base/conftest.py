"""Fixtures for the base catalog tests: small real images built with tests/image/builders.py from
hand-written layers (an os-release and a dpkg status whose packages the tests know), and a throwaway
PostgreSQL schema on 127.0.0.1:5432 db `test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from basehelp import HULLSCAN, MINBASE_PKGS, OS_RELEASE, PLUS_PKGS, Built, Images, stanza  # noqa: E402
from builders import Layer, OCILayout, docker_archive, f, layer  # noqa: E402

from testsupport import pg_throwaway_schema  # noqa: E402


def _oci(root: Path, layers: list[Layer], ref_name: str) -> Built:
    lay = OCILayout(root)
    desc = lay.image(layers)
    lay.add(desc, tag=ref_name)
    lay.save()
    manifest = json.loads((root / "blobs/sha256" / desc["digest"].split(":")[1]).read_bytes())
    return Built(str(root), desc["digest"], manifest["config"]["digest"], [x.diff_id for x in layers])


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = tmp_path_factory.mktemp("bases")
    l0 = layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", "12.5\n"),
                f("var/lib/dpkg/status", "".join(stanza(*p) for p in MINBASE_PKGS))], created_by="ADD rootfs.tar /")
    l1 = layer([f("var/lib/dpkg/status", "".join(stanza(*p) for p in PLUS_PKGS)), f("usr/bin/curl", b"\x7fELF")],
               created_by="RUN apt-get install curl")
    l2 = layer([f("app/main.py", "print('hi')\n")], created_by="COPY main.py /app/")
    l9 = layer([f("etc/os-release", OS_RELEASE.replace("12", "13")), f("srv/other", "x")], created_by="ADD other /")
    plus_tar = docker_archive(root / "plus.tar", [l0, l1], tags=("example/debian-plus:12", "example/debian-plus:bookworm"))
    cfg = next(n for n in _tar_names(plus_tar) if n.endswith(".json") and n != "manifest.json")
    return Images(
        minbase=_oci(root / "minbase", [l0], "debian:12"),
        plus=Built(str(plus_tar), "", "sha256:" + cfg.removesuffix(".json"), [l0.diff_id, l1.diff_id]),
        app=_oci(root / "app", [l0, l1, l2], "latest"),
        other=_oci(root / "other", [l9], "example/debian-plus:12"),
        layers={"l0": l0, "l1": l1, "l2": l2, "l9": l9},
    )


def _tar_names(path: Path) -> list[str]:
    import tarfile

    with tarfile.open(path) as tf:
        return tf.getnames()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def hullscan(tmp_path: Path):
    """Run `hullscan ARGS` with its own XDG dirs (the state store and the layer cache under tmp_path)."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "COLUMNS": "80"}
    env.pop("HULLSCAN_STATE_URL", None)

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Run:
        p = subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env={**env, **(extra_env or {})},
                           timeout=300)
        return Run(p.returncode, p.stdout, p.stderr)

    run.state = tmp_path / "data" / "hullscan" / "state.sqlite"  # type: ignore[attr-defined]
    return run


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(URL, a schema unique to this test), dropped afterwards."""
    with pg_throwaway_schema("hs_state") as got:
        yield got
