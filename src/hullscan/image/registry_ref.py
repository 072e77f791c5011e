"""Image references: `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`, with Docker's defaults.

The grammar is the distribution reference grammar (github.com/distribution/reference): the first
path component is a registry host when it holds a `.` or a `:` or is `localhost`; otherwise the
image is on Docker Hub, whose one-component names live under `library/`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hullscan.errors import InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPO_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")


@dataclass(frozen=True)
class Reference:
    """A parsed, normalized image reference."""

    registry: str
    """Registry as named (`docker.io`, `ghcr.io`, `127.0.0.1:5000`)."""
    repository: str
    """Repository path (`library/alpine`, `test/app`)."""
    tag: str = ""
    digest: str = ""

    @property
    def api_host(self) -> str:
        """Where the registry API answers (Docker Hub's API host differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What goes after /manifests/: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (with or without a port)."""
    name = host
    if name.startswith("["):
        name = name[1 : name.find("]")]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_reference(text: str) -> Reference:
    """Parse and normalize; an unparsable reference is an InputError naming it."""
    raw = text.strip()
    if raw.startswith("docker://"):  # skopeo spelling
        raw = raw[len("docker://") :]
    ref, digest = raw, ""
    if "@" in ref:
        ref, _, digest = ref.partition("@")
        if not DIGEST_RE.match(digest):
            raise InputError(f"{text}: invalid digest {digest!r} in image reference")
    tag = ""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
        if not TAG_RE.match(tag):
            raise InputError(f"{text}: invalid tag {tag!r} in image reference")
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, repo = first, rest
        if not _HOST_RE.match(registry):
            raise InputError(f"{text}: invalid registry host {registry!r}")
    else:
        registry, repo = DOCKER_HUB, ref
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repo:
        repo = f"library/{repo}"
    if not REPO_RE.match(repo) or len(repo) > 255:
        raise InputError(f"{text}: invalid repository name {repo!r} (lowercase letters, digits, . _ - and /)")
    if not tag and not digest:
        tag = "latest"
    return Reference(registry=registry, repository=repo, tag=tag, digest=digest)


def valid_repository(name: str) -> bool:
    return bool(REPO_RE.match(name)) and len(name) <= 255


def valid_tag(tag: str) -> bool:
    return bool(TAG_RE.match(tag))
