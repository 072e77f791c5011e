"""API list items read into workloads and the images their containers run.

What runs is preferred over what is asked for: a pod's `status.containerStatuses[].imageID` names the
image by digest (`docker-pullable://nginx@sha256:…` from dockershim, `docker.io/library/nginx@sha256:…`
from containerd and CRI-O), while `spec.containers[].image` is a tag that may have moved since. A
container without a usable imageID (a pending pod, a runtime reporting only a local image ID) keeps
its spec image, resolved to a digest later.

Pods are reported under the workload that owns them (ownerReferences, the controller first):
ReplicaSet → Deployment, Job → CronJob; a pod whose owner is unknown is reported under that owner's
kind and name; a pod with no owner (or a static pod, owned by its Node) under its own name. A
workload with no pod (scaled to zero, a CronJob between runs) contributes its pod template's images.
A malformed item is skipped and counted, never the end of the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hullscan.errors import InputError
from hullscan.image.registry_ref import parse_reference

KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
CONTAINER_FIELDS = (("containers", "containerStatuses", "container"),
                    ("initContainers", "initContainerStatuses", "init"),
                    ("ephemeralContainers", "ephemeralContainerStatuses", "ephemeral"))
"""(spec field, status field, what the report calls it)."""
_ROLLUP = {"ReplicaSet": "Deployment", "Job": "CronJob"}
"""A controller's kind and the kind of controller it rolls up to when that one is known."""
_IMAGE_ID = re.compile(r"^(?:[a-z-]+://)?(?P<repo>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class Owner:
    kind: str
    name: str
    uid: str


@dataclass(frozen=True)
class ContainerImage:
    container: str
    type: str
    """container, init or ephemeral."""
    image: str
    """As the spec says (`nginx:1.19.3-alpine`)."""
    running: str = ""
    """What runs, `REGISTRY/REPO@sha256:…` from the status's imageID; empty when unknown."""


@dataclass(frozen=True)
class K8sObject:
    """One list item, reduced to what matters here."""

    kind: str
    namespace: str
    name: str
    uid: str
    owners: tuple[Owner, ...]
    """The controller owner first."""
    images: tuple[ContainerImage, ...]
    pull_secrets: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    namespace: str
    kind: str
    name: str
    images: tuple[ContainerImage, ...]
    pull_secrets: tuple[str, ...]


def parse_item(kind: str, item: Any) -> K8sObject:
    """One item of a `KIND`List; InputError (naming the item) when it cannot be read."""
    if not isinstance(item, dict):
        raise InputError(f"{kind}: an item is not an object")
    meta = item.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise InputError(f"{kind}: an item has no metadata.name")
    name, namespace = meta["name"], meta.get("namespace", "")
    where = f"{kind} {namespace}/{name}"
    if not isinstance(namespace, str):
        raise InputError(f"{where}: metadata.namespace is not a string")
    pod_spec = _pod_spec(kind, item, where)
    status = item.get("status") if kind == "Pod" else None
    return K8sObject(kind=kind, namespace=namespace, name=name, uid=_str(meta.get("uid")),
                     owners=_owners(meta.get("ownerReferences"), where),
                     images=_images(pod_spec, status if isinstance(status, dict) else {}, where),
                     pull_secrets=_pull_secrets(pod_spec))


def parse_items(kind: str, items: Iterable[Any], warn: Callable[[str], None]) -> list[K8sObject]:
    out = []
    for item in items:
        try:
            out.append(parse_item(kind, item))
        except InputError as err:
            warn(f"skipped: {err}")
    return out


def running_reference(image_id: str) -> str:
    """`REGISTRY/REPO@sha256:…` of an imageID, or "" when it names no repository digest (a bare image ID
    `sha256:…`, `docker://sha256:…`, or something unreadable)."""
    m = _IMAGE_ID.match(image_id.strip())
    if not m:
        return ""
    try:
        ref = parse_reference(f"{m['repo']}@{m['digest']}")
    except InputError:
        return ""
    return f"{ref.name}@{ref.digest}"


def workloads(objects: list[K8sObject]) -> list[Workload]:
    """The workloads to report, each with the distinct images of its containers (module docstring)."""
    by_uid = {o.uid: o for o in objects if o.uid and o.kind != "Pod"}
    by_name = {(o.namespace, o.kind, o.name): o for o in objects if o.kind != "Pod"}

    def known(namespace: str, owner: Owner) -> K8sObject | None:
        return by_uid.get(owner.uid) or by_name.get((namespace, owner.kind, owner.name))

    def top(obj: K8sObject) -> tuple[str, str]:
        """(kind, name) of the workload an object is reported under."""
        for _ in range(8):  # owner chains are short; a cycle in bad data must not hang
            owner = obj.owners[0] if obj.owners else None
            if owner is None or owner.kind == "Node" or (obj.kind != "Pod" and _ROLLUP.get(obj.kind) != owner.kind):
                break  # no owner, a static pod, or a controller owned by something we do not roll up to
            parent = known(obj.namespace, owner)
            if parent is None:
                return owner.kind, owner.name
            obj = parent
        return obj.kind, obj.name

    images: dict[tuple[str, str, str], list[ContainerImage]] = {}
    secrets: dict[tuple[str, str, str], list[str]] = {}
    for pod in (o for o in objects if o.kind == "Pod"):
        key = (pod.namespace, *top(pod))
        _add(images.setdefault(key, []), pod.images)
        _add(secrets.setdefault(key, []), pod.pull_secrets)
    for ctl in (o for o in objects if o.kind != "Pod"):
        key = (ctl.namespace, *top(ctl))
        if key != (ctl.namespace, ctl.kind, ctl.name) or key in images:
            continue  # rolled up into its owner, or represented by its pods
        images[key] = list(ctl.images)
        secrets[key] = list(ctl.pull_secrets)
    return [Workload(ns, kind, name, tuple(imgs), tuple(secrets.get((ns, kind, name), ())))
            for (ns, kind, name), imgs in sorted(images.items())]


def _add(into: list[Any], items: Iterable[Any]) -> None:
    for x in items:
        if x not in into:
            into.append(x)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _pod_spec(kind: str, item: dict[str, Any], where: str) -> dict[str, Any]:
    path = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}.get(
        kind, ("spec", "template", "spec"))
    node: Any = item
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise InputError(f"{where}: no pod spec at {'.'.join(path)}")
    return node


