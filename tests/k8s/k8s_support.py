"""Helpers of tests/k8s importable by name (conftest names are ambiguous across directories in a
whole-suite run). A cluster on paper: the real API objects of testdata/kspan (PROVENANCE.md), image references rewritten to
two real registries on 127.0.0.1 (Debian's docker-registry: one open, one with htpasswd basic auth, as
tests/registry starts them) holding images built here, served by the stand-in API server of apiserver.py."""

from __future__ import annotations

import base64
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))
sys.path.insert(0, str(HERE.parent / "registry"))
sys.path.insert(0, str(HERE))

from apiserver import ApiServer, Pki  # noqa: E402
from regserver import Registry  # noqa: E402

PKGDB = HERE.parent / "inventory" / "testdata"  # tests/inventory's data (PROVENANCE.md there)
OBJECTS = HERE / "testdata" / "kspan" / "objects.yaml"
TOKEN = "k8s-test-token-6c1f0e"
USER, PASSWORD = "puller", "pull-Secret-Pa55-k8s"
GHP = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"  # format-valid, fabricated (as tests/secrets uses)
STAGING = {"hello-world", "hello-world-6b9d85fbd6", "hello-world-6b9d85fbd6-klpv2"}
"""deploy1str, replicaSet1str and pod1str: from another cluster than the flux objects, also default/hello-world."""


def pristine() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(OBJECTS.read_text()) if d]


@dataclass
class Cluster:
    objects: list[dict[str, Any]]
    open_reg: Registry
    private_reg: Registry
    nginx_digest: str
    cortex_digest: str
    pki: Pki
    tmp: Path

    def server(self, **kw: Any) -> ApiServer:
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                  "metadata": {"name": "regcred", "namespace": "cortex"},
                  "data": {".dockerconfigjson": base64.b64encode(json.dumps({"auths": {self.private_reg.host: {
                      "auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}).encode()).decode()}}
        return ApiServer(self.pki, self.objects, token=TOKEN, secrets={("cortex", "regcred"): secret}, **kw)

    def kubeconfig(self, server: ApiServer, name: str = "token", *, token: str = TOKEN, client_cert: bool = False) -> Path:
        user: dict[str, Any] = {"token": token} if not client_cert else {
            "client-certificate-data": base64.b64encode(self.pki.client_cert.read_bytes()).decode(),
            "client-key": str(self.pki.client_key)}
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
               "clusters": [{"name": "test", "cluster": {"server": server.url, "certificate-authority": "pki/ca.crt"}}],
               "users": [{"name": "reader", "user": user}],
               "contexts": [{"name": "test", "context": {"cluster": "test", "user": "reader", "namespace": "default"}}]}
        path = self.tmp / f"kubeconfig-{name}.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path


def rewrite(objects: list[dict[str, Any]], open_host: str, private_host: str, nginx: str, cortex: str) -> list[dict[str, Any]]:
    """The objects as this test's cluster holds them: images on the test registries, the pods' imageIDs the
    digests pushed there, the second cluster's hello-world in namespace staging, a pull secret on the
    StatefulSet and its pod, and status.replicas restored where kspan trimmed it (the validator's finding)."""
    out = copy.deepcopy(objects)

    def image(text: str) -> str:
        if text.startswith("nginx:"):
            return f"{open_host}/library/{text}"
        if text.startswith("cortexproject/cortex:"):
            return f"{private_host}/{text}"
        raise AssertionError(text)

    for o in out:
        meta = o["metadata"]
        if meta["namespace"] == "default" and meta["name"] in STAGING and "fluxcd.io/sync-checksum" not in meta.get("annotations", {}):
            meta["namespace"] = "staging"
            meta["selfLink"] = meta["selfLink"].replace("/default/", "/staging/")
        spec = o["spec"] if o["kind"] == "Pod" else o["spec"]["template"]["spec"]
        for c in spec["containers"]:
            c["image"] = image(c["image"])
        if meta["namespace"] == "cortex":
            spec["imagePullSecrets"] = [{"name": "regcred"}]
        for s in o.get("status", {}).get("containerStatuses", []) if o["kind"] == "Pod" else []:
            s["image"] = image(s["image"])
            repo, digest = ((f"{open_host}/library/nginx", nginx) if "nginx" in s["image"]
                            else (f"{private_host}/cortexproject/cortex", cortex))
            s["imageID"] = f"docker-pullable://{repo}@{digest}"
        if o["kind"] == "ReplicaSet" and "replicas" not in o.get("status", {}):
            o["status"]["replicas"] = o["status"]["readyReplicas"]
    return out


