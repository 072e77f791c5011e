"""SPDX 2.3 (JSON and tag-value) from the report dict, via spdx-tools.

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
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing
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

_LICENSING = get_spdx_licensing()
_BAD_ID = re.compile(r"[^A-Za-z0-9.-]+")
_MAINTAINER = re.compile(r"^\s*(.*?)\s*<([^>]*)>\s*$")


def _verdict_lines(report: dict[str, Any]) -> list[str]:
    """The policy verdict for the image's comment: passed or failed, each failed rule and its findings."""
    verdict = report.get("verdict") or {}
    if not verdict.get("gate"):
        return []
    lines = [f"policy {'passed' if verdict.get('passed') else 'failed'} ({verdict.get('policy') or 'ignore files'})"]
    lines += [f"failed {r['rule']}: {', '.join(r.get('findings') or [])}" for r in verdict.get("failed_rules") or []]
    return lines


def render_json(report: dict[str, Any]) -> bytes:
    out = io.StringIO()
    json_writer.write_document_to_stream(build_document(report), out, validate=False)
    return (out.getvalue().rstrip("\n") + "\n").encode()


def render_tagvalue(report: dict[str, Any]) -> bytes:
    out = io.StringIO()
    tagvalue_writer.write_document_to_stream(build_document(report), out, validate=False)
    return out.getvalue().encode()


render = render_json


def _time(report: dict[str, Any]) -> datetime:
    raw = report.get("created_at") or ""
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
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

    def _one(self, value: str) -> str:
        try:
            parsed = _LICENSING.parse(value, validate=True, strict=False)
            if parsed is not None:
                return str(parsed)
        except ExpressionError:
            pass
        ref = "LicenseRef-" + (_BAD_ID.sub("-", value).strip("-") or "unknown")
        self.extracted.setdefault(ref, ExtractedLicensingInfo(
            license_id=ref, extracted_text=value, license_name=value,
            comment="declared by the package, not an SPDX license id"))
        return ref

    def expression(self, values: Iterable[str]) -> Any:
        parts = [self._one(v.strip()) for v in values if v and v.strip()]
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


def _layer_text(layer: dict[str, Any] | None) -> str:
    if not layer:
        return ""
    text = f"layer: index={layer.get('index')}"
    return f"{text} diff_id={layer['diff_id']}" if layer.get("diff_id") else text


_ADVISORY_URL = (("CVE-", "https://nvd.nist.gov/vuln/detail/{}"), ("GHSA-", "https://github.com/advisories/{}"))
_URL = re.compile(r"^https?://[^\s]+$")


def security_refs(vulns: Iterable[dict[str, Any]]) -> list[ExternalPackageRef]:
    """SECURITY external refs for one package's findings: per finding an `advisory` ref (the id's page:
    NVD for CVEs, GitHub for GHSAs, OSV otherwise) whose comment says id, severity, status and fix;
    then the findings' references, `fix` for commit / patch links and `url` for the rest (deduplicated)."""
    out: list[ExternalPackageRef] = []
    seen: set[str] = set()
    extra: list[ExternalPackageRef] = []
    for v in vulns:
        vid = str(v.get("id") or "")
        url = next((u.format(vid) for prefix, u in _ADVISORY_URL if vid.startswith(prefix)),
                   f"https://osv.dev/vulnerability/{vid}")
        fix = f"fixed in {v['fixed_version']}" if v.get("fixed_version") else "no fix yet"
        aliases = f"; aliases {', '.join(v['aliases'])}" if v.get("aliases") else ""
        out.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "advisory", url,
                                      f"{vid}: severity {v.get('severity') or 'UNKNOWN'}, {v.get('status')}, {fix}{aliases}"))
        seen.add(url)
        for ref in v.get("references") or []:
            if not isinstance(ref, str) or not _URL.match(ref) or ref in seen:
                continue
            seen.add(ref)
            kind = "fix" if re.search(r"/(commit|commits|pull|merge_requests|patch)/|\.patch$|\.diff$", ref) else "url"
            extra.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, kind, ref, f"reference of {vid}"))
    return out + extra


