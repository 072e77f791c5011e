"""How the catalog names images: a repository in Docker's short form (`debian`, `org/app`,
`ghcr.io/org/base`, `127.0.0.1:5000/test/app`) and tags. `docker.io/library/debian:12`, `debian:12`
and `index.docker.io/library/debian:12` all name the same catalog entry; the grammar (and its
checks) is the registry reference's (image/registry_ref.py)."""

from __future__ import annotations

import os

from hullscan.errors import InputError
from hullscan.image.registry_ref import DOCKER_HUB, parse_reference


def split_name(text: str, what: str = "name") -> tuple[str, str, str]:
    """`NAME[:TAG][@DIGEST]` → (short repository, tag or '', digest or ''). A bad name is an InputError."""
    raw = text.strip()
    if raw.startswith("registry:"):
        raw = raw[len("registry:"):]
    before_digest = raw.partition("@")[0]
    has_tag = ":" in before_digest.rpartition("/")[2]
    try:
        ref = parse_reference(raw)
    except InputError as err:
        raise InputError(f"{what} {text!r}: {str(err).partition(': ')[2] or err}") from None
    return short_repository(ref.registry, ref.repository), ref.tag if has_tag else "", ref.digest


def short_repository(registry: str, repository: str) -> str:
    """Docker's short ("familiar") form of a repository."""
    if registry == DOCKER_HUB:
        return repository.removeprefix("library/") if repository.count("/") == 1 else repository
    return f"{registry}/{repository}"


def default_name(repo_tags: tuple[str, ...], image_name: str) -> tuple[str, tuple[str, ...]] | None:
    """(repository, tags) an image names itself by, or None: its repository tags (a `docker save`'s
    RepoTags, the registry reference's tag; the tags of the first tag's repository), else its name when
    that is a reference with a tag or digest (an OCI layout's `org.opencontainers.image.ref.name`
    written as `debian:12`; a registry image pinned by digest). A name that is only a tag (`latest`) or
    a path names no repository."""
    for candidate in repo_tags:
        try:
            repo, tag, _digest = split_name(candidate)
        except InputError:
            continue
        tags = []
        for other in repo_tags:
            try:
                o_repo, o_tag, _ = split_name(other)
            except InputError:
                continue
            if o_repo == repo and o_tag and o_tag not in tags:
                tags.append(o_tag)
        return repo, tuple(tags)
    text = image_name.strip()
    last = text.partition("@")[0].rpartition("/")[2]
    if (":" in last or "@" in text) and not os.path.exists(text):
        try:
            repo, tag, _digest = split_name(text)
        except InputError:
            return None
        return repo, (tag,) if tag else ()
    return None
