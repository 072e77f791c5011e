"""`hullscan k8s`: list the workloads, resolve every image to a digest, scan each distinct digest once through
the registry, and map the results back to one row per workload container (the CLI only parses and prints).

Order of work: every list first (a 401 ends the run; a 403 or 404 on one list is a warning and that list
is left out), then the images: a running container's digest as its status reports it, a spec tag
resolved to the digest its registry serves now (one manifest request). Images sharing a digest are
scanned once, whatever their workloads, repositories or tags; the per-layer and whole-result caches
make a rerun cheap. With --pull-secrets, a workload's imagePullSecrets are read
(`/api/v1/namespaces/NS/secrets/NAME`) and used for that workload's images only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hullscan.errors import ExitCode, HullscanError, InputError
from hullscan.image.manifest import MAX_DOCUMENT
from hullscan.image.registry import MANIFEST_ACCEPT
from hullscan.image.registry_auth import Credentials, resolve_credentials
from hullscan.image.registry_client import RegistryClient, digest_of
from hullscan.image.registry_ref import Reference, parse_reference
from hullscan.k8s.client import ApiError, KubeClient, namespaced
from hullscan.k8s.pullsecrets import credentials as secret_credentials
from hullscan.k8s.workloads import ContainerImage, K8sObject, Workload, parse_items, workloads
from hullscan.model.report import Report
from hullscan.record import replace
from hullscan.scan.service import ScanService

SCHEMA_VERSION = "1.0"
"""Of docs/k8s.schema.json; grows by extension like the report's."""
RESOURCES = (("/api/v1", "pods", "Pod"), ("/apis/apps/v1", "deployments", "Deployment"),
             ("/apis/apps/v1", "statefulsets", "StatefulSet"), ("/apis/apps/v1", "daemonsets", "DaemonSet"),
             ("/apis/apps/v1", "replicasets", "ReplicaSet"), ("/apis/batch/v1", "jobs", "Job"),
             ("/apis/batch/v1", "cronjobs", "CronJob"))
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")

Judge = Callable[[Report], tuple[Report, int]]
"""A scanned report -> (the report as displayed, its gate's exit code: 0 passed)."""


@dataclass
class ImageResult:
    """One distinct digest, scanned once."""

    reference: str
    """REGISTRY/REPO@sha256:… as scanned."""
    packages: int = 0
    severities: dict[str, int] = field(default_factory=dict)
    secrets: int = 0
    gate_code: int = 0
    """The gate's exit code for this image (0: passed)."""
    error: str = ""
    exit_code: int = 0
    """Why it could not be scanned (2 unreadable, 3 registry, 4 DB); 0 when it was."""
    seconds: float = 0.0


@dataclass
class Row:
    """One workload container and the image it runs."""

    namespace: str
    kind: str
    name: str
    container: str
    container_type: str
    image: str
    reference: str = ""
    source: str = ""
    """running (the pod's imageID) or spec (the tag, resolved now)."""
    result: ImageResult | None = None
    error: str = ""
    exit_code: int = 0

    @property
    def verdict(self) -> str:
        if self.error or self.result is None or self.result.error:
            return "error"
        return "fail" if self.result.gate_code else "pass"


@dataclass
class K8sRun:
    cluster: str
    namespaces: list[str] | None
    """None: every namespace."""
    rows: list[Row]
    images: list[ImageResult]
    warnings: list[str]
    list_errors: list[tuple[str, int]]
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """The first failure that is not a verdict (a forbidden list, an image that could not be resolved or
        scanned), else the gate's code of the first workload that failed it, else 0."""
        for _, code in self.list_errors:
            return code
        for r in self.rows:
            code = r.exit_code or (r.result.exit_code if r.result is not None else 0)
            if code:
                return code
        return next((r.result.gate_code for r in self.rows if r.result is not None and r.result.gate_code), 0)


def list_objects(client: KubeClient, namespaces: list[str] | None, exclude: list[str], selector: str,
                 warn: Callable[[str], None], errors: list[tuple[str, int]]) -> list[K8sObject]:
    """Every pod and workload object of the namespaces (None: the whole cluster), less the excluded ones."""
    out: list[K8sObject] = []
    for ns in namespaces if namespaces is not None else [None]:
        for group, resource, kind in RESOURCES:
            path = namespaced(group, resource, ns)
            try:
                items = list(client.list(path, selector=selector))
            except ApiError as err:
                if err.status == 401:
                    raise
                warn(f"{err}; left out")
                if err.status != 404:  # 404: an API the cluster does not serve, nothing is missing
                    errors.append((str(err), ExitCode.IO_FAILURE))
                continue
            out += parse_items(kind, items, warn)
    return [o for o in out if o.namespace not in exclude]


