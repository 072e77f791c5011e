"""Fixtures for the engine tests: our own dockerd (and Podman service) from tests/enginehelp.py, and the
images of engineimages.py, written as docker-archive tars and loaded once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from engineimages import TAG, Built, build  # noqa: E402

from enginehelp import Engine, docker_engine, podman_engine  # noqa: E402


@pytest.fixture(scope="session")
def docker() -> Engine:
    return docker_engine()


@pytest.fixture(scope="session")
def podman() -> Engine:
    return podman_engine()


@pytest.fixture(scope="session")
def app_image(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("engine") / "app.tar", TAG)


@pytest.fixture(scope="session")
def in_docker(docker: Engine, app_image: Built) -> Built:
    docker.load(app_image.archive)
    return app_image


@pytest.fixture(scope="session")
def in_podman(podman: Engine, app_image: Built) -> Built:
    podman.load(app_image.archive)
    return app_image
