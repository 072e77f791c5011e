"""The whole result of a scan: what the scan service returns, the policy judges and the writers render.

One type from scan to bytes: the scan service fills everything but `verdict`, `suppressed` and
`display`; the policy stage returns a copy with its verdict (findings it suppressed moved to
`suppressed`, risk set on the rest); display filters return a copy with fewer findings shown.
"""

from __future__ import annotations

from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from hullscan.model.container import ContainerInfo
    from hullscan.model.findings import ConfigFinding, Finding, SecretFinding
    from hullscan.model.image import BaseImage, ImageConfig, LayerInfo, Target
    from hullscan.model.inventory import OSInfo, Package, RemovedPackage, ScanWarning
    from hullscan.model.plan import FixPlan
    from hullscan.model.verdict import Suppressed, Verdict


@record(frozen=True)
class FeedInfo:
    """One feed in the vulnerability DB."""

    feed: str
    imported_at: str | None
    fetched_at: str | None
    advisories: int


@record(frozen=True)
class Coverage:
    """Whether the vulnerability DB covers one ecosystem of the scanned packages (match/loop.py). An
    ecosystem without advisories is a gap: its packages were not matched, and every format says so."""

    ecosystem: str
    """As the packages name it (`Red Hat:9`, `PyPI`)."""
    packages: int
    """Packages of the scan asked for in this ecosystem."""
    advisories: int
    """Live advisories the DB holds for it, summed over its feeds (0: not covered)."""
    newest_advisory: str | None = None
    """`YYYY-MM-DD` of the newest of those advisories (latest published/modified), None when no date."""
    fetched_at: str | None = None
    """When the data of the feeds that cover it was fetched (`db update`) or else imported (`db import`):
    the oldest over those feeds."""
    feeds: tuple[str, ...] = ()
    """The feeds holding its advisories."""

    @property
    def present(self) -> bool:
        return self.advisories > 0


@record(frozen=True)
class DbInfo:
    """The vulnerability DB a scan matched against."""

    location: str
    built_at: str | None
    """UTC, `YYYY-MM-DDTHH:MM:SSZ`."""
    age_days: float | None
    feeds: tuple[FeedInfo, ...] = ()
    coverage: tuple[Coverage, ...] = ()
    """Per ecosystem of the scanned packages, by ecosystem (the report's `coverage`)."""

    @property
    def coverage_gaps(self) -> str:
        """The ecosystems without advisories in one line, as every format says it ('' when none):
        `no advisories for Red Hat:9 (47 packages not matched)`."""
        gaps = [f"{c.ecosystem} ({c.packages} package{'s' if c.packages != 1 else ''} not matched)"
                for c in self.coverage if not c.present]
        return f"no advisories for {', '.join(gaps)}" if gaps else ""


@record(frozen=True)
class ScanStats:
    """How the scan went: layers walked or taken from the cache, time."""

    walked: int = 0
    cached: int = 0
    seconds: float = 0.0
    result_cached: bool | None = None
    """True when the whole result came from the result cache (None: not asked)."""
    sbom_format: str | None = None
    """For SBOM input: the SBOM's format and the tools that wrote it."""
    sbom_tools: tuple[str, ...] | None = None


@record(frozen=True)
class DisplayFilters:
    """`--severity` and `--ignore-unfixed`: what is shown, never what the gate judged."""

    severity: tuple[str, ...] | None = None
    ignore_unfixed: bool = False


@record(frozen=True)
class AdviceFinding:
    """A vulnerability as base image advice lists it (base/advise.py `Remaining`)."""

    id: str
    package: str
    version: str
    severity: str
    """Upper case, one of `model.findings.SEVERITIES`."""
    fixed_version: str
    """'' when there is no fix yet."""


@record(frozen=True)
class AdviceBase:
    """A catalogued base image as advice names it (state/catalog.py `CatalogEntry`, without its layers)."""

    catalog_id: int
    reference: str
    """`name:tag` (the first tag), else `name@digest`."""
    name: str
    tags: tuple[str, ...]
    manifest_digest: str
    config_digest: str
    platform: str
    created: str | None
    os_id: str
    os_version: str


@record(frozen=True)
class AdviceCandidate:
    """Another catalogued base the image could move to, with what moving would change."""

    base: AdviceBase
    removes: tuple[AdviceFinding, ...]
    """The image's inherited findings this base does not have."""
    remaining: tuple[AdviceFinding, ...]
    """The image's inherited findings this base still has."""
    adds: tuple[AdviceFinding, ...]
    """Findings of this base that the current base does not have."""


@record(frozen=True)
class BaseAdvice:
    """`hullscan image --base-advice`: the report's section of `hullscan base advise` (docs/base-images.md)."""

    base: AdviceBase | None
    """The identified base's catalog entry; None when there is no advice (`reason` says why)."""
    inherited: tuple[AdviceFinding, ...]
    """The image's inherited findings, most severe first (what a better base could remove)."""
    candidates: tuple[AdviceCandidate, ...]
    """Ranked, best first."""
    reason: str = ""
    """Why there is no candidate, when there is none."""


@record(frozen=True)
class Report:
    """Everything one scan found, and (once judged) the verdict."""

    created_at: str
    """UTC, `YYYY-MM-DDTHH:MM:SSZ`."""
    target: Target
    layers: tuple[LayerInfo, ...]
    scanners: tuple[str, ...]
    """The scanners that ran (sorted)."""
    os: OSInfo | None
    config: ImageConfig
    base_image: BaseImage
    packages: Sequence[Package]
    """Every package, sorted by (type, name, version, first path). A warm scan may give a lazy
    sequence that decodes on first use (cache/results.py) and carries the JSON writer's rendering."""
    history: tuple[RemovedPackage, ...] = ()
    vulnerabilities: tuple[Finding, ...] = ()
    secrets: tuple[SecretFinding, ...] = ()
    misconfigurations: tuple[ConfigFinding, ...] = ()
    db: DbInfo | None = None
    """None when the vuln scanner did not run."""
    warnings: tuple[ScanWarning, ...] = ()
    stats: ScanStats = field(default_factory=ScanStats)
    verdict: Verdict | None = None
    suppressed: tuple[Suppressed, ...] = ()
    display: DisplayFilters | None = None
    base_advice: BaseAdvice | None = None
    """With `--base-advice`: computed after the scan (never part of a cached result), from its findings
    before policy and display filters, as `hullscan base advise` computes it."""
    plan: FixPlan | None = None
    """With `--plan`: the fix plan (plan/build.py), computed after the policy (never part of a cached result)."""
    container: ContainerInfo | None = None
    """A container scan's container (`hullscan container`): its packages and findings carry `origin`."""

    @property
    def architecture(self) -> str:
        return self.config.architecture
