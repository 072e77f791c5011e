"""The test cluster's objects are valid Kubernetes objects (kubernetes-validate, the API's OpenAPI schemas),
and the readers' edge cases: kubeconfig rules, imageID forms, owner roll-up."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from k8s_support import pristine, rewrite

from hullscan.errors import InputError, UsageError
from hullscan.k8s.kubeconfig import from_documents, in_cluster, load
from hullscan.k8s.workloads import parse_item, running_reference, workloads
from testsupport import require_module

DIGEST = "sha256:" + "5aa44b407756b274a600c7399418bdfb1d02c33317ae27fd5e8a333afb115db1"


def _findings(objects: list[dict]) -> list[tuple[str, str]]:
    kv = require_module("kubernetes_validate")
    out = []
    for o in objects:
        try:
            kv.validate(o, "1.37.0", strict=True)
        except kv.ValidationError as err:
            out.append((f"{o['kind']} {o['metadata']['name']}", err.message))
    return out


def test_objects_validate_and_the_one_trimmed_field_is_restored():
    # kspan "removed non-vital lines": its hello-world-f77b4f6c8 status lacks `replicas`, which the schema requires
    assert _findings(pristine()) == [("ReplicaSet hello-world-f77b4f6c8", "'replicas' is a required property")]
    assert _findings(rewrite(pristine(), "127.0.0.1:5000", "127.0.0.1:5001", DIGEST, DIGEST)) == []


@pytest.mark.parametrize(("image_id", "expected"), [
    (f"docker-pullable://nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}"),      # dockershim
    (f"docker.io/library/nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}"),      # containerd
    (f"127.0.0.1:5000/team/app@{DIGEST}", f"127.0.0.1:5000/team/app@{DIGEST}"),      # CRI-O, a port
    (DIGEST, ""), (f"docker://{DIGEST}", ""), ("", ""), ("nginx@sha256:short", ""),  # image IDs name no repository
])
def test_running_reference(image_id, expected):
    assert running_reference(image_id) == expected


def test_pods_roll_up_and_workloads_without_pods_keep_their_template():
    objs = [parse_item(o["kind"], o) for o in pristine()]
    got = {(w.namespace, w.kind, w.name): [(i.image, i.running) for i in w.images] for w in workloads(objs)}
    # both hello-world Deployments sit in `default` in the pristine data: pods of either roll up to the one name
    assert got[("default", "Deployment", "hello-world")] == [
        ("nginx:1.19.3-alpine", f"docker.io/library/nginx@{DIGEST}"), ("nginx:1.19.2-alpine", "")]
    assert got[("cortex", "StatefulSet", "ingester")] == [
        ("cortexproject/cortex:master-a2be3d8",
         "docker.io/cortexproject/cortex@sha256:71d6c4e1c1e5efcdfac1c4ae1266ace450d5c29d02568bfd65514336c117fb83")]
    assert set(got) == {("default", "Deployment", "hello-world"), ("cortex", "StatefulSet", "ingester")}
    # the StatefulSet without its pod: the template's tag
    sts = [o for o in objs if o.kind == "StatefulSet"]
    [w] = workloads(sts)
    assert [(i.image, i.running) for i in w.images] == [("cortexproject/cortex:master-813e156", "")]


def test_malformed_item_is_an_input_error():
    with pytest.raises(InputError, match="no pod spec"):
        parse_item("Deployment", {"metadata": {"name": "x", "namespace": "n"}, "spec": {}})


def _kc(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config"
    p.write_text(text)
    return p


def test_kubeconfig_rules(tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(b"CA")
    (tmp_path / "tok").write_text("from-file\n")
    first = _kc(tmp_path, "current-context: a\nclusters: [{name: k, cluster: {server: 'https://h:6443/', "
                          "certificate-authority: certs/ca.pem}}]\nusers: [{name: u, user: {tokenFile: tok}}]\n"
                          "contexts: [{name: a, context: {cluster: k, user: u}}]\n")
    second = tmp_path / "second"
    second.write_text("current-context: b\nclusters: [{name: k, cluster: {server: 'https://other'}}]\n"
                      f"users: [{{name: v, user: {{client-certificate-data: {base64.b64encode(b'C').decode()}, "
                      f"client-key-data: {base64.b64encode(b'K').decode()}}}}}]\n"
                      "contexts: [{name: b, context: {cluster: k, user: v, namespace: team}}]\n")
    a = load(env={"KUBECONFIG": f"{first}:{second}"})
    assert (a.server, a.ca_pem, a.token, a.namespace) == ("https://h:6443", b"CA", "from-file", "default")
    b = load(env={"KUBECONFIG": f"{first}:{second}"}, context="b")  # cluster k: the first file's wins
    assert (b.server, b.client_cert_pem, b.client_key_pem, b.namespace) == ("https://h:6443", b"C", b"K", "team")
    with pytest.raises(UsageError, match="context 'zz' is not in the kubeconfig"):
        load(str(first), "zz")
    with pytest.raises(InputError, match="auth-provider plugin"):
        from_documents([(first, {"current-context": "a", "clusters": [{"name": "k", "cluster": {"server": "https://h"}}],
                                 "users": [{"name": "u", "user": {"auth-provider": {"name": "gcp"}}}],
                                 "contexts": [{"name": "a", "context": {"cluster": "k", "user": "u"}}]})])
    with pytest.raises(InputError, match="no such kubeconfig"):
        load(str(tmp_path / "missing"))


def test_in_cluster(tmp_path):
    for name, text in (("token", "sa-token\n"), ("ca.crt", "CA"), ("namespace", "jobs")):
        (tmp_path / name).write_text(text)
    a = in_cluster({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, tmp_path)
    assert (a.server, a.token, a.ca_pem, a.namespace, a.source) == ("https://10.96.0.1:443", "sa-token", b"CA", "jobs",
                                                                     "in-cluster service account")
    assert "sa-token" not in repr(a)
