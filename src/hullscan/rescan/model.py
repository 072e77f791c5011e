"""What a rescan found: per image, its changes in the rescan's categories and its verdict's move."""

from __future__ import annotations

from hullscan.delta.model import FieldChange
from hullscan.record import record

CATEGORIES = ("new", "changed", "fix_available", "no_longer_affected", "withdrawn", "exception_expired")
"""One per change (notify/payload.py CATEGORIES, the notification's)."""


@record(frozen=True)
class Change:
    """One finding that moved, in one category."""

    category: str
    id: str
    """The vulnerability as the finding names it (the new side's; the old one's when it left)."""
    aliases: tuple[str, ...]
    package_type: str
    package_name: str
    package_version: str
    purl: str
    severity: str
    status: str
    fixed_version: str
    kev: bool
    epss: float | None
    fields: tuple[FieldChange, ...] = ()
    """What moved (`changed`, `fix_available`, `exception_expired`): severity, status, fixed_version, kev,
    epss, suppressed."""
    inherited: bool | None = None


@record(frozen=True)
class ImageResult:
    """One stored image after the rescan."""

    key: str
    names: tuple[str, ...]
    repository: str
    action: str
    """`rematched` (matched against the DB), `rejudged` (only the policy stage ran again: an exception
    expired), `baseline` (no earlier findings to compare with: these become them), `skipped` (another
    rescan recorded this image first)."""
    reason: str
    """Why it was re-matched: `full` (asked), `first` (its first rescan), `changed` (it holds a changed
    package or finding), `log: …` (the change log could not say what changed)."""
    since: int | None
    """The DB generation its previous findings were matched at (None: not known)."""
    changes: tuple[Change, ...] = ()
    verdict_change: str = "none"
    """`pass_to_fail`, `fail_to_pass`, `unchanged`, `none` (no policy judged), as `hullscan diff` says it."""
    failed: tuple[str, ...] = ()
    """Why the --exit-code gate fails for this image (new findings at or above the threshold)."""
    notification: str = ""
    """The notification id recorded for it ('' when none)."""


@record(frozen=True)
class RescanResult:
    generation: int
    """The DB generation every image is now matched at."""
    mode: str
    """`incremental` or `full`."""
    images: tuple[ImageResult, ...]
    """The images re-matched or re-judged (not those the DB changes did not touch)."""
    selected: int
    """Stored images the run was asked about."""
    untouched: int
    """Of them, images no change touched: only their generation moved."""
    full_reasons: tuple[str, ...] = ()
    """Why the change log could not be followed, when it could not."""
    threshold: str | None = None
    delivered: int = 0
    """Notification pages delivered by this run."""
