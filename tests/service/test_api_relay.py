"""The server's outbox relay (service/relay.py started in app.py's lifespan): a scan submitted while the
broker is unreachable is committed `queued`, and the server itself publishes it once the broker is back —
no beat worker runs in the API tests, so only the server's relay can move it."""

from __future__ import annotations

import pytest
from api_support import Server, client, wait_job
from test_api_v2 import AUTH
from worker_support import TcpProxy

pytestmark = pytest.mark.postgres


def test_a_job_queued_while_the_broker_is_down_is_published_by_the_server(api):
    proxy = TcpProxy(("127.0.0.1", 5672))
    proxy.pause()  # the broker is unreachable from this server from the start
    server = Server(api.service, "--broker", proxy.url, "--relay-interval", "1", name="server-relay")
    try:
        c = client(server.url, api.tokens["scan"])
        # options no other test submits (scanners vuln+license), so this is a new job, not a live one reused
        body = {"reference": api.images.side, "authorization": AUTH, "scanners": ["vuln", "license"]}
        r = c.post("/api/v2/scans", json=body)
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] == "queued", job  # committed; the publish failed
        assert c.get(f"/api/v2/jobs/{job['id']}").json()["status"] == "queued"
        proxy.resume()
        # the relay takes rows queued for over 10 s (jobs.RELAY_AFTER), passing every second here
        done = wait_job(c, job["id"], timeout=120, logs=lambda: f"{server.logs()}\n{api.logs()}")
        assert done["status"] == "done", f"{done}\n{server.logs()}\n{api.logs()}"
        assert done["image"], done
    finally:
        server.stop()
        proxy.stop()
