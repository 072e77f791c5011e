"""Where the cluster is and how to log in: a kubeconfig file (kubectl's format) or the in-cluster config.

A small typed reader instead of the `kubernetes` PyPI client: that client pulls in its own HTTP stack
(urllib3, websocket-client, oauthlib, google-auth) and generated models for every API, while hullscan
needs five fields of one document and already has its HTTP client (retries, TLS, proxies:
`hullscan.http`). Credential plugins (`exec`, `auth-provider`) run programs or talk to identity
providers over the network: they are refused with one line naming the user, never run.

kubectl's rules that apply: KUBECONFIG lists files (`:`-separated), the first file to set a value wins
(current-context, a named cluster/user/context); relative file paths in a kubeconfig are relative to
that file's directory; `*-data` fields are base64 and win over their file fields; a context without a
namespace means `default`.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hullscan.errors import InputError, UsageError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a pod's service-account token, CA and namespace."""
MAX_FILE = 4 * 1024 * 1024
"""A kubeconfig or a file it names larger than this is refused (they are a few KiB)."""


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one API server. The token and key never appear in repr or messages."""

    server: str
    """https://host:port (a path prefix kept: some proxies serve the API under one)."""
    namespace: str = "default"
    """The context's namespace: what `hullscan k8s` lists without --namespace/--all-namespaces."""
    ca_pem: bytes = field(default=b"", repr=False)
    """PEM certificates to trust for the server; empty: the system's (certifi, SSL_CERT_FILE)."""
    insecure: bool = False
    """insecure-skip-tls-verify."""
    client_cert_pem: bytes = field(default=b"", repr=False)
    client_key_pem: bytes = field(default=b"", repr=False)
    token: str = field(default="", repr=False)
    source: str = ""
    """For messages: `kubeconfig ~/.kube/config, context prod` or `in-cluster service account`."""


def default_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """KUBECONFIG's files, else ~/.kube/config."""
    env = os.environ if env is None else env
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path("~/.kube/config").expanduser()]


def load(kubeconfig: str | None = None, context: str | None = None, env: Mapping[str, str] | None = None) -> ClusterAccess:
    """The access of `--kubeconfig F` (or KUBECONFIG, ~/.kube/config) and `--context C` (or current-context);
    inside a pod with no kubeconfig file, the in-cluster config. Exit 2 for a file that cannot be used."""
    env = os.environ if env is None else env
    paths = [Path(kubeconfig).expanduser()] if kubeconfig else default_paths(env)
    existing = [p for p in paths if p.is_file()]
    if kubeconfig and not existing:
        raise InputError(f"{kubeconfig}: no such kubeconfig file")
    if not existing:
        if env.get("KUBERNETES_SERVICE_HOST"):
            return in_cluster(env)
        raise InputError(f"no kubeconfig ({', '.join(str(p) for p in paths)}) and not inside a cluster "
                         "(KUBERNETES_SERVICE_HOST unset); give --kubeconfig FILE")
    return from_documents([(p, read_document(p)) for p in existing], context)


