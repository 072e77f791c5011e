"""Findings: vulnerabilities (with how each was matched), secrets, image-config findings, and risk.

A vulnerability `Finding` carries its `MatchDetails` (after Grype's `Match.Details`): which advisory
record, which range or vendor status, which version rule and which identity of the package — its
source package, its binary name, its plain name — made it match. A vulnerability found through several
copies of one package (an installed dist-info and a lockfile declaring it, a jar and its pom) is one
finding with its `locations`. The reachability stage (hullscan.reach) adds `reachability`; the policy
stage adds `risk` and `vex`, and drops the locations a path exception names; nothing else changes a
finding after matching.
"""

from __future__ import annotations

from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from hullscan.model.inventory import LayerRef, Package

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
"""Severity words, most severe first."""
SEVERITY_RANK = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
STATUSES = ("fixed", "affected", "will_not_fix", "fix_deferred", "end_of_life", "not_affected", "under_investigation")
"""Vendor statuses, VEX spelling (DESIGN.md "Statuses")."""


@record(frozen=True)
class Cvss:
    """One CVSS score of a vulnerability and who gave it."""

    version: str
    """`2.0`, `3.0`, `3.1`, `4.0`."""
    vector: str
    score: float | None
    """Base score; computed from the vector when the feed gave only the vector."""
    source: str
    """The feed the vector came from (`nvd`, `osv`, `debian`…)."""


@record(frozen=True)
class Epss:
    """FIRST EPSS: the probability of exploitation in the next 30 days."""

    score: float
    percentile: float
    date: str


@record(frozen=True)
class Kev:
    """An entry of CISA's Known Exploited Vulnerabilities catalog."""

    date_added: str
    due_date: str
    ransomware: bool | None
    """Known use in ransomware campaigns: True for CISA's `Known`, False for `Unknown`, None when unsaid."""


@record(frozen=True)
class MatchDetails:
    """How one advisory record matched one package."""

    matcher: str
    """The matcher that decided (match/<matcher>.py): `dpkg`, `rpm`, `apk`, `language`, `go-stdlib`."""
    feed: str
    """The feed of the record (`debian`, `alpine`, `osv`, `nvd`…)."""
    advisory_id: str
    """The record's own id (DSA-5417-1, CVE-2023-1234, GHSA-…, PYSEC-…)."""
    ecosystem: str
    """The ecosystem asked (`Debian:12`, `Red Hat:9`, `PyPI`)."""
    package: str
    """The name asked, as the record names it."""
    identity: str
    """Which name of the package matched: `source` (distro source package), `binary` (binary package
    name), `name` (a language package's normalized name), `upstream` (a rebuild matched through the
    release it rebuilds, e.g. CentOS through Red Hat)."""
    version: str
    """The version compared (a Debian package's source version, Go's `1.21.3` for `go1.21.3`)."""
    scheme: str
    """The version rule that compared it (`deb`, `rpm`, `apk`, `pep440`, `semver`, `golang`…)."""
    constraint: str
    """What the version fell into: `>=1.9.0, <1.13.1` (the range holding it), `=2.2` (a listed version),
    `not patched by >=2.2` (requirement strings), or `affected, no range` (a vendor status for every version)."""
    status: str
    """The record's vendor status (one of STATUSES)."""


@record(frozen=True)
class Risk:
    """The risk score (0–100) of a finding and the few words that explain it (policy/risk.py)."""

    score: float
    reason: str


REACHABILITY_LEVELS = ("reachable", "not_present", "not_loaded", "not_imported", "unknown")
"""DESIGN's pinned reachability levels; `unknown` counts as reachable wherever a rule filters on them."""


@record(frozen=True)
class Reachability:
    """Whether a finding's vulnerable code can run (docs/reachability.md), set by hullscan.reach."""

    level: str
    """One of REACHABILITY_LEVELS: `reachable`, `not_present` (Go: the module is linked, none of the
    affected symbols), `not_loaded` (the package supplies nothing the entrypoint's ELF closure loads),
    `not_imported` (Python/Node: never imported from the entrypoint), `unknown`."""
    evidence: tuple[str, ...] = ()
    """What decided it: the symbols found, the library chain, the import chain, or why it stays unknown."""
    method: str = ""
    """The level's method: `go-symbols`, `elf-linkage`, `python-imports`, `node-imports`."""


@record(frozen=True)
class VexNote:
    """A VEX statement that applies to a finding without suppressing it (affected, under investigation)."""

    status: str
    justification: str = ""
    impact: str = ""
    source: str = ""


@record(frozen=True)
class Location:
    """One place a finding's vulnerable package was found (DESIGN "locations[]"): a dist-info directory,
    a lockfile, a jar, a pom — each a package of the inventory with the same ecosystem, name and version."""

    package: Package
    """The package found there: its paths, the layer that added it, the analyzer and `kind` (installed or
    declared) that found it, and its id (the report's package, the CycloneDX bom-ref)."""

    @property
    def path(self) -> str:
        """The package's first path ('' when it names none, e.g. an SBOM component)."""
        return self.package.paths[0] if self.package.paths else ""

    @property
    def layer(self) -> LayerRef | None:
        return self.package.layer


