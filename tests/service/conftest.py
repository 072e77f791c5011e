"""Fixtures of the API tests (tests/service/test_api_*.py): one service for the session — a throwaway
PostgreSQL database (state store and vulnerability DB of the demo feeds), a real registry with basic auth
holding the images of api_support.py, a real `hullscan worker` on the machine's RabbitMQ (queues of this
run's own prefix) and a real `hullscan server` — plus a token of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_support import PASSWORD, USER, Pushed, Server, push_app_images
from worker_support import BROKER, Service, create_database, delete_queues, drop_database, import_feeds, require_broker

from testsupport import require_module, require_tool


@dataclass
class Api:
    service: Service
    server: Server
    registry_host: str
    images: Pushed
    tokens: dict[str, str]
    """A token of each scope (`read`, `scan`, `admin`) and Harbor's (`harbor`)."""

    @property
    def url(self) -> str:
        return self.server.url

    def logs(self) -> str:
        return f"--- server ---\n{self.server.logs()}\n--- workers ---\n{self.service.logs()}"


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    require_module("fastapi")
    require_module("celery")
    require_tool("docker-registry")
    require_tool("skopeo")
    require_broker()
    from cryptography.fernet import Fernet
    from regserver import Registry

    root = tmp_path_factory.mktemp("api")
    db_url = create_database()
    registry = Registry(root / "registry", auth="basic", users={USER: PASSWORD}).start()
    service = Service(root, db_url, BROKER, extra_env={"HULLSCAN_BLOB_DIR": str(root / "blobs"),
                                                       "HULLSCAN_JOB_KEY": Fernet.generate_key().decode()})
    server = None
    try:
        import_feeds(db_url, service.env)
        images = push_app_images(root / "images", registry.host, f"{USER}:{PASSWORD}")
        service.start_worker("--queues", "scan,maintenance", name="api")
        server = Server(service)
        tokens = _tokens(db_url)
        yield Api(service, server, registry.host, images, tokens)
    finally:
        if server is not None:
            server.stop()
        service.stop()
        registry.stop()
        delete_queues(BROKER, service.prefix)
        drop_database(db_url)


def _tokens(db_url: str) -> dict[str, str]:
    from hullscan.service.auth import create
    from hullscan.state.store import open_state

    with open_state(db_url) as store:
        out = {scope: create(store, f"test-{scope}", (scope,))[1] for scope in ("read", "scan", "admin")}
        out["harbor"] = create(store, "harbor", ("scan",))[1]
    return out


@pytest.fixture
def blob_dir(api: Api) -> Path:
    return Path(api.service.env["HULLSCAN_BLOB_DIR"])