@dataclass
class _Resolver:
    """Image references to digests, with the credentials each workload may use; registry clients kept
    for the run (their tokens too)."""

    service: ScanService
    kube: KubeClient
    pull_secrets: bool
    warn: Callable[[str], None]
    clients: dict[tuple[str, Credentials | None], RegistryClient] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    tags: dict[tuple[str, Credentials | None], str] = field(default_factory=dict)

    def close(self) -> None:
        for c in self.clients.values():
            c.close()

    def credentials(self, workload: Workload, ref: Reference) -> Credentials | None:
        """The first of the workload's pull secrets with an entry for the image's registry."""
        if not self.pull_secrets:
            return None
        for name in workload.pull_secrets:
            key = (workload.namespace, name)
            if key not in self.secrets:
                try:
                    self.secrets[key] = self.kube.get(namespaced("/api/v1", f"secrets/{name}", workload.namespace))
                except ApiError as err:
                    self.warn(f"pull secret {workload.namespace}/{name}: {err}")
                    self.secrets[key] = None
            secret = self.secrets[key]
            if secret is None:
                continue
            try:
                found = secret_credentials(secret, ref.registry, f"pull secret {workload.namespace}/{name}")
            except InputError as err:
                self.warn(str(err))
                self.secrets[key] = None
                continue
            if found is not None:
                return found
        return None

    def digest(self, ref: Reference, creds: Credentials | None) -> str:
        """The digest the registry serves for a tag now (the manifest's own hash, not a header)."""
        key = (str(ref), creds)
        if key not in self.tags:
            client = self._client(ref, creds)
            data, _ = client.fetch_document(f"/v2/{ref.repository}/manifests/{ref.tag}", ref.repository, MANIFEST_ACCEPT,
                                            f"manifest {ref.tag!r}", MAX_DOCUMENT)
            self.tags[key] = digest_of(data, "sha256:")
        return self.tags[key]

    def _client(self, ref: Reference, creds: Credentials | None) -> RegistryClient:
        key = (ref.registry, creds)
        if key not in self.clients:
            src = self.service.options.source
            use = creds or resolve_credentials(ref.registry, src.username, src.password)
            self.clients[key] = RegistryClient(ref.api_host, use, insecure=src.insecure, name=ref.registry)
        return self.clients[key]


def run(client: KubeClient, service: ScanService, judge: Judge, *, namespaces: list[str] | None, exclude: list[str],
        selector: str, pull_secrets: bool, say: Callable[[str], None]) -> K8sRun:
    started = time.perf_counter()
    if service.open_db is not None:  # a missing DB would fail every image: say it once, before any pull
        service.open_db().close()
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        say(f"warning: {msg}")

    errors: list[tuple[str, int]] = []
    found = workloads(list_objects(client, namespaces, exclude, selector, warn, errors))
    say(f"{len(found)} workloads, {sum(len(w.images) for w in found)} containers")
    resolver = _Resolver(service, client, pull_secrets, warn)
    rows: list[Row] = []
    to_scan: dict[str, tuple[str, Credentials | None]] = {}
    """digest -> (REGISTRY/REPO@digest to scan, its credentials): the first workload's that names it."""
    try:
        for w in found:
            for img in w.images:
                row = _row(w, img)
                rows.append(row)
                try:
                    ref = parse_reference(img.running or img.image)
                    creds = resolver.credentials(w, ref)
                    digest = ref.digest or resolver.digest(ref, creds)
                except HullscanError as err:
                    row.error, row.exit_code = str(err), err.exit_code
                    continue
                row.reference = f"{ref.name}@{digest}"
                to_scan.setdefault(digest, (row.reference, creds))
    finally:
        resolver.close()
    results: dict[str, ImageResult] = {}
    for n, (digest, (reference, creds)) in enumerate(to_scan.items(), 1):
        results[digest] = _scan(reference, creds, service, judge)
        res = results[digest]
        say(f"[{n}/{len(to_scan)}] {reference}: {res.error or f'{res.packages} packages'}")
    for row in rows:
        if row.reference:
            row.result = results[row.reference.rpartition("@")[2]]
    return K8sRun(cluster=client.access.server, namespaces=namespaces, rows=rows, images=list(results.values()),
                  warnings=warnings, list_errors=errors, seconds=round(time.perf_counter() - started, 3))


def _row(w: Workload, img: ContainerImage) -> Row:
    return Row(w.namespace, w.kind, w.name, img.container, img.type, img.image,
               source="running" if img.running else "spec")


def _scan(reference: str, creds: Credentials | None, service: ScanService, judge: Judge) -> ImageResult:
    res = ImageResult(reference)
    started = time.perf_counter()
    if creds is not None:  # the pull secret's account, for this image only
        source = replace(service.options.source, username=creds.username, password=creds.password)
        service = replace(service, options=replace(service.options, source=source))
    try:
        shown, res.gate_code = judge(service.scan(f"registry:{reference}"))
    except HullscanError as err:
        res.error, res.exit_code = str(err), err.exit_code
    else:
        res.packages = len(shown.packages)
        for v in shown.vulnerabilities:
            res.severities[v.severity] = res.severities.get(v.severity, 0) + 1
        res.secrets = len(shown.secrets)
    res.seconds = round(time.perf_counter() - started, 3)
    return res


def document(result: K8sRun) -> dict[str, Any]:
    """The JSON document (docs/k8s.schema.json)."""
    def image(r: ImageResult) -> dict[str, Any]:
        return {"reference": r.reference, "packages": r.packages, "vulnerabilities": _counts(r.severities),
                "secrets": r.secrets, "passed": None if r.error else not r.gate_code, "error": r.error,
                "seconds": r.seconds}

    return {
        "schema_version": SCHEMA_VERSION,
        "cluster": result.cluster,
        "namespaces": result.namespaces,
        "workloads": [
            {"namespace": r.namespace, "kind": r.kind, "name": r.name, "container": r.container,
             "container_type": r.container_type, "image": r.image, "reference": r.reference, "source": r.source,
             "verdict": r.verdict,
             "vulnerabilities": _counts(r.result.severities if r.result is not None else {}),
             "secrets": r.result.secrets if r.result is not None else 0,
             "error": r.error or (r.result.error if r.result is not None else "")}
            for r in result.rows
        ],
        "images": [image(r) for r in result.images],
        "warnings": result.warnings,
        "errors": [msg for msg, _ in result.list_errors],
        "seconds": result.seconds,
    }


def _counts(severities: dict[str, int]) -> dict[str, int]:
    return {s.lower(): severities.get(s, 0) for s in SEVERITIES}
