"""The state store's tables as SQLAlchemy 2.0 models. A change here needs a migration in
`migrations/versions/` (tests/base/test_catalog.py checks that autogenerate finds nothing missing).

The base image catalog: one `BaseEntry` per image (manifest digest, else config digest) under one
repository name; its tags, its layers in order with their chain IDs, and its packages. Tags are unique per
(repository, platform): adding an image under a tag another image of that repository had moves the tag,
as a registry does. `CatalogState.generation` counts every change of the catalog (it joins the whole-result
cache key of a scan).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Double, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
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


# --- stored inventories (issue #23; state/inventories.py reads and writes them) ---------------------------
#
# An image's packages are stored per layer diff_id, once: every image holding a layer references the same
# `stored_layer` row, so 10,000 images on one Debian base hold one copy of its packages. A layer's packages
# are one compressed JSON document (not a row each): an image is loaded or stored with one read or write
# per layer instead of ~500 row round-trips, and no query ever needs a single package's columns except
# "which layers hold package P", which the narrow `stored_layer_package` index answers.


class StoredImage(Base):
    """One stored image inventory, keyed by its manifest digest, else its config digest."""

    __tablename__ = "stored_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_key: Mapped[str] = mapped_column(String(DIGEST), nullable=False, unique=True)
    manifest_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    """'' when the source has none."""
    config_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    repository: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    """The repository of the name it was last stored under (`docker.io/library/debian`), '' when unnamed."""
    registry_host: Mapped[str] = mapped_column(String(255), nullable=False)
    """That name's registry host (`docker.io`), '' when unnamed or a local source."""
    first_seen: Mapped[str] = mapped_column(String(40), nullable=False)
    """UTC, RFC 3339: when it was first stored."""
    last_seen: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    """When it was last stored (a later scan of the same digest updates it and its names)."""
    policy_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False)
    """sha256 of the policy document it was scanned with ('' when none: the built-in default)."""
    os: Mapped[str] = mapped_column(String(160), nullable=False)
    """`debian 12` as lists show it ('' when no OS was found)."""
    package_count: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    """Everything else a Report needs but its packages, compressed JSON (inventories.py `_ImageDoc`):
    target, layers, config, OS, base, secrets and config findings (masked), history, the policy."""


