"""One flat view of a report's findings (vulnerabilities, secrets, image-config findings), shared by
the writers that list findings one by one (SARIF, JUnit, HTML), so they all count the same things."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hullscan.model.findings import SEVERITIES, ConfigFinding, Finding, Risk, SecretFinding
from hullscan.model.inventory import LayerRef
from hullscan.model.report import Report
from hullscan.model.verdict import Suppressed
from hullscan.policy.gate import label  # the verdict names findings by these labels


@dataclass(frozen=True)
class Item:
    """A finding as the listing writers see it."""

    kind: str
    """`vulnerability`, `secret` or `misconfiguration`."""
    rule_id: str
    """Vulnerability id (CVE-…, GHSA-…) or the secret/config rule id."""
    severity: str
    """CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN."""
    title: str
    """One line saying what was found."""
    path: str
    """Absolute path in the image (the package's first path or the file), "" for image-level findings."""
    line: int | None
    """1-based first line in `path` (secrets), else None."""
    layer: LayerRef | None
    """The layer that added the package or file."""
    label: str
    """The policy gate's label ("ID (package version)"), as listed in `verdict.failed_rules[].findings`."""
    finding: Finding | SecretFinding | ConfigFinding
    """The finding itself."""
    risk: Risk | None
    """The policy's risk score (image-config findings have none)."""
    suppressed: Suppressed | None = None
    """What suppressed it (VEX or an exception), None when the gate counts it."""


def severity_of(severity: str) -> str:
    sev = severity.upper()
    return sev if sev in SEVERITIES else "UNKNOWN"


def item(f: Finding | SecretFinding | ConfigFinding, suppressed: Suppressed | None = None) -> Item:
    if isinstance(f, Finding):
        pkg = f.package
        title = f.title or f"{f.id} in {pkg.name} {pkg.version}"
        return Item("vulnerability", f.id, severity_of(f.severity), title, pkg.paths[0] if pkg.paths else "", None,
                    f.layer, label(f), f, f.risk, suppressed)
    if isinstance(f, ConfigFinding):
        kind, title, risk = "misconfiguration", f.title or f.message or f.rule_id or "misconfiguration", None
    else:
        kind, title, risk = "secret", f.title or f.rule_id or "secret", f.risk
    return Item(kind, f.rule_id or kind, severity_of(f.severity), title, f.path if f.path.startswith("/") else "",
                f.start_line if f.start_line > 0 else None, f.layer, label(f), f, risk, suppressed)


def items(report: Report, with_suppressed: bool = False) -> Iterator[Item]:
    """Every finding the report shows, in report order; then (optionally) the suppressed ones."""
    for f in report.vulnerabilities:
        yield item(f)
    for s in report.secrets:
        yield item(s)
    for m in report.misconfigurations:
        yield item(m)
    if with_suppressed:
        for entry in report.suppressed:
            yield item(entry.finding, entry)


def failed_labels(report: Report) -> set[str] | None:
    """Labels the policy verdict failed on, or None when no policy gate ran."""
    if report.verdict is None or not report.verdict.gate:
        return None
    return {name for rule in report.verdict.failed_rules for name in rule.findings}


def target_name(report: Report) -> str:
    """The image's name; a bare tag (an OCI layout's `latest`) says less than the input path."""
    name = report.target.name
    if name and ("/" in name or ":" in name or "@" in name):
        return name
    return report.target.input or name or "image"
