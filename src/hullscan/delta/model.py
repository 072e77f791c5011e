"""What changed between two scans of an image (or of two images): the records `compare` returns.

Each side keeps the model's own values (`Package`, `Finding`, `SecretFinding`…), so a caller renders
them as the report does; a change says only what moved. `diff`, `rescan` and the runtime-drift check
read the same records (docs/diff.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.model.findings import SEVERITY_RANK
from hullscan.record import record

if TYPE_CHECKING:
    from hullscan.model.findings import ConfigFinding, Finding, SecretFinding
    from hullscan.model.image import BaseImage
    from hullscan.model.inventory import OSInfo, Package
    from hullscan.model.verdict import Verdict

@record(frozen=True)
class Upgrade:
    """One package (same type, name and architecture) at another version."""

    old: Package
    new: Package
    """Its `layer` is the layer of the new image that brought the new version."""
    downgrade: bool = False
    """True when the ecosystem's version order puts the new version below the old one (False when the
    versions do not parse: then only "changed" is known)."""


@record(frozen=True)
class PackageDelta:
    added: tuple[Package, ...] = ()
    """In the new image only (no version of it was in the old one)."""
    removed: tuple[Package, ...] = ()
    """In the old image only."""
    upgraded: tuple[Upgrade, ...] = ()
    unchanged: int = 0
    """Packages (type, name, architecture, version) in both."""


@record(frozen=True)
class Side:
    """A vulnerability finding on one side, and whether the policy suppressed it there."""

    finding: Finding
    suppressed: str = ""
    """'' (live: the gate counts it), `vex` or `exception` (the policy suppressed it: it is in the image,
    but accepted)."""


@record(frozen=True)
class FieldChange:
    """One attribute of a finding that moved."""

    field: str
    """`severity`, `status`, `fixed_version`, `kev` (in CISA's catalog), `epss` (score), `suppressed`."""
    old: str | float | bool | None
    new: str | float | bool | None


@record(frozen=True)
class FindingChange:
    """The same vulnerability in the same package on both sides (matched by any shared id or alias),
    with what moved."""

    old: Side
    new: Side
    fields: tuple[FieldChange, ...]

    def moved(self, name: str) -> FieldChange | None:
        return next((c for c in self.fields if c.field == name), None)

    @property
    def fix_available(self) -> bool:
        """A fixed version appeared (there was none before)."""
        return not self.old.finding.fixed_version and bool(self.new.finding.fixed_version)


@record(frozen=True)
class FindingDelta:
    introduced: tuple[Side, ...] = ()
    """Vulnerabilities the new side has and the old side has not (under any alias, in that package)."""
    fixed: tuple[Side, ...] = ()
    """Vulnerabilities the old side has and the new side has not."""
    changed: tuple[FindingChange, ...] = ()
    unchanged: int = 0
    """Matched findings where nothing compared moved."""


@record(frozen=True)
class SecretDelta:
    """Secrets (or image-config findings) by rule, path and masked line: a secret that moved to another
    line or layer is the same secret; the raw secret is never compared (no finding holds it)."""

    added: tuple[SecretFinding | ConfigFinding, ...] = ()
    removed: tuple[SecretFinding | ConfigFinding, ...] = ()
    unchanged: int = 0


@record(frozen=True)
class BaseChange:
    old: BaseImage
    new: BaseImage

    @property
    def changed(self) -> bool:
        """The base's name or digest differs (how it was identified may differ without a change)."""
        return (self.old.name, self.old.digest) != (self.new.name, self.new.digest)


@record(frozen=True)
class OsChange:
    old: OSInfo | None
    new: OSInfo | None

    @property
    def changed(self) -> bool:
        def key(o: OSInfo | None) -> tuple[str, str]:
            return (o.family, o.version) if o is not None else ("", "")

        return key(self.old) != key(self.new)


@record(frozen=True)
class VerdictChange:
    old: Verdict | None
    new: Verdict | None

    @property
    def gated(self) -> bool:
        """A policy judged at least one side (without one the default gate passes everything)."""
        return any(v is not None and v.gate for v in (self.old, self.new))

    @property
    def change(self) -> str:
        """`pass_to_fail` (called out), `fail_to_pass`, `unchanged`, or `none` when no policy judged."""
        if not self.gated:
            return "none"
        old = self.old is None or self.old.passed
        new = self.new is None or self.new.passed
        if old == new:
            return "unchanged"
        return "pass_to_fail" if old else "fail_to_pass"


@record(frozen=True)
class Delta:
    """Everything that changed from `old` to `new`."""

    packages: PackageDelta
    findings: FindingDelta
    secrets: SecretDelta
    misconfigurations: SecretDelta
    base: BaseChange
    os: OsChange
    verdict: VerdictChange


def at_or_above(severity: str, threshold: str | None) -> bool:
    """Whether `severity` reaches `threshold` (None: every severity does; an unknown word ranks as UNKNOWN)."""
    if threshold is None:
        return True
    return SEVERITY_RANK.get((severity or "UNKNOWN").upper(), 0) >= SEVERITY_RANK[threshold]
