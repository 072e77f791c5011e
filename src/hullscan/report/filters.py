"""Display filters (`--severity`, `--ignore-unfixed`): what is shown, never what the policy judges."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

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


def apply_display_filters(report: dict[str, Any], severities: frozenset[str] | None, ignore_unfixed: bool) -> dict[str, Any]:
    """A copy of the report whose vulnerabilities and secrets are only those to show."""
    out = dict(report)
    vulns = report.get("vulnerabilities") or []
    if severities is not None:
        vulns = [v for v in vulns if (v.get("severity") or "UNKNOWN") in severities]
    if ignore_unfixed:
        vulns = [v for v in vulns if v.get("fixed_version")]
    out["vulnerabilities"] = vulns
    if severities is not None:
        out["secrets"] = [s for s in report.get("secrets") or [] if (s.get("severity") or "UNKNOWN") in severities]
    out["display_filters"] = {
        "severity": sorted(severities) if severities is not None else None,
        "ignore_unfixed": ignore_unfixed,
    }
    return out
