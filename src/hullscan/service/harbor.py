"""The Harbor Pluggable Scanner API v1.2's documents (goharbor/pluggable-scanner-spec, the copy in
tests/service/testdata): the scanner's metadata, and a typed `Report` as Harbor's vulnerability report
or its SBOM report. Pure mapping: no I/O; the routes (service/api_harbor.py) choose what to send.

The vulnerability report lists exactly the report's `vulnerabilities` (the findings and counts of the
CLI's JSON for the same image): one item per finding, its package and version, nearest fix, severity in
Harbor's words, links, the CVSS the finding carries, and CWE ids and description from the DB's advisory
when the caller looked them up (`AdvisoryText`). What Harbor's model has no field for (status, aliases,
layer, inherited, purl, EPSS, KEV, risk) is kept in `vendor_attributes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hullscan import __version__
from hullscan.model.findings import SEVERITY_RANK, Finding
from hullscan.model.report import Report

SCANNER = {"name": "hullscan", "vendor": "hullscan", "version": __version__}

# MIME types (the spec's "Capabilities" table)
METADATA_1_1 = "application/vnd.scanner.adapter.metadata+json; version=1.1"
SCAN_REQUEST_1_1 = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
SCAN_REQUEST_1_0 = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
SCAN_RESPONSE = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR = "application/vnd.scanner.adapter.error+json; version=1.0"
VULN_HARBOR = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
VULN_SECURITY = "application/vnd.security.vulnerability.report; version=1.1"
VULN_RAW = "application/vnd.scanner.adapter.vuln.report.raw"
SBOM_REPORT = "application/vnd.security.sbom.report+json; version=1.0"
SPDX_JSON = "application/spdx+json"
CYCLONEDX_JSON = "application/vnd.cyclonedx+json"
SBOM_MEDIA_TYPES = (SPDX_JSON, CYCLONEDX_JSON)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONSUMES = (OCI_MANIFEST, DOCKER_MANIFEST)
VULN_TYPES = (VULN_HARBOR, VULN_SECURITY, VULN_RAW)
REPORT_TYPES = (*VULN_TYPES, SBOM_REPORT)

SEVERITY = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "UNKNOWN": "Unknown"}
"""Our severity words as Harbor's (the spec's `Severity` enum; we never say `Negligible`)."""


@dataclass(frozen=True, slots=True)
class AdvisoryText:
    """What the DB's advisory adds to a finding for Harbor: its description and CWE ids."""

    description: str = ""
    cwe_ids: tuple[str, ...] = ()


def metadata(db_updated_at: str | None) -> dict[str, Any]:
    """`GET /api/v1/metadata`: both capabilities (vulnerability and SBOM) and the DB's age."""
    properties = {
        "harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
        "harbor.scanner-adapter/vulnerability-database-updated-at": db_updated_at or "",
        "org.hullscan/language-packages": "true",
    }
    return {
        "scanner": dict(SCANNER),
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": list(CONSUMES), "produces_mime_types": list(VULN_TYPES)},
            {"type": "sbom", "consumes_mime_types": list(CONSUMES), "produces_mime_types": [SBOM_REPORT],
             "additional_attributes": {"sbom_media_types": list(SBOM_MEDIA_TYPES)}},
        ],
        "properties": properties,
    }


def artifact(repository: str, digest: str, tag: str = "", mime_type: str = "") -> dict[str, str]:
    out = {"repository": repository, "digest": digest}
    if tag:
        out["tag"] = tag
    if mime_type:
        out["mime_type"] = mime_type
    return out


def vulnerability_report(report: Report, artifact_doc: Mapping[str, str],
                         texts: Mapping[str, AdvisoryText] | None = None) -> dict[str, Any]:
    """The `HarborVulnerabilityReport` of a report: one item per finding, in the report's order."""
    texts = texts or {}
    items = [vulnerability_item(f, _text(f, texts)) for f in report.vulnerabilities]
    worst = max((SEVERITY_RANK.get(f.severity, 0) for f in report.vulnerabilities), default=0)
    top = next(word for word, rank in SEVERITY_RANK.items() if rank == worst)
    return {
        "generated_at": report.created_at,
        "artifact": dict(artifact_doc),
        "scanner": dict(SCANNER),
        "severity": SEVERITY[top],
        "vulnerabilities": items,
    }


