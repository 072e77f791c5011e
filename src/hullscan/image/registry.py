"""`registry:REF` and bare references: an Image pulled straight from an OCI registry.

Only the manifest(s) and the config are fetched here, each checked against its digest. Layer
blobs are not: each Layer's opener streams the blob off the socket when the walker asks, and the
walker asks only for layers whose facts the per-layer cache does not already hold (walk/layers.py
consults the cache by diff_id first; `local=False` means cached facts are trusted without a fetch,
which is sound because the diff_ids come from a config verified against the manifest's digest).
blobs.py verifies each streamed blob's digest, size and diff_id.
"""

from __future__ import annotations

import json
import platform as _pf
import re
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlparse

from hullscan.errors import InputError
from hullscan.image.manifest import MAX_DOCUMENT, check_index, check_manifest, load_json, parse_config, select_manifest
from hullscan.image.model import DOCKER_SCHEMA1, INDEX_TYPES, OCI_INDEX, Image, Platform
from hullscan.image.oci_layout import build_image
from hullscan.image.registry_auth import resolve_credentials
from hullscan.image.registry_client import RegistryClient, digest_of
from hullscan.image.registry_ref import Reference, parse_reference

MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        *DOCKER_SCHEMA1,  # accepted only to recognize them and refuse clearly
    )
)
MAX_INDEX_DEPTH = 4
LIST_PAGE = 1000
MAX_LIST_PAGES = 1000


def host_platform() -> Platform:
    """linux on this machine's architecture, in OCI spelling."""
    machine = _pf.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
            "armv6l": "arm", "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64"}.get(machine, machine)
    variant = {"armv7l": "v7", "armv6l": "v6"}.get(machine, "")
    return Platform("linux", arch, variant)


def connect(registry: str, *, insecure: bool = False, username: str = "", password: str = "") -> RegistryClient:
    """A client for one registry with the first credentials found (registry_auth's order)."""
    ref = parse_reference(f"{registry}/x")  # normalizes docker.io spellings
    creds = resolve_credentials(ref.registry, username, password)
    return RegistryClient(ref.api_host, creds, insecure=insecure, name=ref.registry)


def open_registry(text: str, *, input_ref: str, options: Any) -> Image:
    """Open REF from its registry (options: SourceOptions with platform, insecure, username, password)."""
    ref = parse_reference(text)
    client = connect(ref.registry, insecure=bool(getattr(options, "insecure", False)),
                     username=getattr(options, "username", "") or "", password=getattr(options, "password", "") or "")
    try:
        image = fetch_image(client, ref, input_ref=input_ref, platform=getattr(options, "platform", None))
    except BaseException:
        client.close()
        raise
    image.closers.append(client.close)
    return image


def fetch_image(client: RegistryClient, ref: Reference, *, input_ref: str, platform: Platform | None = None) -> Image:
    repo = ref.repository
    data, ctype, top_digest = _manifest(client, repo, ref.reference, "manifest " + (ref.digest or repr(ref.tag)))
    doc = load_json(data, client.where(repo) + f": manifest {ref.reference}")
    depth = 0
    while _is_index(doc, ctype):
        depth += 1
        if depth > MAX_INDEX_DEPTH:
            raise client.fail(repo, f"image indexes nested more than {MAX_INDEX_DEPTH} deep", input_error=True)
        entries = check_index(doc, client.scrub(f"{client.where(repo)}: image index {ref.reference}"))
        real = [e for e in entries if (e.get("platform") or {}).get("os") != "unknown"]  # attestations
        want = platform or host_platform()
        try:
            entry = select_manifest(real or entries, client.where(repo), platform=want)
        except InputError as err:
            if platform is None:
                raise InputError(f"{err} (default platform {want}; choose with --platform)") from None
            raise
        digest = entry["digest"]
        data, ctype, _ = _manifest(client, repo, digest, f"manifest {digest[:19]}…", expect_size=entry.get("size"))
        doc = load_json(data, client.where(repo) + f": manifest {digest[:19]}")
    manifest_digest = digest_of(data, "sha256:")
    if ctype in DOCKER_SCHEMA1 or (isinstance(doc, dict) and doc.get("schemaVersion") == 1):
        raise client.fail(repo, f"manifest {ref.reference} is Docker schema 1, which is unsupported "
                                "(deprecated since 2017; re-push the image with a current client)", input_error=True)
    label = client.where(repo)
    manifest = check_manifest(doc, f"{label}: manifest {manifest_digest[:19]}")
    cdesc = manifest["config"]
    config_digest = cdesc["digest"]
    cfg_bytes, _ = client.fetch_verified(
        f"/v2/{repo}/blobs/{config_digest}", repo, "*/*", f"config {config_digest[:19]}…", config_digest, MAX_DOCUMENT
    )
    if isinstance(cdesc.get("size"), int) and cdesc["size"] != len(cfg_bytes):
        raise client.fail(repo, f"config is {len(cfg_bytes)} bytes, manifest says {cdesc['size']}", input_error=True)
    config = parse_config(cfg_bytes, f"{label}: config {config_digest[:19]}")
    if platform is not None:
        platform.check_config(config, client.scrub(f"{label}: {ref}"))
    store = _RemoteStore(client, repo, label)
    store.sizes = {d["digest"]: d["size"] for d in manifest["layers"] if isinstance(d.get("size"), int) and d["size"] >= 0}
    image = build_image(
        store, manifest, config, config_digest, manifest_digest,  # type: ignore[arg-type]  # has what build_image uses of a _Store
        input_ref=input_ref, source_type="registry", name=str(ref) if not ref.digest else f"{ref.name}@{ref.digest}",
    )
    for layer in image.layers:
        layer.local = False
    image.repo_tags = (f"{ref.name}:{ref.tag}",) if ref.tag and not ref.digest else ()
    image.repo_digests = (f"{ref.name}@{top_digest}",)
    return image


