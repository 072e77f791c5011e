"""CycloneDX 1.6 (JSON and XML) from the report dict, via cyclonedx-python-lib.

Layout (after Syft and Trivy, so CycloneDX consumers find things where they look):
- `metadata.component`: the image (type `container`), with target and config facts as `hullscan:` properties.
- One `operating-system` component for the detected OS (bom-ref `os`), OS facts as properties.
- One component per report package: bom-ref = the report package `id`, purl, licenses (SPDX id, expression or
  name), publisher = maintainer, properties for layer (`hullscan:layer:index`, `hullscan:layer:diff_id`),
  source package, ecosystem, paths, `owned_by`.
- Packages of the report's `history` (removed or replaced by a later layer; their files still ship in a lower
  layer blob) are components with scope `excluded`, bom-ref `removed-<id>` and `hullscan:history:*` properties.
- `dependencies`: the image → the OS and every (current) package; the OS → its OS packages.
- `vulnerabilities` whenever the report has any (the vuln scanner ran): see `vulnerability()`, the one place
  that maps a report finding: ratings (CVSS with its method, the severity word and its source), source and
  alias references with their advisory URLs, advisories (the finding's references), affects → the
  component's bom-ref (= report package id), cwes, and `analysis` for VEX decisions: findings the policy
  suppressed (VEX `not_affected`/`fixed`, exceptions) are included with their analysis, VEX annotations too.

The serial number and timestamp derive from the report (uuid5 of target + created_at), so rendering
the same report twice gives the same bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    ImpactAnalysisAffectedStatus,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.output.xml import XmlV1Dot6
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL

P = "hullscan:"
OS_REF = "os"
IMAGE_REF = "image"
OS_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "ebuild"})
_EXPR = re.compile(r"\s(AND|OR|WITH)\s|\(", re.I)


def render_json(report: dict[str, Any]) -> bytes:
    return (JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n").encode()


def render_xml(report: dict[str, Any]) -> bytes:
    return (XmlV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n").encode()


render = render_json


def _props(pairs: Iterable[tuple[str, Any]]) -> list[Property]:
    out = []
    for name, value in pairs:
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append(Property(name=P + name, value=str(value)))
    return out


def _time(report: dict[str, Any]) -> datetime:
    raw = report.get("created_at") or ""
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def licenses(values: Iterable[str]) -> list[DisjunctiveLicense | LicenseExpression]:
    """Report license strings → CycloneDX: one SPDX expression alone, else SPDX ids or free names."""
    vals = [v.strip() for v in values if v and v.strip()]
    if len(vals) == 1 and _EXPR.search(vals[0]):
        return [LicenseExpression(vals[0])]
    out: list[DisjunctiveLicense | LicenseExpression] = []
    for v in vals:
        spdx = fixup_id(v)
        out.append(DisjunctiveLicense(id=spdx) if spdx else DisjunctiveLicense(name=v))
    return out


def _purl(value: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(value) if value else None
    except ValueError:
        return None


def package_component(pkg: dict[str, Any], ref: str, removed: dict[str, Any] | None = None) -> Component:
    """A report package; `removed` = its `history` entry when a later layer removed or replaced it."""
    layer = pkg.get("layer") or {}
    extra = pkg.get("extra") or {}
    props = [
        ("package:type", pkg.get("type")), ("package:ecosystem", pkg.get("ecosystem")),
        ("package:arch", pkg.get("arch")), ("package:source_name", pkg.get("source_name")),
        ("package:source_version", pkg.get("source_version")), ("package:kind", pkg.get("kind")),
        ("package:analyzer", pkg.get("analyzer")), ("package:owned_by", pkg.get("owned_by")),
        ("package:dev", pkg.get("dev") or None), ("package:indirect", pkg.get("indirect") or None),
        ("layer:index", layer.get("index")), ("layer:diff_id", layer.get("diff_id")),
    ]
    props += [("package:path", p) for p in pkg.get("paths") or []]
    if removed is not None:
        gone = removed.get("removed_in") or {}
        props += [("history:removed_in:index", gone.get("index")), ("history:removed_in:diff_id", gone.get("diff_id")),
                  ("history:replaced_by", removed.get("replaced_by"))]
    name = pkg.get("name") or "unknown"
    group = None
    if pkg.get("type") == "maven" and ":" in name:
        group, name = name.split(":", 1)  # CycloneDX keeps groupId apart
    return Component(
        name=name, group=group, version=pkg.get("version") or None, type=ComponentType.LIBRARY,
        bom_ref=ref, purl=_purl(pkg.get("purl", "")), licenses=licenses(pkg.get("licenses") or []),
        publisher=extra.get("maintainer") or None, properties=_props(props),
        # a removed/replaced package is not in the final filesystem, but its files still ship in a lower layer
        scope=ComponentScope.EXCLUDED if removed is not None else None,
    )


def os_component(os: dict[str, Any]) -> Component:
    return Component(
        name=os.get("family") or "unknown", version=os.get("version") or None, type=ComponentType.OPERATING_SYSTEM,
        bom_ref=OS_REF, description=os.get("name") or None,
        properties=_props([("os:name", os.get("name")), ("os:release", os.get("release")),
                           ("os:codename", os.get("codename")), ("os:ecosystem", os.get("ecosystem")),
                           ("os:eol", os.get("eol")), ("os:source_path", os.get("source_path"))]),
    )


def verdict_properties(report: dict[str, Any]) -> list[tuple[str, Any]]:
    """The policy verdict as properties: passed, and each failed rule with the findings behind it."""
    verdict = report.get("verdict") or {}
    if not verdict.get("gate"):
        return []
    props: list[tuple[str, Any]] = [("verdict:passed", verdict.get("passed")), ("verdict:policy", verdict.get("policy"))]
    for rule in verdict.get("failed_rules") or []:
        props.append((f"verdict:failed:{rule['rule']}", "; ".join(rule.get("findings") or [])))
    return props


def image_component(report: dict[str, Any]) -> Component:
    target = report.get("target") or {}
    digest = target.get("manifest_digest") or target.get("config_digest") or ""
    props: list[tuple[str, Any]] = [
        ("image:input", target.get("input")), ("image:type", target.get("type")),
        ("image:manifest_digest", target.get("manifest_digest")),
        ("image:config_digest", target.get("config_digest")), ("image:architecture", report.get("architecture")),
    ]
    props += [("image:repo_tag", t) for t in target.get("repo_tags") or []]
    for layer in report.get("layers") or []:
        props.append((f"layer:{layer.get('index')}:diff_id", layer.get("diff_id")))
        props.append((f"layer:{layer.get('index')}:base", layer.get("base")))
    base = report.get("base_image") or {}
    props += [("base_image:name", base.get("name")), ("base_image:layer_count", base.get("layer_count")),
              ("base_image:provisional", base.get("provisional"))]
    os = report.get("os") or {}
    props += [("os:family", os.get("family")), ("os:release", os.get("release")),
              ("os:ecosystem", os.get("ecosystem"))]
    props += verdict_properties(report)
    return Component(name=target.get("name") or target.get("input") or "image", version=digest or None,
                     type=ComponentType.CONTAINER, bom_ref=IMAGE_REF, properties=_props(props))


_SEVERITY = {s.value: s for s in VulnerabilitySeverity}
# VEX status (OpenVEX / our policy) → CycloneDX impact analysis state
_STATE = {
    "not_affected": ImpactAnalysisState.NOT_AFFECTED,
    "fixed": ImpactAnalysisState.RESOLVED,
    "affected": ImpactAnalysisState.EXPLOITABLE,
    "under_investigation": ImpactAnalysisState.IN_TRIAGE,
}
# OpenVEX justifications → CycloneDX's (the CycloneDX VEX guide's mapping)
_JUSTIFICATION = {
    "component_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_in_execute_path": ImpactAnalysisJustification.CODE_NOT_REACHABLE,
    "vulnerable_code_cannot_be_controlled_by_adversary": ImpactAnalysisJustification.REQUIRES_ENVIRONMENT,
    "inline_mitigations_already_exist": ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
}
# where an advisory id is published, by prefix (for `source.url` and alias references)
_ADVISORY_URL = (
    ("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/{}"),
    ("GHSA-", "GitHub", "https://github.com/advisories/{}"),
    ("PYSEC-", "PyPA", "https://osv.dev/vulnerability/{}"),
    ("GO-", "Go", "https://pkg.go.dev/vuln/{}"),
    ("RUSTSEC-", "RustSec", "https://rustsec.org/advisories/{}.html"),
    ("DSA-", "Debian", "https://security-tracker.debian.org/tracker/{}"),
    ("DLA-", "Debian", "https://security-tracker.debian.org/tracker/{}"),
    ("ALSA-", "AlmaLinux", "https://errata.almalinux.org/"),
    ("RHSA-", "Red Hat", "https://access.redhat.com/errata/{}"),
    ("USN-", "Ubuntu", "https://ubuntu.com/security/notices/{}"),
)


def _score_source(version: str, vector: str) -> VulnerabilityScoreSource:
    v = f"{version or ''} {(vector or '').split('/')[0]}"
    if "4.0" in v or "CVSS:4" in v:
        return VulnerabilityScoreSource.CVSS_V4
    if "3.1" in v:
        return VulnerabilityScoreSource.CVSS_V3_1
    if "3.0" in v or "CVSS:3" in v:
        return VulnerabilityScoreSource.CVSS_V3
    if (version or "").startswith("2") or (vector and "Au:" in vector):
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
    except (InvalidOperation, ValueError):
        return None


def _source(advisory_id: str, name: str | None = None) -> VulnerabilitySource:
    for prefix, who, url in _ADVISORY_URL:
        if advisory_id.startswith(prefix):
            return VulnerabilitySource(name=name or who, url=XsUri(url.format(advisory_id)))
    if advisory_id:
        return VulnerabilitySource(name=name or "OSV", url=XsUri(f"https://osv.dev/vulnerability/{advisory_id}"))
    return VulnerabilitySource(name=name)


def _ratings(v: dict[str, Any]) -> list[VulnerabilityRating]:
    """The CVSS score (method from its version) and the severity word when another source gave it."""
    ratings = []
    severity = _SEVERITY.get(str(v.get("severity") or "unknown").lower())
    sev_source = str(v.get("severity_source") or "")
    cvss = v.get("cvss") or {}
    if cvss.get("score") is not None or cvss.get("vector"):
        from_same = not sev_source or sev_source == cvss.get("source")
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=str(cvss.get("source"))) if cvss.get("source") else None,
            score=_decimal(cvss.get("score")), severity=severity if from_same else None,
            method=_score_source(str(cvss.get("version") or ""), str(cvss.get("vector") or "")),
            vector=cvss.get("vector") or None))
        if from_same:
            return ratings
    if severity is not None:
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=sev_source) if sev_source else None,
            severity=severity, method=VulnerabilityScoreSource.OTHER))
    return ratings


def _cwes(v: dict[str, Any]) -> list[int]:
    out = []
    for c in v.get("cwes") or []:
        m = re.fullmatch(r"(?:CWE-)?(\d+)", str(c).strip(), re.I)
        if m:
            out.append(int(m.group(1)))
    return out


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _analysis(v: dict[str, Any], suppressed: dict[str, Any] | None) -> VulnerabilityAnalysis | None:
    """VEX decisions only: a suppression (VEX `not_affected`/`fixed`, a policy exception) or a VEX
    annotation (`affected`, `under_investigation`); else only a vendor's `not_affected` (a statement about
    impact; other vendor statuses are in the properties)."""
    decision = suppressed or v.get("vex")
    if not decision:
        if v.get("status") == "not_affected":  # the vendor's own statement (a distro's "not affected")
            return VulnerabilityAnalysis(state=ImpactAnalysisState.NOT_AFFECTED,
                                         detail=f"vendor status from {v.get('data_source') or 'the advisory'}")
        return None
    status = decision.get("status") or ("not_affected" if suppressed else "")
    just_key = decision.get("vex_justification") or decision.get("justification") or ""
    justification = _JUSTIFICATION.get(just_key)
    detail_parts = [str(x) for x in (decision.get("impact"), decision.get("justification") if justification is None else None)
                    if x]
    if suppressed and suppressed.get("by") == "exception":
        detail_parts.append(f"policy exception ({suppressed.get('source')})"
                            + (f", owner {suppressed['owner']}" if suppressed.get("owner") else "")
                            + (f", expires {suppressed['expires']}" if suppressed.get("expires") else ""))
    elif decision.get("source"):
        detail_parts.append(f"VEX: {decision['source']}")
    responses = [ImpactAnalysisResponse.WILL_NOT_FIX] if suppressed and status == "affected" else None
    return VulnerabilityAnalysis(
        state=_STATE.get(status), justification=justification if status == "not_affected" else None,
        responses=responses, detail="; ".join(detail_parts) or None)


def vulnerability(v: dict[str, Any], refs: dict[str, str], index: int,
                  suppressed: dict[str, Any] | None = None) -> Vulnerability:
    """One report finding (docs/report.schema.json `vulnerabilities[]`, or a `suppressed[].finding` with
    its entry) → a CycloneDX vulnerability: ratings, source, alias references, advisories, affects (the
    component's bom-ref, the installed version affected and the fixed version unaffected), analysis."""
    pkg = v.get("package") or {}
    ref = refs.get(pkg.get("id", "")) or refs.get(pkg.get("purl", ""))
    vid = str(v.get("id") or "")
    status = v.get("status", "")
    fixed = v.get("fixed_version") or ""
    affects = []
    if ref:
        versions = []
        if pkg.get("version"):
            versions.append(BomTargetVersionRange(
                version=pkg["version"], status=ImpactAnalysisAffectedStatus.UNAFFECTED if status == "not_affected"
                else ImpactAnalysisAffectedStatus.AFFECTED))
        if fixed and fixed != pkg.get("version"):
            versions.append(BomTargetVersionRange(version=fixed, status=ImpactAnalysisAffectedStatus.UNAFFECTED))
        affects.append(BomTarget(ref=ref, versions=versions or None))
    urls = [u for u in v.get("references") or [] if isinstance(u, str) and re.match(r"https?://\S+$", u)]
    layer = v.get("layer") or {}
    epss = v.get("epss") or {}
    kev = v.get("kev") or {}
    return Vulnerability(
        bom_ref=f"vuln-{index}-{vid}", id=vid or None,
        source=_source(vid, v.get("data_source") or None),
        references=[VulnerabilityReference(id=a, source=_source(a)) for a in v.get("aliases") or [] if a and a != vid],
        ratings=_ratings(v), cwes=_cwes(v) or None,
        description=v.get("title") or None,
        recommendation=f"Upgrade {pkg.get('name', '')} to {fixed}" if fixed else None,
        advisories=[VulnerabilityAdvisory(url=XsUri(u)) for u in urls],
        published=_when(v.get("published")),
        analysis=_analysis(v, suppressed),
        affects=affects,
        properties=_props([
            ("status", status), ("fixed_version", fixed), ("severity_source", v.get("severity_source")),
            ("layer:index", layer.get("index")), ("layer:diff_id", layer.get("diff_id")),
            ("layer:base", layer.get("base")), ("risk:score", (v.get("risk") or {}).get("score")),
            ("risk:reason", (v.get("risk") or {}).get("reason")), ("epss:score", epss.get("score")),
            ("epss:percentile", epss.get("percentile")), ("kev:date_added", kev.get("date_added")),
            ("suppressed_by", (suppressed or {}).get("by")),
        ]),
    )


def build_bom(report: dict[str, Any]) -> Bom:
    target = report.get("target") or {}
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"hullscan:{target.get('input', '')}:{report.get('created_at', '')}")
    bom = Bom(serial_number=serial)
    bom.metadata.timestamp = _time(report)
    tool = report.get("tool") or {}
    bom.metadata.tools.components.add(Component(
        type=ComponentType.APPLICATION, name=tool.get("name") or "hullscan", version=tool.get("version") or None))
    image = image_component(report)
    bom.metadata.component = image
    os_comp = os_component(report["os"]) if report.get("os") else None
    if os_comp is not None:
        bom.components.add(os_comp)
    refs: dict[str, str] = {}
    os_deps: list[Component] = []
    all_deps: list[Component] = [os_comp] if os_comp is not None else []
    for pkg in report.get("packages") or []:
        ref = str(pkg.get("id") or pkg.get("purl") or f"pkg-{len(refs)}")
        while ref in refs.values() or ref in (OS_REF, IMAGE_REF):
            ref += "-dup"
        comp = package_component(pkg, ref)
        refs[str(pkg.get("id", ref))] = ref
        if pkg.get("purl"):
            refs.setdefault(pkg["purl"], ref)
        bom.components.add(comp)
        all_deps.append(comp)
        if pkg.get("type") in OS_TYPES:
            os_deps.append(comp)
    for removed in report.get("history") or []:
        pkg = removed.get("package") or {}
        ref = "removed-" + str(pkg.get("id") or pkg.get("purl") or len(refs))
        while ref in refs.values():
            ref += "-dup"
        refs[ref] = ref
        bom.components.add(package_component(pkg, ref, removed))
    bom.register_dependency(image, all_deps)
    if os_comp is not None:
        bom.register_dependency(os_comp, os_deps)
    for i, v in enumerate(report.get("vulnerabilities") or []):
        bom.vulnerabilities.add(vulnerability(v, refs, i))
    # findings the policy suppressed stay in the BOM with their VEX analysis (a VDR/VEX reader wants them)
    shown = len(report.get("vulnerabilities") or [])
    for i, s in enumerate(x for x in report.get("suppressed") or [] if x.get("kind") == "vulnerability"):
        bom.vulnerabilities.add(vulnerability(s.get("finding") or {}, refs, shown + i, suppressed=s))
    return bom
