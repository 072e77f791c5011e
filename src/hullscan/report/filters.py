"""Display filters (`--severity`, `--ignore-unfixed`): what is shown, never what the policy judges."""

from __future__ import annotations

from hullscan.model.report import DisplayFilters
from hullscan.record import replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from hullscan.model.report import Report

SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def parse_severities(text: str | None) -> frozenset[str] | None:
    if not text:
        return None
    chosen = frozenset(s.strip().upper() for s in text.split(",") if s.strip())
    bad = chosen - set(SEVERITIES)
    if bad:
        from hullscan.errors import UsageError

        raise UsageError(f"--severity: unknown {', '.join(sorted(bad))}; choose from {', '.join(SEVERITIES)}")
    return chosen


def apply_display_filters(report: Report, severities: frozenset[str] | None, ignore_unfixed: bool) -> Report:
    """A copy of the report whose vulnerabilities and secrets are only those to show."""
    vulns = report.vulnerabilities
    secrets = report.secrets
    if severities is not None:
        vulns = tuple(v for v in vulns if (v.severity or "UNKNOWN") in severities)
        secrets = tuple(s for s in secrets if (s.severity or "UNKNOWN") in severities)
    if ignore_unfixed:
        vulns = tuple(v for v in vulns if v.fixed_version)
    shown = DisplayFilters(tuple(sorted(severities)) if severities is not None else None, ignore_unfixed)
    return replace(report, vulnerabilities=vulns, secrets=secrets, display=shown)
