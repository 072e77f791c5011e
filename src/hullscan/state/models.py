"""The state store's tables as SQLAlchemy 2.0 models. A change here needs a migration in
`migrations/versions/` (tests/base/test_catalog.py checks that autogenerate finds nothing missing).

The base image catalog: one `BaseEntry` per image (manifest digest, else config digest) under one
repository name; its tags, its layers in order with their chain IDs, and its packages. Tags are unique per
(repository, platform): adding an image under a tag another image of that repository had moves the tag,
as a registry does. `CatalogState.generation` counts every change of the catalog (it joins the whole-result
cache key of a scan).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DIGEST = 80
"""`sha512:` + 128 hex would not fit; hullscan's images are sha256 (71 characters)."""


# constraint and index names fixed here, not left to each backend: a migration names what it drops
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of the state store (later issues add theirs here, each with a migration)."""

    metadata = MetaData(naming_convention=NAMING)


class CatalogState(Base):
    """One row (id 1): the catalog's generation, bumped in the transaction of every change."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)


class BaseEntry(Base):
    """One catalogued base image."""

    __tablename__ = "base_entry"
    __table_args__ = (UniqueConstraint("name", "image_key", name="uq_base_entry_name_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    """Repository in Docker's short form: `debian`, `ghcr.io/org/base`, `127.0.0.1:5000/test/app`."""
    image_key: Mapped[str] = mapped_column(String(DIGEST), nullable=False)
    """The image's identity: its manifest digest, else its config digest (DESIGN.md)."""
    manifest_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    """'' when the source has none (a classic `docker save`)."""
    config_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    os: Mapped[str] = mapped_column(String(32), nullable=False)
    architecture: Mapped[str] = mapped_column(String(32), nullable=False)
    variant: Mapped[str] = mapped_column(String(32), nullable=False)
    created: Mapped[str | None] = mapped_column(String(40))
    """The config's `created` (RFC 3339), when it has one."""
    os_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    """The OS release's id as advisory feeds key it (`debian`, `alpine`); '' when none was found."""
    os_version: Mapped[str] = mapped_column(String(64), nullable=False)
    """The OS version as the image states it (`12.5`, `3.19.1`)."""
    os_release: Mapped[str] = mapped_column(String(64), nullable=False)
    """The release feeds key (`12`, `v3.19`)."""
    layer_count: Mapped[int] = mapped_column(Integer, nullable=False)
    package_keys: Mapped[int] = mapped_column(Integer, nullable=False)
    """Distinct (ecosystem, name, version) of its packages: the denominator of "similar" (catalog.py)."""
    package_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    """Its package rows (a multi-arch package counts per arch): of equal overlaps, the larger wins."""
    top_chain_id: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    """The chain ID of the top layer: equal to an image's chain ID at the same depth exactly when this
    base's layers are the image's bottom layers, so one indexed IN finds every catalogued prefix."""
    added_at: Mapped[str] = mapped_column(String(40), nullable=False)
    """When it was first added (UTC, RFC 3339)."""
    updated_at: Mapped[str] = mapped_column(String(40), nullable=False)
    """When it was last added again (tags updated)."""


class BaseTag(Base):
    """A tag of a catalogued image; unique per repository and platform."""

    __tablename__ = "base_tag"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(100), primary_key=True)
    tag: Mapped[str] = mapped_column(String(128), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("base_entry.id", ondelete="CASCADE"), nullable=False, index=True)


class BaseLayer(Base):
    """A layer of a catalogued image, bottom first."""

    __tablename__ = "base_layer"

    entry_id: Mapped[int] = mapped_column(ForeignKey("base_entry.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    diff_id: Mapped[str] = mapped_column(String(DIGEST), nullable=False)
    chain_id: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)


class BasePackage(Base):
    """A package of a catalogued image's inventory (what "similar" matching and upgrade advice read)."""

    __tablename__ = "base_package"
    # by entry (advice, export); by (ecosystem, name, version) for "similar": one index probe per package of the image
    __table_args__ = (Index("ix_base_package_entry", "entry_id"),
                      Index("ix_base_package_key", "ecosystem", "name", "version", "entry_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("base_entry.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    """purl type: deb, rpm, apk, pypi…"""
    ecosystem: Mapped[str] = mapped_column(String(100), nullable=False)
    """OSV ecosystem as matching keys it (`Debian:12`, `PyPI`)."""
    name: Mapped[str] = mapped_column(String(400), nullable=False)
    version: Mapped[str] = mapped_column(String(200), nullable=False)
    arch: Mapped[str] = mapped_column(String(32), nullable=False)
    source_name: Mapped[str] = mapped_column(String(400), nullable=False)
    source_version: Mapped[str] = mapped_column(String(200), nullable=False)
    purl: Mapped[str] = mapped_column(Text, nullable=False)
