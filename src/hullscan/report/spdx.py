"""SPDX 2.3 (JSON and tag-value) from a Report, via spdx-tools.

Layout: the document DESCRIBES the image (purpose CONTAINER); the image CONTAINS the OS (purpose
OPERATING_SYSTEM) and every package. Each package: SPDXID from the report package `id`, version, the purl as a
PACKAGE-MANAGER external ref, `licenseDeclared` (SPDX ids kept, other names as `LicenseRef-…` with their text
in `hasExtractedLicensingInfos`), supplier = maintainer, the source package in `sourceInfo`, and the layer
that introduced it as an annotation (and in the package comment, which tag-value readers show).
Vulnerabilities: SECURITY external references on the affected package (`advisory` per finding, `fix` and
`url` for its references); see `security_refs()`.
The writer validates with spdx-tools before writing; the tests also run its validator and read the messages.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from license_expression import ExpressionError, LicenseExpression, get_spdx_licensing
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    ExtractedLicensingInfo,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.writer.json import json_writer
from spdx_tools.spdx.writer.tagvalue import tagvalue_writer

from hullscan import __version__
from hullscan.model.findings import Finding
from hullscan.model.inventory import LayerRef
from hullscan.model.report import Report

_LICENSING = get_spdx_licensing()
_BAD_ID = re.compile(r"[^A-Za-z0-9.-]+")
_MAINTAINER = re.compile(r"^\s*(.*?)\s*<([^>]*)>\s*$")


def _verdict_lines(report: Report) -> list[str]:
    """The policy verdict for the image's comment: passed or failed, each failed rule and its findings."""
    verdict = report.verdict
    if verdict is None or not verdict.gate:
        return []
    lines = [f"policy {'passed' if verdict.passed else 'failed'} ({verdict.policy or 'ignore files'})"]
    lines += [f"failed {r.rule}: {', '.join(r.findings)}" for r in verdict.failed_rules]
    return lines


def render_json(report: Report) -> bytes:
    out = io.StringIO()
    json_writer.write_document_to_stream(build_document(report), out, validate=False)
    return (out.getvalue().rstrip("\n") + "\n").encode()


def render_tagvalue(report: Report) -> bytes:
    out = io.StringIO()
    tagvalue_writer.write_document_to_stream(build_document(report), out, validate=False)
    return out.getvalue().encode()


render = render_json


def _time(report: Report) -> datetime:
    try:
        when = datetime.fromisoformat(report.created_at.replace("Z", "+00:00"))
    except ValueError:
        when = datetime(1970, 1, 1, tzinfo=UTC)
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def _spdx_id(raw: str, taken: set[str]) -> str:
    base = "SPDXRef-" + (_BAD_ID.sub("-", raw).strip("-") or "pkg")
    sid, n = base, 1
    while sid in taken:
        n += 1
        sid = f"{base}-{n}"
    taken.add(sid)
    return sid


class _Licenses:
    """License strings → SPDX expressions; names SPDX does not know become declared `LicenseRef-`s."""

    def __init__(self) -> None:
        self.extracted: dict[str, ExtractedLicensingInfo] = {}

    def _one(self, value: str, texts: dict[str, str]) -> str:
        try:
            parsed = _LICENSING.parse(value, validate=False)
        except ExpressionError:  # not an SPDX expression: declared as is below
            parsed = None
        unknown = _LICENSING.unknown_license_keys(parsed) if parsed is not None else ["?"]
        if all(k.startswith("LicenseRef-") for k in unknown):
            # list ids, and LicenseRefs the analyzers made (their declared text is in extra.license_refs)
            for ref in unknown:
                self.extracted.setdefault(ref, ExtractedLicensingInfo(
                    license_id=ref, extracted_text=texts.get(ref, ref), license_name=texts.get(ref, ref),
                    comment="declared by the package, not an SPDX license id"))
            return str(parsed)
        ref = "LicenseRef-" + (_BAD_ID.sub("-", value).strip("-") or "unknown")
        self.extracted.setdefault(ref, ExtractedLicensingInfo(
            license_id=ref, extracted_text=value, license_name=value,
            comment="declared by the package, not an SPDX license id"))
        return ref

    def expression(self, values: Iterable[str], texts: dict[str, str] | None = None) -> LicenseExpression | SpdxNoAssertion:
        parts = [self._one(v.strip(), texts or {}) for v in values if v and v.strip()]
        if not parts:
            return SpdxNoAssertion()
        text = parts[0] if len(parts) == 1 else " AND ".join(f"({p})" if " " in p else p for p in parts)
        return _LICENSING.parse(text)


def _supplier(maintainer: str) -> Actor | None:
    if not maintainer:
        return None
    m = _MAINTAINER.match(maintainer)
    if m and m.group(1):
        return Actor(ActorType.PERSON, m.group(1), m.group(2) or None)
    return Actor(ActorType.PERSON, maintainer.strip())


def _layer_text(layer: LayerRef | None) -> str:
    if layer is None:
        return ""
    text = f"layer: index={layer.index}"
    return f"{text} diff_id={layer.diff_id}" if layer.diff_id else text


_ADVISORY_URL = (("CVE-", "https://nvd.nist.gov/vuln/detail/{}"), ("GHSA-", "https://github.com/advisories/{}"))
_URL = re.compile(r"^https?://[^\s]+$")


