"""`hullscan k8s` against the stand-in API server (conftest.py, apiserver.py) and real registries.

Expectations, by hand from testdata/kspan/objects.yaml as conftest.rewrite places them:
- default: Deployment hello-world (flux, uid 06790b30…) owns ReplicaSets hello-world-779cbf9f67 (0 replicas,
  no pod) and hello-world-f77b4f6c8, which owns pod hello-world-f77b4f6c8-6tcj2, Running, imageID = nginx
  digest → one row `default/Deployment/hello-world`, source running.
- staging: Deployment hello-world (uid 4ecf82fc…) owns ReplicaSet hello-world-6b9d85fbd6, which owns pod
  hello-world-6b9d85fbd6-klpv2, Pending (no containerStatuses) → its spec tag nginx:1.19.2-alpine,
  pushed as the same image → the nginx digest again, source spec.
- cortex: StatefulSet ingester owns pod ingester-3, Running, imageID = cortex digest; the image holds one
  GitHub token (/etc/cortex/.env) → one secret, the gate fails with --exit-code.
So: 3 rows, 2 distinct digests, each scanned once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from k8s_support import PASSWORD, TOKEN

from hullscan.cli import main as cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hullscan(tmp_path, monkeypatch, capsys):
    for k in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "HULLSCAN_REGISTRY_USERNAME",
              "HULLSCAN_REGISTRY_PASSWORD", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / "docker").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("HULLSCAN_HTTP_BACKOFF", "0")

    def run(*args: str) -> tuple[int, str, str]:
        try:
            cli.main(["k8s", "--scanners", "secret", "--cache-dir", str(tmp_path / "cache"), "-f", "json", *args])
            code = 0
        except SystemExit as ex:
            code = int(ex.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


def _rows(doc: dict) -> list[tuple[str, str, str, str, str, str, str]]:
    return [(w["namespace"], w["kind"], w["name"], w["container"], w["reference"], w["source"], w["verdict"])
            for w in doc["workloads"]]


def test_all_namespaces_token_auth_pull_secrets_one_scan_per_digest(cluster, hullscan):
    server = cluster.server()
    try:
        before = len(cluster.open_reg.access_log())
        code, out, err = hullscan("--kubeconfig", str(cluster.kubeconfig(server)), "-A", "--pull-secrets", "--exit-code", "1")
    finally:
        server.stop()
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((REPO / "docs" / "k8s.schema.json").read_text()))
    nginx = f"{cluster.open_reg.host}/library/nginx@{cluster.nginx_digest}"
    cortex = f"{cluster.private_reg.host}/cortexproject/cortex@{cluster.cortex_digest}"
    assert _rows(doc) == [
        ("cortex", "StatefulSet", "ingester", "ingester", cortex, "running", "fail"),
        ("default", "Deployment", "hello-world", "hello-world", nginx, "running", "pass"),
        ("staging", "Deployment", "hello-world", "hello-world", nginx, "spec", "pass"),
    ]
    assert [(i["reference"], i["secrets"], i["passed"]) for i in doc["images"]] == [(cortex, 1, False), (nginx, 0, True)]
    assert code == 1  # the cortex workload fails the gate
    assert PASSWORD not in out + err and TOKEN not in out + err
    # dedup, counted at the registry: the tag resolved once, the digest's manifest and each blob fetched once
    log = [(m, p) for m, p, s in cluster.open_reg.access_log()[before:] if s == 200 and m == "GET"]
    assert log.count(("GET", "/v2/library/nginx/manifests/1.19.2-alpine")) == 1
    assert log.count(("GET", f"/v2/library/nginx/manifests/{cluster.nginx_digest}")) == 1
    blobs = [p for _, p in log if "/blobs/" in p]
    assert blobs and len(blobs) == len(set(blobs))
    # pagination: every list longer than the server's page of 2 was read with a continue token
    assert any("continue=" in p for p, _ in server.requests)


def test_client_certificate_over_tls_and_the_contexts_namespace(cluster, hullscan):
    server = cluster.server()
    try:
        code, out, _ = hullscan("--kubeconfig", str(cluster.kubeconfig(server, "cert", client_cert=True)))
    finally:
        server.stop()
    assert code == 0
    assert [r[:3] for r in _rows(json.loads(out))] == [("default", "Deployment", "hello-world")]
    assert all("Authorization" not in p for p, _ in server.requests)


def test_wrong_token_is_exit_3_in_one_line(cluster, hullscan):
    server = cluster.server()
    try:
        code, out, err = hullscan("--kubeconfig", str(cluster.kubeconfig(server, "bad", token="wrong")), "-A")
    finally:
        server.stop()
    assert code == 3 and out == ""
    assert "401 unauthorized" in err and "wrong" not in err


def test_forbidden_namespace_is_left_out_and_exit_3(cluster, hullscan):
    server = cluster.server(forbidden={"cortex"})
    try:
        code, out, err = hullscan("--kubeconfig", str(cluster.kubeconfig(server)), "-n", "cortex", "-n", "default")
    finally:
        server.stop()
    doc = json.loads(out)
    assert [r[:3] for r in _rows(doc)] == [("default", "Deployment", "hello-world")]
    assert len(doc["errors"]) == 7 and all("403 forbidden" in e for e in doc["errors"])  # the 7 lists of cortex
    assert code == 3


def test_private_image_without_pull_secrets_is_an_error_row(cluster, hullscan):
    server = cluster.server()
    try:
        code, out, _ = hullscan("--kubeconfig", str(cluster.kubeconfig(server)), "-n", "cortex")
    finally:
        server.stop()
    [row] = json.loads(out)["workloads"]
    assert row["verdict"] == "error" and "asks for a username and password (auth: anonymous)" in row["error"]
    assert code == 3


def test_selector_and_exclude(cluster, hullscan):
    server = cluster.server()
    try:
        code, out, _ = hullscan("--kubeconfig", str(cluster.kubeconfig(server)), "-A", "--exclude-namespace", "cortex",
                                "-l", "name=hello-world")
    finally:
        server.stop()
    assert code == 0
    assert [r[:3] for r in _rows(json.loads(out))] == [("default", "Deployment", "hello-world"),
                                                        ("staging", "Deployment", "hello-world")]


def test_exec_plugin_is_refused(tmp_path, hullscan):
    cfg = tmp_path / "kc.yaml"
    cfg.write_text("current-context: c\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                   "users: [{name: u, user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}}}]\n"
                   "contexts: [{name: c, context: {cluster: k, user: u}}]\n")
    code, out, err = hullscan("--kubeconfig", str(cfg))
    assert code == 2 and re.search(r"user 'u' logs in through an exec plugin \(aws\)", err)


def test_schema_copies_agree():
    assert (REPO / "docs" / "k8s.schema.json").read_bytes() == (REPO / "src" / "hullscan" / "schemas" / "k8s.schema.json").read_bytes()
