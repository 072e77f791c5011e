"""One flat view of a report's findings (vulnerabilities, secrets, image-config findings), shared by
the writers that list findings one by one (SARIF, JUnit, HTML), so they all count the same things."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hullscan.policy.gate import _label as gate_label  # the verdict names findings by these labels

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
KINDS = {"vulnerability": "vulnerabilities", "secret": "secrets", "misconfiguration": "misconfigurations"}


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
    layer: dict[str, Any] | None
    """Layer ref of the layer that added the package or file."""
    label: str
    """The policy gate's label ("ID (package version)"), as listed in `verdict.failed_rules[].findings`."""
    finding: dict[str, Any]
    """The report's finding dict itself."""
    suppressed: dict[str, Any] | None = None
    """The `suppressed` entry (VEX or exception) when the gate suppressed it, else None."""


def severity_of(f: dict[str, Any]) -> str:
    sev = str(f.get("severity") or "UNKNOWN").upper()
    return sev if sev in SEVERITIES else "UNKNOWN"


def _line(f: dict[str, Any]) -> int | None:
    line = f.get("line")
    if isinstance(line, dict):
        line = line.get("start")
    return line if isinstance(line, int) and line > 0 else None


def _layer(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, int):  # older secret facts carried a bare index
        return {"index": value}
    return None


def item(kind: str, f: dict[str, Any], suppressed: dict[str, Any] | None = None) -> Item:
    if kind == "vulnerability":
        pkg = f.get("package") or {}
        paths = pkg.get("paths") or []
        title = f.get("title") or f"{f.get('id')} in {pkg.get('name')} {pkg.get('version')}"
        return Item(kind, str(f.get("id")), severity_of(f), title, paths[0] if paths else "", None,
                    _layer(f.get("layer")), gate_label(f), f, suppressed)
    path = str(f.get("path") or "")
    rule = str(f.get("rule_id") or f.get("id") or kind)
    title = f.get("title") or f.get("message") or rule
    return Item(kind, rule, severity_of(f), str(title), path if path.startswith("/") else "", _line(f),
                _layer(f.get("layer")), gate_label(f), f, suppressed)


def items(report: dict[str, Any], with_suppressed: bool = False) -> Iterator[Item]:
    """Every finding the report shows, in report order; then (optionally) the suppressed ones."""
    for kind, key in KINDS.items():
        for f in report.get(key) or []:
            yield item(kind, f)
    if with_suppressed:
        for s in report.get("suppressed") or []:
            if s.get("kind") in KINDS and isinstance(s.get("finding"), dict):
                yield item(s["kind"], s["finding"], s)


def failed_labels(report: dict[str, Any]) -> set[str] | None:
    """Labels the policy verdict failed on, or None when no policy gate ran."""
    verdict = report.get("verdict") or {}
    if not verdict.get("gate"):
        return None
    return {label for rule in verdict.get("failed_rules") or [] for label in rule.get("findings") or []}


def target_name(report: dict[str, Any]) -> str:
    """The image's name; a bare tag (an OCI layout's `latest`) says less than the input path."""
    target = report.get("target") or {}
    name = str(target.get("name") or "")
    if name and ("/" in name or ":" in name or "@" in name):
        return name
    return str(target.get("input") or name or "image")