def read_document(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE:
            raise InputError(f"{path}: larger than {MAX_FILE} bytes, not a kubeconfig")
        doc = yaml.safe_load(path.read_bytes())
    except OSError as err:
        raise InputError(f"{path}: cannot read kubeconfig: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not YAML: {str(err).splitlines()[0]}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a kubeconfig is a mapping, found {type(doc).__name__}")
    return doc


def from_documents(docs: list[tuple[Path, dict[str, Any]]], context: str | None = None) -> ClusterAccess:
    """Merge the documents (first wins) and resolve the context."""
    current = ""
    named: dict[str, dict[str, tuple[Path, dict[str, Any]]]] = {"clusters": {}, "users": {}, "contexts": {}}
    for path, doc in docs:
        cur = doc.get("current-context")
        if not current and isinstance(cur, str):
            current = cur
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                raise InputError(f"{path}: {section} is not a list")
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise InputError(f"{path}: an entry of {section} has no name")
                body = entry.get(inner) or {}
                if not isinstance(body, dict):
                    raise InputError(f"{path}: {section} {entry['name']!r}: {inner} is not a mapping")
                named[section].setdefault(entry["name"], (path, body))
    name = context or current
    if not name:
        raise UsageError("the kubeconfig names no current-context; give --context NAME")
    if name not in named["contexts"]:
        known = ", ".join(sorted(named["contexts"])) or "none"
        raise UsageError(f"context {name!r} is not in the kubeconfig (contexts: {known})")
    cpath, ctx = named["contexts"][name]
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if not isinstance(cluster_name, str) or cluster_name not in named["clusters"]:
        raise InputError(f"{cpath}: context {name!r} names cluster {cluster_name!r}, which the kubeconfig lacks")
    kpath, cluster = named["clusters"][cluster_name]
    upath, user = named["users"].get(user_name, (cpath, {})) if isinstance(user_name, str) else (cpath, {})
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise InputError(f"{kpath}: cluster {cluster_name!r} has no https:// server")
    namespace = ctx.get("namespace")
    return ClusterAccess(
        server=server.rstrip("/"),
        namespace=namespace if isinstance(namespace, str) and namespace else "default",
        ca_pem=_data_or_file(cluster, "certificate-authority", kpath, f"cluster {cluster_name!r}"),
        insecure=cluster.get("insecure-skip-tls-verify") is True,
        **_user(user, upath, str(user_name)),
        source=f"kubeconfig {cpath}, context {name}",
    )


def _user(user: dict[str, Any], path: Path, name: str) -> dict[str, Any]:
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin):
            what = user[plugin].get("command") or user[plugin].get("name") if isinstance(user[plugin], dict) else ""
            raise InputError(f"{path}: user {name!r} logs in through an {plugin} plugin ({what or '?'}), which hullscan "
                             "does not run; use a token or a client certificate (docs/k8s.md \"Credentials\")")
    if user.get("username") or user.get("password"):
        raise InputError(f"{path}: user {name!r} uses basic auth, which Kubernetes removed in 1.19; use a token "
                         "or a client certificate")
    token = user.get("token")
    if not isinstance(token, str) or not token:
        token = ""
        token_file = user.get("tokenFile")
        if isinstance(token_file, str) and token_file:
            token = _read(_relative(token_file, path), f"user {name!r} tokenFile").decode().strip()
    cert = _data_or_file(user, "client-certificate", path, f"user {name!r}")
    key = _data_or_file(user, "client-key", path, f"user {name!r}")
    if bool(cert) != bool(key):
        raise InputError(f"{path}: user {name!r} has a client certificate without its key, or a key without its certificate")
    return {"token": token, "client_cert_pem": cert, "client_key_pem": key}


def _data_or_file(body: dict[str, Any], key: str, path: Path, what: str) -> bytes:
    data = body.get(f"{key}-data")
    if isinstance(data, str) and data:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"{path}: {what}: {key}-data is not base64") from None
    name = body.get(key)
    if isinstance(name, str) and name:
        return _read(_relative(name, path), f"{what} {key}")
    return b""


def _relative(name: str, kubeconfig: Path) -> Path:
    p = Path(name).expanduser()
    return p if p.is_absolute() else kubeconfig.parent / p


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE:
            raise InputError(f"{path} ({what}): larger than {MAX_FILE} bytes")
        return path.read_bytes()
    except OSError as err:
        raise InputError(f"{path} ({what}): {err.strerror}") from None


def in_cluster(env: Mapping[str, str] | None = None, root: Path = SERVICE_ACCOUNT) -> ClusterAccess:
    """A pod's own access: KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token, CA and namespace."""
    env = os.environ if env is None else env
    host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise InputError("not inside a cluster: KUBERNETES_SERVICE_HOST is unset")
    token = _read(root / "token", "service-account token").decode().strip()
    ns_file = root / "namespace"
    namespace = ns_file.read_text().strip() if ns_file.is_file() else "default"
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return ClusterAccess(server=f"https://{hostport}", namespace=namespace or "default",
                         ca_pem=_read(root / "ca.crt", "service-account CA"), token=token,
                         source="in-cluster service account")
