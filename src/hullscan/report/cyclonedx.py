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
  that maps a report finding; later scanners extend it, the rest of the writer does not change.

The serial number and timestamp derive from the report (uuid5 of target + created_at), so rendering
the same report twice gives the same bytes.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    ImpactAnalysisAffectedStatus,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.model.impact_analysis import ImpactAnalysisResponse, ImpactAnalysisState
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
        return datetime(1970, 1, 1, tzinfo=timezone.utc)


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
    return Component(name=target.get("name") or target.get("input") or "image", version=digest or None,
                     type=ComponentType.CONTAINER, bom_ref=IMAGE_REF, properties=_props(props))


_SEVERITY = {s.value: s for s in VulnerabilitySeverity}
_STATE = {
    "not_affected": ImpactAnalysisState.NOT_AFFECTED,
    "under_investigation": ImpactAnalysisState.IN_TRIAGE,
    "fixed": ImpactAnalysisState.EXPLOITABLE,
    "affected": ImpactAnalysisState.EXPLOITABLE,
    "will_not_fix": ImpactAnalysisState.EXPLOITABLE,
    "fix_deferred": ImpactAnalysisState.EXPLOITABLE,
    "end_of_life": ImpactAnalysisState.EXPLOITABLE,
}
_RESPONSE = {"fixed": [ImpactAnalysisResponse.UPDATE], "will_not_fix": [ImpactAnalysisResponse.WILL_NOT_FIX]}


def _score_source(version: str, vector: str) -> VulnerabilityScoreSource:
    v = (version or "") + " " + (vector or "")
    if "4.0" in v:
        return VulnerabilityScoreSource.CVSS_V4
    if "3.1" in v:
        return VulnerabilityScoreSource.CVSS_V3_1
    if "3.0" in v or "CVSS:3" in v:
        return VulnerabilityScoreSource.CVSS_V3
    if "2" in v:
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def vulnerability(v: dict[str, Any], refs: dict[str, str], index: int) -> Vulnerability:
    """One report finding (docs/report.schema.json `vulnerabilities[]`) → a CycloneDX vulnerability."""
    pkg = v.get("package") or {}
    ref = refs.get(pkg.get("id", "")) or refs.get(pkg.get("purl", ""))
    ratings = []
    severity = _SEVERITY.get(str(v.get("severity", "")).lower())
    cvss = v.get("cvss") or {}
    if cvss.get("score") is not None or severity is not None:
        score = cvss.get("score")
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=v.get("data_source")) if v.get("data_source") else None,
            score=_decimal(score), severity=severity,
            method=_score_source(str(cvss.get("version", "")), str(cvss.get("vector", ""))) if cvss else None,
            vector=cvss.get("vector") or None,
        ))
    status = v.get("status", "")
    affects = []
    if ref:
        affects.append(BomTarget(ref=ref, versions=[BomTargetVersionRange(
            version=pkg.get("version") or None,
            status=ImpactAnalysisAffectedStatus.UNAFFECTED if status == "not_affected"
            else ImpactAnalysisAffectedStatus.AFFECTED)] if pkg.get("version") else None))
    fixed = v.get("fixed_version") or ""
    urls = [u for u in v.get("references") or [] if isinstance(u, str) and re.match(r"https?://", u)]
    layer = v.get("layer") or {}
    return Vulnerability(
        bom_ref=f"vuln-{index}-{v.get('id', '')}", id=v.get("id") or None,
        source=VulnerabilitySource(name=v.get("data_source"), url=XsUri(urls[0]) if urls else None)
        if v.get("data_source") else None,
        references=[VulnerabilityReference(id=a, source=VulnerabilitySource(name="alias"))
                    for a in v.get("aliases") or [] if a and a != v.get("id")],
        ratings=ratings, description=v.get("title") or None,
        recommendation=f"Upgrade {pkg.get('name', '')} to {fixed}" if fixed else None,
        analysis=VulnerabilityAnalysis(state=_STATE[status], responses=_RESPONSE.get(status))
        if status in _STATE else None,
        affects=affects,
        properties=_props([("status", status), ("fixed_version", fixed), ("layer:index", layer.get("index")),
                           ("layer:diff_id", layer.get("diff_id"))]),
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
    return bom
