"""deploy/ checked offline with the tools' own validators: the compose file by `docker-compose config` (Debian's
docker-compose 1.29, scripts/test installs it), the Kubernetes manifests against the API's JSON schemas
(kubernetes-validate, strict: an unknown field is a finding); and what the docs promise of them: every
process of the service, health checks, probes on /readyz and /healthz, exactly one beat."""

from __future__ import annotations

import json
import subprocess

import yaml

from testsupport import REPO, require_module, require_tool

DEPLOY = REPO / "deploy"


def test_compose_file_is_valid_and_complete() -> None:
    exe = require_tool("docker-compose")
    p = subprocess.run([exe, "-f", str(DEPLOY / "docker-compose.yml"), "--profile", "redis-broker", "config"],
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert p.returncode == 0, p.stderr
    config = yaml.safe_load(p.stdout)
    services = config["services"]
    assert set(services) == {"postgres", "rabbitmq", "redis", "db-init", "server", "worker", "beat"}
    for name in ("postgres", "rabbitmq", "redis", "server", "worker", "beat"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert services["server"]["healthcheck"]["test"][-1].endswith("'http://127.0.0.1:8080/readyz', timeout=3)")
    assert "--beat" in services["beat"]["command"] and "--beat" not in services["worker"]["command"]
    for name in ("server", "worker", "beat", "db-init"):
        env = services[name]["environment"]
        assert env["HULLSCAN_STATE_URL"].startswith("postgresql://") and env["HULLSCAN_CACHE_URL"].startswith("postgresql://")
        assert env["HULLSCAN_BROKER_URL"].startswith("amqp://")
    assert services["worker"]["depends_on"]["db-init"]["condition"] == "service_completed_successfully"


def test_kubernetes_manifests_validate() -> None:
    kv = require_module("kubernetes_validate")
    objects = [o for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for o in yaml.safe_load_all(path.read_text()) if o]
    findings = []
    for o in objects:
        try:
            kv.validate(o, "1.37.0", strict=True)
        except kv.ValidationError as err:
            findings.append((o["kind"], o["metadata"]["name"], err.message))
    assert findings == []
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    server = by_name[("Deployment", "hullscan-server")]["spec"]["template"]["spec"]["containers"][0]
    assert (server["readinessProbe"]["httpGet"]["path"], server["livenessProbe"]["httpGet"]["path"]) == ("/readyz", "/healthz")
    beat = by_name[("Deployment", "hullscan-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    assert "--beat" in beat["template"]["spec"]["containers"][0]["args"]
    for name in ("hullscan-worker", "hullscan-beat"):
        container = by_name[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["exec"]["command"] and container["readinessProbe"]["exec"]["command"]
        assert {"configMapRef": {"name": "hullscan"}} in container["envFrom"]
        assert {"secretRef": {"name": "hullscan"}} in container["envFrom"]
    secret = by_name[("Secret", "hullscan")]["stringData"]
    assert set(secret) >= {"HULLSCAN_STATE_URL", "HULLSCAN_DB_URL", "HULLSCAN_CACHE_URL", "HULLSCAN_BROKER_URL",
                           "HULLSCAN_JOB_KEY"}
    json.dumps(objects)  # plain data: no YAML anchors or tags a strict loader would refuse