class _RemoteStore:
    """What build_image needs of a store: a label, a blob opener and (none: blobs are remote) a location."""

    def __init__(self, client: RegistryClient, repo: str, label: str) -> None:
        self.client, self.repo, self.label = client, repo, label
        self.sizes: dict[str, int] = {}

    def opener(self, digest: str) -> Callable[[], IO[bytes]]:
        def open_blob() -> IO[bytes]:
            return self.client.open_blob(self.repo, digest, self.sizes.get(digest, -1))  # type: ignore[return-value]  # file-like: read, close

        return open_blob

    def location(self, digest: str) -> None:
        return None


def _is_index(doc: Any, ctype: str) -> bool:
    return ctype in INDEX_TYPES or (isinstance(doc, dict) and doc.get("mediaType") in INDEX_TYPES) or (
        isinstance(doc, dict) and isinstance(doc.get("manifests"), list) and "layers" not in doc
    )


def _manifest(client: RegistryClient, repo: str, reference: str, what: str, expect_size: Any = None) -> tuple[bytes, str, str]:
    """Fetch a manifest or index; verify it against the digest asked for, or the one the registry
    announces (Docker-Content-Digest) for a tag. Returns (bytes, media type, digest)."""
    path = f"/v2/{repo}/manifests/{reference}"
    pinned = reference if ":" in reference else ""
    if pinned:
        data, headers = client.fetch_verified(path, repo, MANIFEST_ACCEPT, what, pinned, MAX_DOCUMENT)
    else:
        data, headers = client.fetch_document(path, repo, MANIFEST_ACCEPT, what, MAX_DOCUMENT)
    digest = digest_of(data, pinned or "sha256:")
    announced = headers.get("docker-content-digest", "")
    ctype = headers.get("content-type", "").split(";")[0].strip()
    if announced and not pinned and ctype not in DOCKER_SCHEMA1:  # schema 1 digests cover the unsigned payload
        if digest_of(data, announced) != announced:
            # a cut transfer or a proxy that rewrote the body: fetch once more by the announced digest
            data, headers = client.fetch_verified(f"/v2/{repo}/manifests/{announced}", repo, MANIFEST_ACCEPT, what, announced, MAX_DOCUMENT)
            digest = announced
    if isinstance(expect_size, int) and expect_size != len(data):
        raise client.fail(repo, f"{what} is {len(data)} bytes, the index says {expect_size}", input_error=True)
    if ctype in ("", "application/json", "text/plain", "application/octet-stream"):
        try:
            mt = json.loads(data).get("mediaType", "")
            ctype = mt if isinstance(mt, str) else ""
        except (ValueError, AttributeError):
            ctype = ""
    return data, ctype, digest


# -- listing (hullscan registry scan) -------------------------------------------------------------

def list_repositories(client: RegistryClient) -> list[str]:
    """Every repository of the catalog (paginated with `n` and the Link header)."""
    return _paged(client, "", f"/v2/_catalog?n={LIST_PAGE}", "repositories", "catalog")


def list_tags(client: RegistryClient, repo: str) -> list[str]:
    return _paged(client, repo, f"/v2/{repo}/tags/list?n={LIST_PAGE}", "tags", "tag list")


def _paged(client: RegistryClient, repo: str, path: str, key: str, what: str) -> list[str]:
    out: list[str] = []
    seen_paths: set[str] = set()
    for _ in range(MAX_LIST_PAGES):
        seen_paths.add(path)
        data, headers = client.fetch_document(path, repo, "application/json", what, MAX_DOCUMENT)
        doc = load_json(data, f"{client.where(repo)}: {what}")
        items = doc.get(key) if isinstance(doc, dict) else None
        if items is None and isinstance(doc, dict) and key == "tags":
            items = []  # a repository without tags answers "tags": null
        if not isinstance(items, list):
            raise client.fail(repo, f"{what} has no {key!r} list", input_error=True)
        out.extend(str(i) for i in items if isinstance(i, str))
        link = headers.get("link", "")
        m = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", link)
        if not m:
            break
        nxt = m.group(1)
        if nxt.startswith(("http://", "https://")):
            u = urlparse(nxt)
            nxt = u.path + (f"?{u.query}" if u.query else "")
        if nxt in seen_paths:
            break
        path = nxt
    return out
