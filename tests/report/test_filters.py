"""Display filters (`--severity`, `--ignore-unfixed`) on a Report: they narrow what is shown and say so."""

from __future__ import annotations

import pytest

from hullscan.errors import UsageError
from hullscan.model.findings import ConfigFinding, Finding, SecretFinding
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.inventory import Package
from hullscan.model.report import DisplayFilters, Report
from hullscan.report.filters import apply_display_filters, parse_severities

PKG = Package(type="pypi", name="urllib3", version="1.24.2", ecosystem="PyPI", purl="pkg:pypi/urllib3@1.24.2",
              analyzer="python")


def finding(id_: str, severity: str, fixed: str) -> Finding:
    return Finding(id=id_, aliases=(), package=PKG, status="fixed" if fixed else "affected", fixed_version=fixed,
                   severity=severity, severity_source="osv", cvss=None, epss=None, kev=None, title="", references=(),
                   data_source="osv", advisory_ids=(id_,), published=None)


def secret(rule: str, severity: str) -> SecretFinding:
    return SecretFinding(rule, "cat", severity, "t", "/app/.env", 1, 1, "****", "fp-" + rule)


REPORT = Report(
    created_at="2026-01-01T00:00:00Z", target=Target("dir:/x", "dir", "x"), layers=(), scanners=("secret", "vuln"),
    os=None, config=ImageConfig(raw={}), base_image=BaseImage(None), packages=[PKG],
    vulnerabilities=(finding("CVE-1", "CRITICAL", "2.0"), finding("CVE-2", "HIGH", ""), finding("CVE-3", "LOW", "2.0"),
                     finding("CVE-4", "", "2.0")),
    secrets=(secret("github-pat", "CRITICAL"), secret("generic", "MEDIUM")),
    misconfigurations=(ConfigFinding("config-user-root", "config", "HIGH", "root", "runs as root", "config:User"),),
)


def test_severity_and_unfixed_narrow_vulnerabilities_and_secrets() -> None:
    shown = apply_display_filters(REPORT, frozenset({"CRITICAL", "HIGH"}), True)
    assert [v.id for v in shown.vulnerabilities] == ["CVE-1"]
    assert [s.rule_id for s in shown.secrets] == ["github-pat"]
    assert shown.misconfigurations == REPORT.misconfigurations  # not a display filter's business
    assert shown.display == DisplayFilters(("CRITICAL", "HIGH"), True)
    assert shown.packages is REPORT.packages and REPORT.display is None  # a copy; the judged report is untouched


def test_no_severity_keeps_every_severity() -> None:
    shown = apply_display_filters(REPORT, None, False)
    assert shown.vulnerabilities == REPORT.vulnerabilities and shown.secrets == REPORT.secrets
    assert shown.display == DisplayFilters(None, False)
    unfixed = apply_display_filters(REPORT, None, True)
    assert [v.id for v in unfixed.vulnerabilities] == ["CVE-1", "CVE-3", "CVE-4"]
    assert unfixed.secrets == REPORT.secrets


def test_a_finding_without_severity_counts_as_unknown() -> None:
    shown = apply_display_filters(REPORT, parse_severities("unknown, low"), False)
    assert [v.id for v in shown.vulnerabilities] == ["CVE-3", "CVE-4"] and shown.secrets == ()


def test_unknown_severity_word_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown SEVERE"):
        parse_severities("HIGH,severe")
