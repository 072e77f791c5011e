"""Fuzz: the kubeconfig reader and the API list-response parser (`hullscan k8s`). The contract: any input
ends in a value or a HullscanError (exit 2/3 with one line), never another exception. Seeds: the real
objects of tests/k8s/testdata/kspan, mutated; and kubeconfig-shaped trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import HullscanError
from hullscan.k8s.client import KubeClient
from hullscan.k8s.kubeconfig import ClusterAccess, from_documents
from hullscan.k8s.workloads import KINDS, parse_items, workloads

OBJECTS = [d for d in yaml.safe_load_all((Path(__file__).parents[1] / "k8s/testdata/kspan/objects.yaml").read_text()) if d]
leaf = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=12)
tree = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "cluster", "user", "context", "server", "token", "namespace", "items", "metadata",
                     "spec", "status", "containers", "image", "imageID", "ownerReferences", "kind", "uid",
                     "continue", "template", "exec", "certificate-authority-data", "tokenFile"]) | st.text(max_size=6),
    inner, max_size=4), max_leaves=20)


def _mutate(doc: Any, path: list[str], value: Any) -> Any:
    if not path or not isinstance(doc, dict):
        return value
    key = path[0] if path[0] in doc else next(iter(doc), path[0])
    return {**doc, key: _mutate(doc.get(key), path[1:], value)}


@settings(max_examples=80, derandomize=True, deadline=None)
@given(docs=st.lists(st.dictionaries(st.sampled_from(["current-context", "clusters", "users", "contexts"]), tree, max_size=4),
                     min_size=1, max_size=2),
       context=st.none() | st.text(max_size=4))
def test_fuzz_kubeconfig(docs, context):
    try:
        from_documents([(Path("/nonexistent/kubeconfig"), d) for d in docs], context)
    except HullscanError:
        pass


@settings(max_examples=80, derandomize=True, deadline=None)
@given(seed=st.sampled_from(OBJECTS), path=st.lists(st.sampled_from(["metadata", "spec", "status", "template", "containers",
                                                                     "ownerReferences", "containerStatuses", "name"]), max_size=4),
       value=tree, extra=st.lists(tree, max_size=2))
def test_fuzz_list_items(seed, path, value, extra):
    kind = seed["kind"]
    objs = parse_items(kind, [_mutate(seed, path, value), *extra], lambda _: None)
    workloads(objs)
    assert kind in KINDS


@settings(max_examples=60, derandomize=True, deadline=None)
@given(body=tree | st.binary(max_size=40))
def test_fuzz_list_response(body):
    """Whatever a server answers to a list: items, an ApiError, never a crash or a loop."""
    import json

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = KubeClient(ClusterAccess(server="https://k8s.invalid"))
    client.http.http = httpx.Client(transport=httpx.MockTransport(lambda req: httpx.Response(200, content=data)))
    try:
        list(client.list("/api/v1/pods"))
    except HullscanError:
        pass
    finally:
        client.close()