class StoredImageName(Base):
    """A name (`repository:tag` or `repository@digest`) an image was stored under."""

    __tablename__ = "stored_image_name"

    image_id: Mapped[int] = mapped_column(ForeignKey("stored_image.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    repository: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    tag: Mapped[str] = mapped_column(String(128), nullable=False)
    """'' for a digest reference."""
    last_seen: Mapped[str] = mapped_column(String(40), nullable=False)


class StoredImageLayer(Base):
    """The layers of a stored image in order (bottom first); `idx` -1 is its own pseudo layer (`own:…`):
    the packages of the image that differ from the shared copy of their layer, or that have no layer."""

    __tablename__ = "stored_image_layer"

    image_id: Mapped[int] = mapped_column(ForeignKey("stored_image.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("stored_layer.id"), nullable=False, index=True)


class StoredLayer(Base):
    """One layer's packages, shared by every stored image holding the layer; written once, never changed."""

    __tablename__ = "stored_layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """A surrogate key: what the image->layer rows and the package index repeat (4 bytes, not a diff_id)."""
    diff_id: Mapped[str] = mapped_column(String(DIGEST), nullable=False, unique=True)
    """The layer's diff_id, or `own:<image key>` for an image's own pseudo layer."""
    content_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False)
    """sha256 of `packages` uncompressed: a later image whose view of the layer has the same digest
    shares it without decoding it."""
    package_count: Mapped[int] = mapped_column(Integer, nullable=False)
    packages: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    """The packages the layer introduced, compressed JSON (inventories.py)."""


class StoredLayerPackage(Base):
    """(ecosystem, package name) → the layers holding it: what a rescan asks ("which stored images hold P").
    A package is indexed under its name and, when it has one, its source package name (distro advisories
    are keyed by source package), both as inventories.py `index_key` spells them: the ecosystem without its
    release, the name as the vulnerability DB stores it (PEP 503 for PyPI)."""

    __tablename__ = "stored_layer_package"
    __table_args__ = (Index("ix_stored_layer_package_layer_id", "layer_id"),)

    ecosystem: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    """Text, not a bounded string: a Go module path or a Maven coordinate has no length limit to cut at."""
    layer_id: Mapped[int] = mapped_column(ForeignKey("stored_layer.id", ondelete="CASCADE"), primary_key=True)


# --- notifications (issue #23; hullscan.notify writes and delivers them, docs/notifications.md) ------------
#
# A notification is created once per (image digest, DB change id): its id is their digest, the primary key,
# so a second enqueue of the same pair inserts nothing (no check-then-insert race). Its pages are the exact
# JSON bodies sent; one delivery row per (notification, page, endpoint) carries the retry state and the
# lease a deliverer holds while it sends. Times a deliverer compares are epoch seconds (floats): one clock,
# the deliverer's, injected in tests.


class NotifyEndpoint(Base):
    """A webhook receiving notifications. Its secret is never stored: only where to read it."""

    __tablename__ = "notify_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    secret_env: Mapped[str | None] = mapped_column(String(255))
    """The environment variable holding the HMAC secret (read when sending)."""
    secret_file: Mapped[str | None] = mapped_column(Text)
    """The file holding the HMAC secret (read when sending)."""
    cloudevents: Mapped[bool] = mapped_column(Boolean, nullable=False)
    """Send each page inside a CloudEvents 1.0 structured-mode envelope."""
    added_at: Mapped[str] = mapped_column(String(40), nullable=False)


class Notification(Base):
    """One image's changes after one DB change, created exactly once."""

    __tablename__ = "notification"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """sha256 hex of `<image digest>\\n<change id>` (notify/payload.py `notification_id`)."""
    image_digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False, index=True)
    change_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    """UTC, RFC 3339."""
    verdict_change: Mapped[str] = mapped_column(String(16), nullable=False)
    changes_total: Mapped[int] = mapped_column(Integer, nullable=False)
    page_count: Mapped[int] = mapped_column(Integer, nullable=False)


class NotificationPage(Base):
    """One page of a notification: the JSON body sent (signed as is)."""

    __tablename__ = "notification_page"

    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)


class NotificationDelivery(Base):
    """A page owed to an endpoint: pending (due at `due_at`), delivered, or dead (given up)."""

    __tablename__ = "notification_delivery"
    # what a deliverer claims next: pending rows by due time
    __table_args__ = (Index("ix_notification_delivery_due", "state", "due_at"),)

    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("notify_endpoint.id", ondelete="CASCADE"), primary_key=True)
    page_idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    """`pending`, `delivered` or `dead`."""
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    enqueued_at: Mapped[float] = mapped_column(Double, nullable=False)
    """When it was created (or retried from the dead letters): the give-up age counts from here."""
    due_at: Mapped[float] = mapped_column(Double, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[float | None] = mapped_column(Double)
    """A deliverer sending it holds it until then; another may claim it only afterwards."""
    done_at: Mapped[float | None] = mapped_column(Double)
    """When it was delivered or given up."""
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationAttempt(Base):
    """Every try of a delivery: when, by whom, what came of it, and the backoff chosen after a failure."""

    __tablename__ = "notification_attempt"
    __table_args__ = (Index("ix_notification_attempt_delivery", "notification_id", "endpoint_id", "page_idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), nullable=False)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("notify_endpoint.id", ondelete="CASCADE"), nullable=False)
    page_idx: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[float] = mapped_column(Double, nullable=False)
    owner: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    """`delivered`, `failed` (a retry is scheduled) or `dead`."""
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    wait: Mapped[float | None] = mapped_column(Double)
    """Seconds until the retry (`failed` only)."""


# --- service mode (issue #24; service/jobs.py writes jobs, service/auth.py tokens, docs/service.md) ---------
#
# A job row is the outbox: it is committed before its message is published, so a broker outage leaves it
# `queued` and a relay publishes it later. `live_key` is the idempotency key while the job is not failed
# (NULL once failed): a unique constraint on it makes a second submission of the same (target, options)
# find the existing job, on SQLite and PostgreSQL alike (NULLs never collide), without a partial index.


class ServiceToken(Base):
    """An API bearer token: only its sha256 is stored (the token is shown once, when created)."""

    __tablename__ = "service_token"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    """sha256 hex of the token."""
    scopes: Mapped[str] = mapped_column(String(64), nullable=False)
    """Space-separated of `read`, `scan`, `admin`."""
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    """UTC, RFC 3339."""
    last_used_at: Mapped[str | None] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40))


class ServiceJob(Base):
    """A scan, rescan or DB update job: `queued` → `published` → `running` → `done` | `failed`."""

    __tablename__ = "service_job"
    # the relay's and the lists' query: jobs of a status by age
    __table_args__ = (Index("ix_service_job_status", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    """A UUID."""
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    """`scan`, `rescan` or `db_update`."""
    key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    """sha256 hex of (kind, target, options): the idempotency key."""
    live_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """`key` while the job is not failed, else NULL (section comment)."""
    target: Mapped[str] = mapped_column(Text, nullable=False)
    """JSON: {"kind", "reference", …} without credentials."""
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Registry credentials of this job, encrypted (Fernet, key from `$HULLSCAN_JOB_KEY`); erased when the
    job ends."""
    options: Mapped[str] = mapped_column(Text, nullable=False)
    """JSON of the scan options."""
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    """Runs started (a redelivery after a worker died counts again)."""
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(DIGEST))
    """A done scan's stored image key (state/inventories.py): the report is rebuilt from it."""
    stats: Mapped[str | None] = mapped_column(Text)
    """JSON of the finished run: layers walked and taken from the cache, seconds, the worker."""
    created_at: Mapped[float] = mapped_column(Double, nullable=False)
    """Epoch seconds (the relay compares them)."""
    updated_at: Mapped[float] = mapped_column(Double, nullable=False)
    published_at: Mapped[float | None] = mapped_column(Double)


class ServicePolicy(Base):
    """A policy document kept by the server (`/api/v2/policies`), as it was given (YAML or JSON)."""

    __tablename__ = "service_policy"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    document: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str] = mapped_column(String(DIGEST), nullable=False)
    """`sha256:` of the document's bytes."""
    updated_at: Mapped[str] = mapped_column(String(40), nullable=False)


# --- rescans (issue #23; state/rescans.py reads and writes them, hullscan.rescan runs them, docs/rescan.md) -----


class RescanState(Base):
    """A stored image's last rescan (or its `--store` scan, until the first rescan): the DB generation its
    findings were matched at, and those findings (compact: state/rescans.py), so the next rescan re-matches
    only what the DB changed since and says what moved. `rev` grows with every write: a rescan writes only
    over the row it read (two rescans at once never both record one change)."""

    __tablename__ = "rescan_state"

    image_id: Mapped[int] = mapped_column(ForeignKey("stored_image.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The vulnerability DB generation (its change log's) the findings were matched at; NULL: not known (a
    `--store` scan): the next rescan matches the whole image."""
    judged_on: Mapped[str] = mapped_column(String(10), nullable=False)
    """The day (UTC, YYYY-MM-DD) the findings were judged: exceptions expiring after it and by the next
    rescan's day are `exception_expired`."""
    verdict: Mapped[str | None] = mapped_column(String(8))
    """`pass`, `fail`, '' (no policy gate), NULL (not judged yet: the `--store` scan's)."""
    finding_count: Mapped[int] = mapped_column(Integer, nullable=False)
    findings: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    """The matched findings before the policy stage, compressed (state/rescans.py `encode_findings`)."""
    ids: Mapped[str] = mapped_column(Text, nullable=False)
    """Every id the findings go by (ids, aliases, records), space-separated: which images a KEV, EPSS or
    enrichment-only change touches, read without decoding `findings`."""
    rev: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[str] = mapped_column(String(40), nullable=False)