def _owners(refs: Any, where: str) -> tuple[Owner, ...]:
    if refs is None:
        return ()
    if not isinstance(refs, list):
        raise InputError(f"{where}: metadata.ownerReferences is not a list")
    owners = [(bool(r.get("controller")), Owner(_str(r.get("kind")), _str(r.get("name")), _str(r.get("uid"))))
              for r in refs if isinstance(r, dict) and r.get("kind") and r.get("name")]
    return tuple(o for _, o in sorted(owners, key=lambda c: not c[0]))


def _images(spec: dict[str, Any], status: dict[str, Any], where: str) -> tuple[ContainerImage, ...]:
    out: list[ContainerImage] = []
    for spec_field, status_field, what in CONTAINER_FIELDS:
        containers = spec.get(spec_field) or []
        if not isinstance(containers, list):
            raise InputError(f"{where}: spec.{spec_field} is not a list")
        statuses = status.get(status_field) or []
        ids = {s.get("name"): _str(s.get("imageID")) for s in statuses if isinstance(s, dict)} if isinstance(statuses, list) else {}
        for c in containers:
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("image"), str):
                raise InputError(f"{where}: a container of spec.{spec_field} has no name or image")
            out.append(ContainerImage(c["name"], what, c["image"], running_reference(ids.get(c["name"], ""))))
    if not out:
        raise InputError(f"{where}: the pod spec has no containers")
    return tuple(out)


def _pull_secrets(spec: dict[str, Any]) -> tuple[str, ...]:
    refs = spec.get("imagePullSecrets") or []
    if not isinstance(refs, list):
        return ()
    return tuple(r["name"] for r in refs if isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"])