def build_document(report: dict[str, Any]) -> Document:
    target = report.get("target") or {}
    tool = report.get("tool") or {}
    created = _time(report)
    tool_actor = Actor(ActorType.TOOL, f"{tool.get('name') or 'hullscan'}-{tool.get('version') or 'unknown'}")
    name = target.get("name") or target.get("input") or "image"
    ns_id = uuid.uuid5(uuid.NAMESPACE_URL, f"hullscan:{target.get('input', '')}:{report.get('created_at', '')}")
    doc = Document(CreationInfo(
        spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=name,
        document_namespace=f"https://hullscan.invalid/spdxdocs/{_BAD_ID.sub('-', name).strip('-')}-{ns_id}",
        creators=[tool_actor], created=created))
    taken: set[str] = {"SPDXRef-DOCUMENT"}
    lic = _Licenses()

    image_id = _spdx_id("image", taken)
    digest = target.get("manifest_digest") or target.get("config_digest") or None
    doc.packages.append(Package(
        spdx_id=image_id, name=name, download_location=SpdxNoAssertion(), version=digest, files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
        comment="; ".join([f"layer {ly.get('index')}: {ly.get('diff_id')}" for ly in report.get("layers") or []]
                          + _verdict_lines(report)) or None))
    doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, image_id))

    os = report.get("os")
    if os:
        os_id = _spdx_id("os", taken)
        facts = ", ".join(f"{k}={os.get(k)}" for k in ("release", "codename", "ecosystem", "eol") if os.get(k))
        doc.packages.append(Package(
            spdx_id=os_id, name=os.get("family") or "os", version=os.get("version") or None,
            download_location=SpdxNoAssertion(), files_analyzed=False, description=os.get("name") or None,
            primary_package_purpose=PackagePurpose.OPERATING_SYSTEM, comment=facts or None))
        doc.relationships.append(Relationship(image_id, RelationshipType.CONTAINS, os_id))

    vulns_of: dict[str, list[dict[str, Any]]] = {}
    for v in report.get("vulnerabilities") or []:
        vulns_of.setdefault(str((v.get("package") or {}).get("id") or ""), []).append(v)
    for pkg in report.get("packages") or []:
        sid = _spdx_id(str(pkg.get("id") or pkg.get("name") or "pkg"), taken)
        refs = []
        if pkg.get("purl"):
            refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", pkg["purl"]))
        refs += security_refs(vulns_of.get(str(pkg.get("id") or ""), []))
        source = ""
        if pkg.get("source_name") and (pkg["source_name"], pkg.get("source_version")) != (
                pkg.get("name"), pkg.get("version")):
            source = f"built from source package {pkg['source_name']} {pkg.get('source_version') or ''}".rstrip()
        layer = _layer_text(pkg.get("layer"))
        comment = "; ".join(x for x in (layer, f"paths: {', '.join(pkg.get('paths') or [])}"
                                        if pkg.get("paths") else "",
                                        f"owned by OS package {pkg['owned_by']}" if pkg.get("owned_by") else "")
                            if x)
        doc.packages.append(Package(
            spdx_id=sid, name=pkg.get("name") or "unknown", version=pkg.get("version") or None,
            download_location=SpdxNoAssertion(), files_analyzed=False,
            supplier=_supplier((pkg.get("extra") or {}).get("maintainer", "")) or SpdxNoAssertion(),
            license_concluded=SpdxNoAssertion(), license_declared=lic.expression(pkg.get("licenses") or []),
            copyright_text=SpdxNoAssertion(), source_info=source or None, external_references=refs,
            primary_package_purpose=PackagePurpose.LIBRARY, comment=comment or None))
        doc.relationships.append(Relationship(image_id, RelationshipType.CONTAINS, sid))
        if layer:
            doc.annotations.append(Annotation(sid, AnnotationType.OTHER, tool_actor, created, layer))
    doc.extracted_licensing_info = list(lic.extracted.values())
    return doc
