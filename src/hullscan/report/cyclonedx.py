"""CycloneDX 1.6 (JSON and XML) from a Report, via cyclonedx-python-lib.

Layout (after Syft and Trivy, so CycloneDX consumers find things where they look):
- `metadata.component`: the image (type `container`), with target and config facts as `hullscan:` properties.
- One `operating-system` component for the detected OS (bom-ref `os`), OS facts as properties.
- One component per report package: bom-ref = the report package `id`, purl, licenses (SPDX id, expression or
  name), publisher = maintainer, properties for layer (`hullscan:layer:index`, `hullscan:layer:diff_id`),
  `hullscan:inherited` (the package's `inherited`: `true` when the base image brought it, `false` when the
  image's own layers did, absent when unknown), source package, ecosystem, paths, `owned_by`.
- The base image is told by `hullscan:base_image:*` properties of `metadata.component` (name, digest,
  method — `annotation`, `catalog`, `similar`, `history`, `none`, `not_applicable` —, layer count,
  created, similarity, mismatch), not by a component hierarchy; a vulnerability is inherited when the
  component it `affects` is.
- Packages of the report's `history` (removed or replaced by a later layer; their files still ship in a lower
  layer blob) are components with scope `excluded`, bom-ref `removed-<id>` and `hullscan:history:*` properties.
- `dependencies`: the image → the OS and every (current) package; the OS → its OS packages.
- `vulnerabilities` whenever the report has any (the vuln scanner ran): see `vulnerability()`, the one place
  that maps a finding: ratings (CVSS with its method, the severity word and its source), source and
  alias references with their advisory URLs, advisories (the finding's references), affects → the
  component's bom-ref (= report package id), and `analysis` for VEX decisions: findings the policy
  suppressed (VEX `not_affected`/`fixed`, exceptions) are included with their analysis, VEX annotations too.

The serial number and timestamp derive from the report (uuid5 of target + created_at), so rendering
the same report twice gives the same bytes.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
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

from hullscan import __version__
from hullscan.model.findings import Finding, VexNote
from hullscan.model.inventory import OSInfo, Package, RemovedPackage
from hullscan.model.report import Report
from hullscan.model.verdict import Suppressed

P = "hullscan:"
OS_REF = "os"
IMAGE_REF = "image"
OS_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "ebuild"})
_EXPR = re.compile(r"\s(AND|OR|WITH)\s|\(", re.I)


def render_json(report: Report) -> bytes:
    return (JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n").encode()


def render_xml(report: Report) -> bytes:
    return (XmlV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n").encode()


render = render_json


def _props(pairs: Iterable[tuple[str, str | int | float | bool | None]]) -> list[Property]:
    """Properties of the values that are set (booleans as `true`/`false`)."""
    out = []
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append(Property(name=P + name, value=str(value)))
    return out


def _time(report: Report) -> datetime:
    try:
        return datetime.fromisoformat(report.created_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def licenses(values: Iterable[str]) -> list[DisjunctiveLicense | LicenseExpression]:
    """Report license strings → CycloneDX: one SPDX expression alone, else SPDX ids or free names."""
    vals = [v.strip() for v in values if v and v.strip()]
    if len(vals) == 1 and _EXPR.search(vals[0]):
        return [LicenseExpression(vals[0])]
    if any(_EXPR.search(v) for v in vals) and all(_is_expression(v) for v in vals):
        # CycloneDX allows an expression only alone: several licences, one compound, are their AND
        return [LicenseExpression(" AND ".join(f"({v})" if _EXPR.search(v) else v for v in vals))]
    out: list[DisjunctiveLicense | LicenseExpression] = []
    for v in vals:
        spdx = fixup_id(v)
        out.append(DisjunctiveLicense(id=spdx) if spdx else DisjunctiveLicense(name=v))
    return out


@functools.lru_cache(maxsize=1)
def _spdx_licensing() -> Any:  # license_expression.Licensing; imported here, off the warm path
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def _is_expression(value: str) -> bool:
    """An SPDX expression of list ids and LicenseRefs (what the OS analyzers emit), not free text."""
    lic = _spdx_licensing()
    try:
        parsed = lic.parse(value, validate=False)
    except Exception:  # the parser raises several types on free text
        return False
    return parsed is not None and all(str(k).startswith("LicenseRef-") for k in lic.unknown_license_keys(parsed))


def _purl(value: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(value) if value else None
    except ValueError:
        return None


def package_component(pkg: Package, ref: str, removed: RemovedPackage | None = None) -> Component:
    """A report package; `removed` = its `history` entry when a later layer removed or replaced it."""
    layer = pkg.layer
    props: list[tuple[str, str | int | bool | None]] = [
        ("package:type", pkg.type), ("package:ecosystem", pkg.ecosystem),
        ("package:arch", pkg.arch), ("package:source_name", pkg.source_name),
        ("package:source_version", pkg.source_version), ("package:kind", pkg.kind),
        ("package:analyzer", pkg.analyzer), ("package:owned_by", pkg.owned_by),
        ("package:dev", pkg.dev or None), ("package:indirect", pkg.indirect or None),
        ("layer:index", layer.index if layer is not None else None),
        ("layer:diff_id", layer.diff_id if layer is not None else None),
        # DESIGN's `inherited`: the package's own field (true for a squashed image's base packages too),
        # which risk weighs; `hullscan sbom` reads it back
        ("inherited", pkg.inherited),
        ("origin", pkg.origin),  # DESIGN's `origin` in a container scan (image or runtime); absent elsewhere
    ]
    props += [("package:path", p) for p in pkg.paths]
    if removed is not None:
        props += [("history:removed_in:index", removed.removed_in.index),
                  ("history:removed_in:diff_id", removed.removed_in.diff_id), ("history:replaced_by", removed.replaced_by)]
    name = pkg.name or "unknown"
    group = None
    if pkg.type == "maven" and ":" in name:
        group, name = name.split(":", 1)  # CycloneDX keeps groupId apart
    return Component(
        name=name, group=group, version=pkg.version or None, type=ComponentType.LIBRARY,
        bom_ref=ref, purl=_purl(pkg.purl), licenses=licenses(pkg.licenses),
        publisher=pkg.extra.get("maintainer") or None, properties=_props(props),
        # a removed/replaced package is not in the final filesystem, but its files still ship in a lower layer
        scope=ComponentScope.EXCLUDED if removed is not None else None,
    )


def os_component(os: OSInfo) -> Component:
    return Component(
        name=os.family or "unknown", version=os.version or None, type=ComponentType.OPERATING_SYSTEM,
        bom_ref=OS_REF, description=os.name or None,
        properties=_props([("os:name", os.name), ("os:release", os.release), ("os:codename", os.codename),
                           ("os:ecosystem", os.ecosystem), *eol_properties(os), ("os:source_path", os.source_path)]),
    )


def eol_properties(os: OSInfo) -> list[tuple[str, str | None]]:
    """`os.eol` as properties (none while supported): `os:eol` is the date support ended."""
    eol = os.eol
    if eol is None:
        return []
    return [("os:eol", eol.date), ("os:eol_source", eol.source), ("os:eol_as_of", eol.as_of),
            ("os:eol_extended", eol.extended)]


def verdict_properties(report: Report) -> list[tuple[str, str | bool | None]]:
    """The policy verdict as properties: passed, and each failed rule with the findings behind it."""
    verdict = report.verdict
    if verdict is None or not verdict.gate:
        return []
    props: list[tuple[str, str | bool | None]] = [("verdict:passed", verdict.passed), ("verdict:policy", verdict.policy)]
    for rule in verdict.failed_rules:
        props.append((f"verdict:failed:{rule.rule}", "; ".join(rule.findings)))
    return props


def image_component(report: Report) -> Component:
    target = report.target
    digest = target.manifest_digest or target.config_digest
    props: list[tuple[str, str | int | float | bool | None]] = [
        ("image:input", target.input), ("image:type", target.type), ("image:manifest_digest", target.manifest_digest),
        ("image:config_digest", target.config_digest), ("image:architecture", report.architecture),
    ]
    props += [("image:repo_tag", t) for t in target.repo_tags]
    for layer in report.layers:
        props.append((f"layer:{layer.index}:diff_id", layer.diff_id))
        props.append((f"layer:{layer.index}:base", layer.base))
    base = report.base_image
    props += [("base_image:name", base.name), ("base_image:digest", base.digest),
              ("base_image:method", base.method), ("base_image:layer_count", base.layer_count),
              ("base_image:provisional", base.provisional), ("base_image:created", base.created),
              ("base_image:similarity", base.similarity), ("base_image:mismatch", base.mismatch)]
    if report.os is not None:
        props += [("os:family", report.os.family), ("os:release", report.os.release), ("os:ecosystem", report.os.ecosystem),
                  *eol_properties(report.os)]
    if report.db is not None:  # what the DB covered: a gap is never silent
        props.append(("coverage:gaps", report.db.coverage_gaps))
        for c in report.db.coverage:
            props += [(f"coverage:{c.ecosystem}:advisories", c.advisories),
                      (f"coverage:{c.ecosystem}:newest_advisory", c.newest_advisory)]
    props += verdict_properties(report)
    return Component(name=target.name or target.input or "image", version=digest or None,
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
    v = f"{version} {vector.split('/')[0]}"
    if "4.0" in v or "CVSS:4" in v:
        return VulnerabilityScoreSource.CVSS_V4
    if "3.1" in v:
        return VulnerabilityScoreSource.CVSS_V3_1
    if "3.0" in v or "CVSS:3" in v:
        return VulnerabilityScoreSource.CVSS_V3
    if version.startswith("2") or "Au:" in vector:
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def _source(advisory_id: str, name: str | None = None) -> VulnerabilitySource:
    for prefix, who, url in _ADVISORY_URL:
        if advisory_id.startswith(prefix):
            return VulnerabilitySource(name=name or who, url=XsUri(url.format(advisory_id)))
    if advisory_id:
        return VulnerabilitySource(name=name or "OSV", url=XsUri(f"https://osv.dev/vulnerability/{advisory_id}"))
    return VulnerabilitySource(name=name)


def _ratings(v: Finding) -> list[VulnerabilityRating]:
    """The CVSS score (method from its version) and the severity word when another source gave it."""
    ratings = []
    severity = _SEVERITY.get((v.severity or "unknown").lower())
    sev_source = v.severity_source
    cvss = v.cvss
    if cvss is not None and (cvss.score is not None or cvss.vector):
        from_same = not sev_source or sev_source == cvss.source
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=cvss.source) if cvss.source else None,
            score=Decimal(str(cvss.score)) if cvss.score is not None else None, severity=severity if from_same else None,
            method=_score_source(cvss.version, cvss.vector), vector=cvss.vector or None))
        if from_same:
            return ratings
    if severity is not None:
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=sev_source) if sev_source else None,
            severity=severity, method=VulnerabilityScoreSource.OTHER))
    return ratings


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _analysis(v: Finding, suppressed: Suppressed | None) -> VulnerabilityAnalysis | None:
    """VEX decisions only: a suppression (VEX `not_affected`/`fixed`, a policy exception) or a VEX
    annotation (`affected`, `under_investigation`); else only a vendor's `not_affected` (a statement about
    impact; other vendor statuses are in the properties)."""
    decision: Suppressed | VexNote | None = suppressed or v.vex
    if decision is None:
        if v.status == "not_affected":  # the vendor's own statement (a distro's "not affected")
            return VulnerabilityAnalysis(state=ImpactAnalysisState.NOT_AFFECTED,
                                         detail=f"vendor status from {v.data_source or 'the advisory'}")
        return None
    status = decision.status or ("not_affected" if suppressed else "")
    just_key = (suppressed.vex_justification if suppressed else "") or decision.justification
    justification = _JUSTIFICATION.get(just_key)
    detail_parts = [x for x in (decision.impact, decision.justification if justification is None else None) if x]
    if suppressed and suppressed.by == "exception":
        detail_parts.append(f"policy exception ({suppressed.source})"
                            + (f", owner {suppressed.owner}" if suppressed.owner else "")
                            + (f", expires {suppressed.expires}" if suppressed.expires else ""))
    elif decision.source:
        detail_parts.append(f"VEX: {decision.source}")
    responses = [ImpactAnalysisResponse.WILL_NOT_FIX] if suppressed and status == "affected" else None
    return VulnerabilityAnalysis(
        state=_STATE.get(status), justification=justification if status == "not_affected" else None,
        responses=responses, detail="; ".join(detail_parts) or None)


def vulnerability(v: Finding, refs: dict[str, str], index: int, suppressed: Suppressed | None = None) -> Vulnerability:
    """One finding (or a suppressed one with what suppressed it) → a CycloneDX vulnerability: ratings,
    source, alias references, advisories, affects (the component's bom-ref, the installed version affected
    and the fixed version unaffected), analysis."""
    pkg = v.package
    vid = v.id
    fixed = v.fixed_version
    affects = []
    # one finding of several copies of a package (`locations`) affects each copy's component
    for ref in dict.fromkeys(refs.get(loc.package.id) or refs.get(loc.package.purl) for loc in v.where):
        if not ref:
            continue
        versions = []
        if pkg.version:
            versions.append(BomTargetVersionRange(
                version=pkg.version, status=ImpactAnalysisAffectedStatus.UNAFFECTED if v.status == "not_affected"
                else ImpactAnalysisAffectedStatus.AFFECTED))
        if fixed and fixed != pkg.version:
            versions.append(BomTargetVersionRange(version=fixed, status=ImpactAnalysisAffectedStatus.UNAFFECTED))
        affects.append(BomTarget(ref=ref, versions=versions or None))
    urls = [u for u in v.references if re.match(r"https?://\S+$", u)]
    layer, risk = v.layer, v.risk
    return Vulnerability(
        bom_ref=f"vuln-{index}-{vid}", id=vid or None,
        source=_source(vid, v.data_source or None),
        references=[VulnerabilityReference(id=a, source=_source(a)) for a in v.aliases if a and a != vid],
        ratings=_ratings(v),
        description=v.title or None,
        recommendation=f"Upgrade {pkg.name} to {fixed}" if fixed else None,
        advisories=[VulnerabilityAdvisory(url=XsUri(u)) for u in urls],
        published=_when(v.published),
        analysis=_analysis(v, suppressed),
        affects=affects,
        properties=_props([
            ("status", v.status), ("fixed_version", fixed), ("severity_source", v.severity_source),
            ("layer:index", layer.index if layer is not None else None),
            ("layer:diff_id", layer.diff_id if layer is not None else None),
            ("layer:base", layer.base if layer is not None else None),
            ("risk:score", risk.score if risk is not None else None),
            ("risk:reason", risk.reason if risk is not None else None),
            ("reachability", v.reachability.level if v.reachability is not None else None),
            ("reachability:method", v.reachability.method or None if v.reachability is not None else None),
            ("reachability:evidence", "; ".join(v.reachability.evidence) or None if v.reachability is not None else None),
            ("epss:score", v.epss.score if v.epss is not None else None),
            ("epss:percentile", v.epss.percentile if v.epss is not None else None),
            ("kev:date_added", v.kev.date_added if v.kev is not None else None),
            ("suppressed_by", suppressed.by if suppressed is not None else None),
        ]),
    )


def build_bom(report: Report) -> Bom:
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"hullscan:{report.target.input}:{report.created_at}")
    bom = Bom(serial_number=serial)
    bom.metadata.timestamp = _time(report)
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="hullscan", version=__version__))
    image = image_component(report)
    bom.metadata.component = image
    os_comp = os_component(report.os) if report.os is not None else None
    if os_comp is not None:
        bom.components.add(os_comp)
    refs: dict[str, str] = {}
    taken = {OS_REF, IMAGE_REF}
    os_deps: list[Component] = []
    all_deps: list[Component] = [os_comp] if os_comp is not None else []
    for pkg in report.packages:
        ref = pkg.id
        while ref in taken:
            ref += "-dup"
        taken.add(ref)
        comp = package_component(pkg, ref)
        refs[pkg.id] = ref
        if pkg.purl:
            refs.setdefault(pkg.purl, ref)
        bom.components.add(comp)
        all_deps.append(comp)
        if pkg.type in OS_TYPES:
            os_deps.append(comp)
    for removed in report.history:
        ref = "removed-" + removed.package.id
        while ref in taken:
            ref += "-dup"
        taken.add(ref)
        bom.components.add(package_component(removed.package, ref, removed))
    bom.register_dependency(image, all_deps)
    if os_comp is not None:
        bom.register_dependency(os_comp, os_deps)
    for i, v in enumerate(report.vulnerabilities):
        bom.vulnerabilities.add(vulnerability(v, refs, i))
    # findings the policy suppressed stay in the BOM with their VEX analysis (a VDR/VEX reader wants them)
    judged = [(s.finding, s) for s in report.suppressed if isinstance(s.finding, Finding)]
    for i, (f, s) in enumerate(judged, start=len(report.vulnerabilities)):
        bom.vulnerabilities.add(vulnerability(f, refs, i, suppressed=s))
    return bom
