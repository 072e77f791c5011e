"""The policy's verdict, and the findings it suppressed (VEX or an exception) with why."""

from __future__ import annotations

from hullscan.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from hullscan.model.findings import ConfigFinding, Finding, SecretFinding


@record(frozen=True)
class FailedRule:
    """A rule of the policy that failed, and the findings that failed it."""

    rule: str
    """The rule's key path (`fail_on.severity`)."""
    description: str
    findings: tuple[str, ...]
    """Labels of the findings (`CVE-… (openssl 3.0.7)`, `aws-access-key-id (/app/.env:3)`)."""


@record(frozen=True)
class ExceptionRef:
    """An exception named in the verdict (expired or expiring)."""

    id: str
    expires: str
    source: str


@record(frozen=True)
class ExceptionsSummary:
    applied: tuple[str, ...] = ()
    """Sources of the exceptions that suppressed something."""
    unused: tuple[str, ...] = ()
    expired: tuple[ExceptionRef, ...] = ()
    expiring: tuple[ExceptionRef, ...] = ()


@record(frozen=True)
class Verdict:
    gate: bool
    """Whether a policy gate ran (the default gate never fails)."""
    policy: str | None
    """The policy file, None for the default."""
    passed: bool
    failed_rules: tuple[FailedRule, ...] = ()
    exceptions: ExceptionsSummary = ExceptionsSummary()
    suppressed: int = 0


@record(frozen=True)
class Suppressed:
    """A finding the gate did not count, and what suppressed it."""

    kind: str
    """`vulnerability`, `secret` or `misconfiguration`."""
    finding: Finding | SecretFinding | ConfigFinding
    by: str
    """`vex` or `exception`."""
    status: str
    """VEX status (`not_affected`, `fixed`) or the exception's `vex_status`."""
    justification: str = ""
    impact: str = ""
    source: str = ""
    owner: str = ""
    expires: str | None = None
    vex_justification: str = ""
