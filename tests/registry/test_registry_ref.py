"""Reference grammar and challenge parsing, against the examples of the distribution reference
grammar (github.com/distribution/reference) and the Docker token-auth spec, written out by hand."""

from __future__ import annotations

import pytest

from hullscan.errors import InputError
from hullscan.image.registry_auth import parse_challenge, resolve_credentials
from hullscan.image.registry_ref import is_loopback, parse_reference

D = "sha256:" + "a" * 64


@pytest.mark.parametrize("text,registry,repo,tag,digest,api", [
    ("alpine", "docker.io", "library/alpine", "latest", "", "registry-1.docker.io"),
    ("alpine:3.19", "docker.io", "library/alpine", "3.19", "", "registry-1.docker.io"),
    ("docker.io/alpine", "docker.io", "library/alpine", "latest", "", "registry-1.docker.io"),
    ("index.docker.io/library/alpine:1", "docker.io", "library/alpine", "1", "", "registry-1.docker.io"),
    ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", "", "registry-1.docker.io"),
    ("ghcr.io/org/team/app:v1.0.0", "ghcr.io", "org/team/app", "v1.0.0", "", "ghcr.io"),
    ("localhost/app", "localhost", "app", "latest", "", "localhost"),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", "", "localhost:5000"),
    ("127.0.0.1:5000/test/app:1.0", "127.0.0.1:5000", "test/app", "1.0", "", "127.0.0.1:5000"),
    (f"127.0.0.1:5000/test/app@{D}", "127.0.0.1:5000", "test/app", "", D, "127.0.0.1:5000"),
    (f"quay.io/a/b:t@{D}", "quay.io", "a/b", "t", D, "quay.io"),
    ("[::1]:5000/x", "[::1]:5000", "x", "latest", "", "[::1]:5000"),
    ("docker://registry.example.com/a_b/c__d-e:T_1", "registry.example.com", "a_b/c__d-e", "T_1", "", "registry.example.com"),
])
def test_parse(text, registry, repo, tag, digest, api):
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest, ref.api_host) == (registry, repo, tag, digest, api)


@pytest.mark.parametrize("text", ["Alpine", "a/B", "host:5000/-x", "x:", "x@sha256:abc", "a//b", "x:.tag", "a/b:" + "t" * 129])
def test_invalid(text):
    with pytest.raises(InputError):
        parse_reference(text)


def test_loopback():
    assert is_loopback("localhost:5000") and is_loopback("127.0.0.1") and is_loopback("127.1.2.3:80") and is_loopback("[::1]:5000")
    assert not is_loopback("10.0.0.1:5000") and not is_loopback("registry.example.com")


def test_challenges():
    c = parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/alpine:pull"}
    assert parse_challenge('Basic realm="basic-realm"').params == {"realm": "basic-realm"}
    assert parse_challenge('Bearer realm="x", scope="repository:a:pull,push"').params["scope"] == "repository:a:pull,push"
    assert parse_challenge("") is None


def test_credentials_never_repr_their_secret(tmp_path):
    creds = resolve_credentials("r.example", env={"HULLSCAN_REGISTRY_USERNAME": "u", "HULLSCAN_REGISTRY_PASSWORD": "pw-1234567",
                                                  "DOCKER_CONFIG": str(tmp_path)})
    assert creds.username == "u" and "pw-1234567" not in repr(creds) and "HULLSCAN_REGISTRY" in creds.source
    assert resolve_credentials("r.example", env={"DOCKER_CONFIG": str(tmp_path)}).anonymous