def _text(f: Finding, texts: Mapping[str, AdvisoryText]) -> AdvisoryText:
    """The DB's text for a finding: of its own id, else of the first advisory that matched."""
    for key in (f.id, *f.advisory_ids, *f.aliases):
        found = texts.get(key)
        if found is not None and (found.description or found.cwe_ids):
            return found
    return AdvisoryText()


def vulnerability_item(f: Finding, text: AdvisoryText) -> dict[str, Any]:
    pkg = f.package
    item: dict[str, Any] = {
        "id": f.id,
        "package": pkg.name,
        "version": pkg.version,
        "fix_version": f.fixed_version,
        "severity": SEVERITY.get(f.severity, "Unknown"),
        "description": text.description or f.title,
        "links": list(f.references),
        "cwe_ids": list(text.cwe_ids),
        "vendor_attributes": _vendor_attributes(f),
    }
    cvss = _cvss(f)
    if cvss:
        item["preferred_cvss"] = cvss
    return item


def _cvss(f: Finding) -> dict[str, Any]:
    c = f.cvss
    if c is None:
        return {}
    if c.version.startswith("2"):
        out: dict[str, Any] = {"vector_v2": c.vector}
        if c.score is not None:
            out["score_v2"] = c.score
        return out
    if c.version.startswith("3"):
        out = {"vector_v3": c.vector}
        if c.score is not None:
            out["score_v3"] = c.score
        return out
    return {}  # CVSS 4.0 has no field in Harbor's model: vendor_attributes carries it


def _vendor_attributes(f: Finding) -> dict[str, Any]:
    pkg = f.package
    out: dict[str, Any] = {
        "status": f.status,
        "severity_source": f.severity_source,
        "data_source": f.data_source,
        "aliases": list(f.aliases),
        "advisory_ids": list(f.advisory_ids),
        "package_type": pkg.type,
        "ecosystem": pkg.ecosystem,
        "purl": pkg.purl,
        "paths": list(pkg.paths),
        "inherited": f.inherited,
    }
    if pkg.layer is not None:
        out["layer"] = {"index": pkg.layer.index, "diff_id": pkg.layer.diff_id}
    if f.cvss is not None:
        out["cvss"] = {"version": f.cvss.version, "vector": f.cvss.vector, "score": f.cvss.score, "source": f.cvss.source}
    if f.epss is not None:
        out["epss"] = {"score": f.epss.score, "percentile": f.epss.percentile, "date": f.epss.date}
    if f.kev is not None:
        out["kev"] = {"date_added": f.kev.date_added, "due_date": f.kev.due_date, "ransomware": f.kev.ransomware}
    if f.risk is not None:
        out["risk"] = {"score": f.risk.score, "reason": f.risk.reason}
    return out


def sbom_report(report: Report, artifact_doc: Mapping[str, str], media_type: str, sbom: Mapping[str, Any]) -> dict[str, Any]:
    """The `HarborSbomReport`: our CycloneDX or SPDX document (rendered by report/) wrapped for Harbor."""
    return {
        "generated_at": report.created_at,
        "artifact": dict(artifact_doc),
        "scanner": dict(SCANNER),
        "vendor_attributes": {"packages": len(report.packages)},
        "media_type": media_type,
        "sbom": dict(sbom),
    }


def negotiate(accept: str | None, offered: Sequence[str] = REPORT_TYPES) -> str | None:
    """The report type an `Accept` header asks for, compared without spaces and case (Harbor writes
    `…; version=1.0`); a missing header or `*/*` means Harbor's own report; None: nothing we produce."""
    if not accept or accept.strip() in ("*/*", "application/json"):
        return VULN_HARBOR
    norm = {_norm(t): t for t in offered}
    for part in _split_accept(accept):
        hit = norm.get(_norm(part))
        if hit is not None:
            return hit
        if _norm(part) in ("*/*", "application/*"):
            return VULN_HARBOR
    return None


def _split_accept(accept: str) -> list[str]:
    """Accept's media ranges: commas separate them, but our types carry `; version=…` parameters, so a
    `q=` parameter is dropped and the rest kept."""
    out = []
    for item in accept.split(","):
        params = [p.strip() for p in item.split(";") if p.strip() and not p.strip().lower().startswith("q=")]
        if params:
            out.append("; ".join(params))
    return out


def _norm(media_type: str) -> str:
    return "".join(media_type.split()).lower()
