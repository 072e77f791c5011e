"""Auth on every route of the real server: no route but health answers without a token, an unknown or
revoked token is 401, a token without the route's scope is 403 (scopes are a ladder: read < scan < admin).
The table below is written by hand and must name every operation of /openapi.json, so a new route cannot
go unchecked. Tokens are made by `hullscan token create` and stored only as their sha256."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from api_support import HULLSCAN, client

pytestmark = pytest.mark.postgres

SCOPE = {
    ("post", "/api/v2/scans"): "scan",
    ("post", "/api/v2/scans/upload"): "scan",
    ("get", "/api/v2/jobs"): "read",
    ("get", "/api/v2/jobs/{job_id}"): "read",
    ("get", "/api/v2/jobs/{job_id}/report"): "read",
    ("post", "/api/v2/rescans"): "scan",
    ("get", "/api/v2/formats"): "read",
    ("get", "/api/v2/images"): "read",
    ("get", "/api/v2/images/{digest}"): "read",
    ("get", "/api/v2/images/{digest}/report"): "read",
    ("get", "/api/v2/findings"): "read",
    ("get", "/api/v2/bases"): "read",
    ("post", "/api/v2/bases"): "admin",
    ("delete", "/api/v2/bases"): "admin",
    ("get", "/api/v2/policies"): "read",
    ("put", "/api/v2/policies/{name}"): "admin",
    ("get", "/api/v2/policies/{name}"): "read",
    ("delete", "/api/v2/policies/{name}"): "admin",
    ("get", "/api/v2/webhooks"): "admin",
    ("post", "/api/v2/webhooks"): "admin",
    ("delete", "/api/v2/webhooks/{name}"): "admin",
    # not in our document: the Harbor API (its own spec) and the document itself
    ("get", "/api/v1/metadata"): "scan",
    ("post", "/api/v1/scan"): "scan",
    ("get", "/api/v1/scan/{scan_request_id}/report"): "scan",
    ("get", "/openapi.json"): "read",
}
OPEN = {("get", "/healthz"), ("get", "/readyz")}
LADDER = ("read", "scan", "admin")


def _path(template: str) -> str:
    return (template.replace("{job_id}", "00000000-0000-0000-0000-000000000000").replace("{digest}", "sha256:ffff")
            .replace("{name}", "nothing").replace("{scan_request_id}", "x"))


def test_every_route_checks_its_token(api):
    doc = client(api.url, api.tokens["read"]).get("/openapi.json").json()
    operations = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert operations - OPEN == {k for k in SCOPE if not k[1].startswith("/api/v1") and k[1] != "/openapi.json"}
    for (method, template), scope in SCOPE.items():
        path = _path(template)
        for token, want in ((None, 401), ("hst_abc_not-a-token", 401), ("Basic-not-bearer", 401)):
            c = client(api.url, None)
            headers = {"Authorization": "Basic YTpi"} if token == "Basic-not-bearer" else (
                {"Authorization": f"Bearer {token}"} if token else {})
            r = c.request(method.upper(), path, headers=headers)
            assert r.status_code == want, (method, path, token, r.status_code, r.text)
            if path.startswith("/api/v2"):
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["www-authenticate"].startswith("Bearer")
        for lower in LADDER[:LADDER.index(scope)]:
            r = client(api.url, api.tokens[lower]).request(method.upper(), path)
            assert r.status_code == 403, (method, path, lower, r.status_code, r.text)
        r = client(api.url, api.tokens[scope]).request(method.upper(), path)
        assert r.status_code not in (401, 403), (method, path, scope, r.status_code, r.text)
    for method, path in OPEN:
        assert client(api.url, None).request(method.upper(), path).status_code == 200


def test_token_cli_create_list_revoke(api):
    env = api.service.env
    state = env["HULLSCAN_STATE_URL"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([*HULLSCAN, "token", *args, "--state", state], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return p

    made = json.loads(run("create", "--scope", "read,scan", "--name", "ci", "--format", "json").stdout)
    assert made["scopes"] == ["read", "scan"] and made["token"].startswith("hst_")
    harbor = run("create", "--harbor").stdout.strip()
    listed = json.loads(run("list", "--format", "json").stdout)["tokens"]
    assert {"ci", "harbor"} <= {t["name"] for t in listed}
    assert made["token"] not in json.dumps(listed)  # a token is shown once, never listed
    table = subprocess.run([*HULLSCAN, "token", "list", "--state", state], capture_output=True, text=True,
                           env={**env, "COLUMNS": "80"}, timeout=120)
    assert table.returncode == 0 and made["id"] in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80  # DESIGN "Tables"

    # at rest: only its sha256
    import psycopg

    with psycopg.connect(state) as conn:
        rows = conn.execute("SELECT secret_hash, scopes FROM hullscan_state.service_token WHERE id = %s",
                            (made["id"],)).fetchall()
    assert rows == [(hashlib.sha256(made["token"].encode()).hexdigest(), "read scan")]

    c = client(api.url, made["token"])
    assert c.get("/api/v2/jobs").status_code == 200
    assert c.post("/api/v2/bases", json={"image": "sha256:ffff"}).status_code == 403
    assert client(api.url, harbor).get("/api/v1/metadata").status_code == 200
    assert run("revoke", made["id"]).stdout.startswith(f"revoked {made['id']}")
    assert c.get("/api/v2/jobs").status_code == 401
    p = subprocess.run([*HULLSCAN, "token", "create", "--scope", "root", "--state", state], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 2 and "root" in p.stderr
