"""A running container as a container scan reports it (`hullscan container`, `hullscan containers`)."""

from __future__ import annotations

from hullscan.record import record


@record(frozen=True)
class ContainerInfo:
    """The report's `container` object: which container, what it runs, and how far it drifted."""

    id: str
    name: str
    image: str
    """The image as the container was created from it (a name or an ID)."""
    image_id: str
    """The image it runs, by ID (its config digest): the image part of the scan."""
    engine: str
    """docker or podman."""
    started_at: str
    created: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    changes: int = 0
    """Paths the engine lists as changed since the container started (added, changed, deleted)."""
    drift: bool = False
    """Whether its packages differ from its image's (some package installed, upgraded, downgraded or
    removed at runtime: delta/compare.py over the image's report and the container's)."""
    added: tuple[str, ...] = ()
    """The drift as `name version` (type-qualified, `pypi:requests 2.31.0`): installed at runtime…"""
    removed: tuple[str, ...] = ()
    """…removed at runtime…"""
    changed: tuple[str, ...] = ()
    """…and upgraded or downgraded (`name old -> new`)."""