def security_refs(vulns: Iterable[Finding]) -> list[ExternalPackageRef]:
    """SECURITY external refs for one package's findings: per finding an `advisory` ref (the id's page:
    NVD for CVEs, GitHub for GHSAs, OSV otherwise) whose comment says id, severity, status and fix;
    then the findings' references, `fix` for commit / patch links and `url` for the rest (deduplicated)."""
    out: list[ExternalPackageRef] = []
    seen: set[str] = set()
    extra: list[ExternalPackageRef] = []
    for v in vulns:
        vid = v.id
        url = next((u.format(vid) for prefix, u in _ADVISORY_URL if vid.startswith(prefix)),
                   f"https://osv.dev/vulnerability/{vid}")
        fix = f"fixed in {v.fixed_version}" if v.fixed_version else "no fix yet"
        aliases = f"; aliases {', '.join(v.aliases)}" if v.aliases else ""
        out.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "advisory", url,
                                      f"{vid}: severity {v.severity or 'UNKNOWN'}, {v.status}, {fix}{aliases}"))
        seen.add(url)
        for ref in v.references:
            if not _URL.match(ref) or ref in seen:
                continue
            seen.add(ref)
            kind = "fix" if re.search(r"/(commit|commits|pull|merge_requests|patch)/|\.patch$|\.diff$", ref) else "url"
            extra.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, kind, ref, f"reference of {vid}"))
    return out + extra


def build_document(report: Report) -> Document:
    target = report.target
    created = _time(report)
    tool_actor = Actor(ActorType.TOOL, f"hullscan-{__version__}")
    name = target.name or target.input or "image"
    ns_id = uuid.uuid5(uuid.NAMESPACE_URL, f"hullscan:{target.input}:{report.created_at}")
    doc = Document(CreationInfo(
        spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=name,
        document_namespace=f"https://hullscan.invalid/spdxdocs/{_BAD_ID.sub('-', name).strip('-')}-{ns_id}",
        creators=[tool_actor], created=created))
    taken: set[str] = {"SPDXRef-DOCUMENT"}
    lic = _Licenses()

    image_id = _spdx_id("image", taken)
    digest = target.manifest_digest or target.config_digest or None
    doc.packages.append(Package(
        spdx_id=image_id, name=name, download_location=SpdxNoAssertion(), version=digest, files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
        comment="; ".join([f"layer {ly.index}: {ly.diff_id}" for ly in report.layers] + _verdict_lines(report)) or None))
    doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, image_id))

    os = report.os
    if os is not None:
        os_id = _spdx_id("os", taken)
        eol = os.eol
        eol_facts = () if eol is None else (("eol", eol.date), ("eol_source", eol.source), ("eol_as_of", eol.as_of),
                                            ("eol_extended", eol.extended))
        facts = ", ".join(f"{k}={v}" for k, v in (("release", os.release), ("codename", os.codename),
                                                   ("ecosystem", os.ecosystem), *eol_facts) if v)
        doc.packages.append(Package(
            spdx_id=os_id, name=os.family or "os", version=os.version or None,
            download_location=SpdxNoAssertion(), files_analyzed=False, description=os.name or None,
            primary_package_purpose=PackagePurpose.OPERATING_SYSTEM, comment=facts or None))
        doc.relationships.append(Relationship(image_id, RelationshipType.CONTAINS, os_id))
        if eol is not None:  # not a vulnerability: a fact about the release, for readers of the document
            doc.annotations.append(Annotation(os_id, AnnotationType.OTHER, tool_actor, created,
                                              f"end of life since {eol.date} ({eol.source})"))

    vulns_of: dict[str, list[Finding]] = {}
    for v in report.vulnerabilities:
        for loc in v.where:  # one finding of several copies of a package names each copy's package
            vulns_of.setdefault(loc.package.id, []).append(v)
    for pkg in report.packages:
        sid = _spdx_id(pkg.id, taken)
        refs = []
        if pkg.purl:
            refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", pkg.purl))
        refs += security_refs(vulns_of.get(pkg.id, []))
        source = ""
        if pkg.source_name and (pkg.source_name, pkg.source_version) != (pkg.name, pkg.version):
            source = f"built from source package {pkg.source_name} {pkg.source_version}".rstrip()
        layer = _layer_text(pkg.layer)
        comment = "; ".join(x for x in (layer, f"paths: {', '.join(pkg.paths)}" if pkg.paths else "",
                                        f"owned by OS package {pkg.owned_by}" if pkg.owned_by else "") if x)
        doc.packages.append(Package(
            spdx_id=sid, name=pkg.name or "unknown", version=pkg.version or None,
            download_location=SpdxNoAssertion(), files_analyzed=False,
            supplier=_supplier(pkg.extra.get("maintainer", "")) or SpdxNoAssertion(),
            license_concluded=SpdxNoAssertion(), license_declared=lic.expression(pkg.licenses, pkg.extra.get("license_refs")),
            copyright_text=SpdxNoAssertion(), source_info=source or None, external_references=refs,
            primary_package_purpose=PackagePurpose.LIBRARY, comment=comment or None))
        doc.relationships.append(Relationship(image_id, RelationshipType.CONTAINS, sid))
        if layer:
            doc.annotations.append(Annotation(sid, AnnotationType.OTHER, tool_actor, created, layer))
    doc.extracted_licensing_info = list(lic.extracted.values())
    return doc