def location_order(pkg: Package) -> tuple[int, bool, str]:
    """The order of a finding's locations: lowest layer first (the finding's layer, so `base` says whether
    the base image already brought the vulnerability), installed before declared (what runs), then path."""
    return (pkg.layer.index if pkg.layer is not None else -1, pkg.kind != "installed",
            pkg.paths[0] if pkg.paths else "")


@record(frozen=True)
class Finding:
    """One vulnerability in one package (the records of one vulnerability merged by alias)."""

    id: str
    """The vulnerability: its CVE when it has one, else the smallest of its ids."""
    aliases: tuple[str, ...]
    """Other ids of the same vulnerability (GHSA, PYSEC, DSA…)."""
    package: Package
    status: str
    """Vendor status (one of STATUSES); `fixed` only when a fixed version above the installed one exists."""
    fixed_version: str
    """The nearest fixed version above the installed one, '' when none."""
    severity: str
    """CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN."""
    severity_source: str
    """Who said so: the vendor's feed, `nvd`, or the advisory's own."""
    cvss: Cvss | None
    epss: Epss | None
    kev: Kev | None
    title: str
    references: tuple[str, ...]
    data_source: str
    """The feed of the record that decided the status."""
    advisory_ids: tuple[str, ...]
    """Every record that matched (sorted)."""
    published: str | None
    details: tuple[MatchDetails, ...] = ()
    """How each record matched, the deciding record first."""
    risk: Risk | None = None
    """Set by the policy stage."""
    vex: VexNote | None = None
    """A VEX statement applying to it without suppressing it (set by the policy stage)."""
    locations: tuple[Location, ...] = ()
    """Every place the package was found when there are several, in `location_order` (the first is
    `package`'s); empty when it was found in one place only (`package` says where)."""
    inherited: bool | None = field(default=None, compare=False)
    """DESIGN's `inherited`: whether the base image brought it (see `Package.inherited`); None when unknown."""
    origin: str | None = field(default=None, compare=False)
    """DESIGN's `origin` in a container scan: `image` or `runtime` (see `Package.origin`); None elsewhere."""
    reachability: Reachability | None = None
    """Whether its vulnerable code can run (set by hullscan.reach after matching); None = not assessed."""

    @property
    def layer(self) -> LayerRef | None:
        """The layer that introduced the package (of several locations, the lowest)."""
        return self.package.layer

    @property
    def where(self) -> tuple[Location, ...]:
        """Every place the package was found: `locations`, or the package's own place."""
        return self.locations or (Location(self.package),)

    @property
    def ids(self) -> frozenset[str]:
        """Every name of this vulnerability: id, aliases and the matching records' ids."""
        return frozenset((self.id, *self.aliases, *self.advisory_ids))


@record(frozen=True)
class SecretFinding:
    """One secret found in one file, or in the image config (env, labels, history, entrypoint)."""

    rule_id: str
    category: str
    severity: str
    title: str
    path: str
    """File path in the image, or `config:Env`, `config:history[3]`, `config:Labels`."""
    start_line: int
    """1-based line where the secret starts."""
    end_line: int
    match: str
    """The line holding the secret, secret(s) masked, cut to ~100 characters either side."""
    fingerprint: str
    """Stable id of this secret in this file for this rule (secrets/finding.py)."""
    offset: int = 0
    """Byte offset of the secret in the file."""
    source: str = "file"
    """`file`, `env`, `history` or `label`."""
    layer: LayerRef | None = None
    """The layer that added the file."""
    removed_in: LayerRef | None = None
    """The layer that deleted or replaced the file; None while it is still in the image."""
    risk: Risk | None = None
    """Set by the policy stage."""
    inherited: bool | None = field(default=None, compare=False)
    """DESIGN's `inherited`: whether the base image brought it (see `Package.inherited`); None when unknown."""
    origin: str | None = field(default=None, compare=False)
    """DESIGN's `origin` in a container scan: `image` or `runtime` (see `Package.origin`); None elsewhere."""


@record(frozen=True)
class ConfigFinding:
    """One finding of the image-config checks (`--scanners config`): root user, secret build
    arguments, unpinned `ADD` from a URL. Shaped as a secret finding (the same writers list both)."""

    rule_id: str
    category: str
    severity: str
    title: str
    message: str
    """What is wrong and why it matters."""
    path: str
    """Where in the config: `config:User`, `config:history[3]`."""
    match: str = ""
    """The config value concerned (masked like a secret)."""
    fingerprint: str = ""
    start_line: int = 1
    end_line: int = 1
    offset: int = 0
    source: str = "config"
    layer: LayerRef | None = None
    """The layer a history entry made, when the finding is about one."""
    removed_in: LayerRef | None = None
    inherited: bool | None = field(default=None, compare=False)
    """DESIGN's `inherited`: whether the base image brought it (see `Package.inherited`); None when unknown."""
    origin: str | None = field(default=None, compare=False)
    """DESIGN's `origin` in a container scan: `image` or `runtime` (see `Package.origin`); None elsewhere."""
