"""The policy file (`--policy FILE`, default `.hullscan.yaml`): rules that fail the build, exceptions, VEX.
Its schema is `docs/policy.schema.json` (docs/policy.md "Strict files"):

    version: 1
    fail_on:
      severity: HIGH              # any vulnerability at or above (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)
      fixable_only: true          # …counting only those with a fixed version
      reachable_only: true        # vulnerability rules count only reachable findings (`unknown` counts)
      kev: true                   # any finding in CISA KEV
      epss_above: 0.5             # any finding whose EPSS probability is above
      ids: [CVE-2021-44228]       # these ids (or any alias of them)
      secrets: HIGH               # any secret finding at or above
      misconfigurations: HIGH     # any image-config finding at or above
      licenses:
        deny: [GPL-3.0-only, AGPL-3.0-or-later]   # SPDX ids; a package fails when every choice its
        allow: [MIT, Apache-2.0, BSD-3-Clause]    # expression offers uses a denied (or no allowed) licence
      db_older_than_days: 7       # the vulnerability DB is older than this
    exceptions:
      - id: CVE-2023-1234         # vulnerability id or alias | fingerprint: … | rule_id: …
        package: openssl          # optional narrowing: package, purl, path
        justification: "not reachable: we never parse untrusted certificates"   # required
        owner: team-a@example.com
        expires: 2026-12-31       # required unless settings.allow_permanent_exceptions
    vex: [vex/openvex.json]       # OpenVEX, CycloneDX VEX or CSAF VEX documents
    base_images:
      allow: ["debian:12*", "gcr.io/distroless/*"]   # names with tag globs, or digests (sha256:…)
      deny: ["debian:11*"]
      max_age_days: 90            # the base's creation date is older than this (unknown date fails)
      require_known: true         # the base must be identified (annotation verified or the catalog)
    os:
      eol: fail                   # the OS release is past its end of life: fail (or warn)
    runtime:
      drift: fail                 # a running container's packages differ from its image's: fail (or warn)
    settings:
      warn_expiring_within_days: 14
      allow_permanent_exceptions: false
"""

from __future__ import annotations

from datetime import date

from hullscan.record import field, record


@record(frozen=True)
class LicenseRule:
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


@record(frozen=True)
class Rules:
    severity: str | None = None
    fixable_only: bool = False
    reachable_only: bool = False
    """The vulnerability rules count only findings whose reachability is not `not_present`, `not_loaded`
    or `not_imported` (`unknown` and unassessed count as reachable; docs/reachability.md)."""
    kev: bool = False
    epss_above: float | None = None
    ids: tuple[str, ...] = ()
    secrets: str | None = None
    misconfigurations: str | None = None
    licenses: LicenseRule | None = None
    db_older_than_days: float | None = None


@record(frozen=True)
class BaseImageRule:
    """`base_images`: which base images an image may be built on (docs/policy.md "Base images")."""

    allow: tuple[str, ...] = ()
    """`debian:12*` (a repository with a tag glob), `debian` (any tag), `ghcr.io/org/*`, `NAME@sha256:…` or
    `sha256:…` (a digest): when given, the base must be one of these."""
    deny: tuple[str, ...] = ()
    """The same forms: a base that is one of these fails."""
    max_age_days: float | None = None
    """The base's creation date is older than this many days (an unknown date fails too, saying so)."""
    require_known: bool = False
    """The base must be identified (by a verified annotation or the catalog)."""


@record(frozen=True)
class Exception_:
    """An accepted finding: what it covers, why, who, until when."""

    justification: str
    id: str = ""
    fingerprint: str = ""
    rule_id: str = ""
    package: str = ""
    purl: str = ""
    path: str = ""
    owner: str = ""
    expires: date | None = None
    source: str = ""
    """Where it was read (policy file, .trivyignore…) for messages."""
    vex_status: str = "not_affected"
    """Status for `--format openvex` (`not_affected` unless stated)."""
    vex_justification: str = ""


@record
class Policy:
    rules: Rules = field(default_factory=Rules)
    exceptions: list[Exception_] = field(default_factory=list)
    vex: list[str] = field(default_factory=list)
    base_images: BaseImageRule | None = None
    os_eol: str | None = None
    """`os.eol`: `fail` (the verdict fails) or `warn` (a warning) when the OS is past its end of life."""
    runtime_drift: str | None = None
    """`runtime.drift`: `fail` or `warn` when a scanned container's packages drifted from its image's."""
    warn_expiring_within_days: int = 14
    allow_permanent_exceptions: bool = False
    path: str = ""
    gate: bool = False
    """True when a policy file was given or found: its verdict decides the exit code."""
