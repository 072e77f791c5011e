"""SPDX 2.x JSON and tag-value → SbomDocument.

Read by hand rather than with spdx-tools' parsers: those reject a whole document for one field that
does not conform (common in SBOMs of other tools, and slow on large tag-value files); here each
package stands alone and the rest of the document is still read. JSON values are type-checked: a
document-level list of the wrong type (`documentDescribes: 5`) is an InputError naming it; a wrong
field inside one package is a problem (a warning) and is ignored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hullscan.sbom_in.document import SbomComponent, SbomDocument
from hullscan.sbom_in.fields import doc_list, text

_NONE = {"", "NOASSERTION", "NONE"}


def _purpose(value: str) -> str:
    return value.strip().lower().replace("_", "-") or "library"


def _tools(creators: list[Any]) -> tuple[str, ...]:
    out = []
    for c in creators:
        if isinstance(c, str) and c.startswith("Tool:"):
            name = c[5:].strip()
            out.append(re.sub(r"[-\s]v?\d[\w.+-]*$", "", name).lower())  # `syft-1.18.1` → `syft`
    return tuple(out)


def _purl(refs: list[tuple[str, str, str]]) -> str:
    for _category, kind, locator in refs:
        if kind.lower() == "purl":
            return locator
    return ""


def _attrib_props(texts: list[str]) -> tuple[tuple[str, str], ...]:
    """Trivy writes the properties it puts in CycloneDX as `Key: value` attribution texts: named the same
    way here (`aquasecurity:trivy:Key`), so one reader handles both."""
    out = []
    for t in texts:
        key, sep, value = t.partition(": ")
        if sep and re.fullmatch(r"[A-Za-z]+", key.strip()):
            out.append(("aquasecurity:trivy:" + key.strip(), value.strip()))
    return tuple(out)


def _component(name: str, version: str, refs: list[tuple[str, str, str]], spdx_id: str, licenses: list[str],
               purpose: str, source_info: str, comment: str, attributions: list[str],
               description: str = "") -> SbomComponent:
    if not purpose and spdx_id.startswith("SPDXRef-OperatingSystem"):  # Trivy's SPDX 2.2 has no purpose field
        purpose = "operating-system"
    return SbomComponent(name=name, version=version, purl=_purl(refs), kind=_purpose(purpose),
                         properties=_attrib_props(attributions),
                         licenses=tuple(x for x in licenses if x and x not in _NONE),
                         ref=spdx_id, source_info=source_info, comment=comment, description=description)


def _subject(comps: list[SbomComponent], described: list[str]) -> tuple[list[SbomComponent], SbomComponent | None]:
    """The package the document DESCRIBES when it is the container/scanned source, not a package itself."""
    subject = None
    for c in comps:
        if c.ref in described and not c.purl.startswith(("pkg:deb", "pkg:rpm", "pkg:apk")) and (
                c.kind in ("container", "source", "file", "application", "install") or not c.purl):
            subject = c
            break
    return [c for c in comps if c is not subject], subject


def _declared_or_concluded(p: dict[str, Any]) -> str:
    declared = text(p.get("licenseDeclared"))
    return declared if declared not in _NONE else text(p.get("licenseConcluded"))


def _field_list(p: dict[str, Any], key: str, name: str, problems: list[str]) -> list[Any]:
    """A list inside one package; another type is that package's problem, and ignored."""
    value = p.get(key)
    if isinstance(value, list):
        return value
    if value is not None:
        problems.append(f"package {name!r}: {key} is not a list (ignored)")
    return []


def parse_json(doc: dict[str, Any], source: str = "SBOM") -> SbomDocument:
    comps: list[SbomComponent] = []
    problems: list[str] = []
    for p in doc_list(doc, "packages", source):
        if not isinstance(p, dict):
            problems.append("a package that is not an object was skipped")
            continue
        name = text(p.get("name"))
        refs = [(text(r.get("referenceCategory")), text(r.get("referenceType")), text(r.get("referenceLocator")))
                for r in _field_list(p, "externalRefs", name, problems) if isinstance(r, dict)]
        comps.append(_component(
            name, text(p.get("versionInfo")), refs, text(p.get("SPDXID")), [_declared_or_concluded(p)],
            text(p.get("primaryPackagePurpose")), text(p.get("sourceInfo")), text(p.get("comment")),
            [text(t) for t in _field_list(p, "attributionTexts", name, problems)], text(p.get("description"))))
    described = [text(x) for x in doc_list(doc, "documentDescribes", source)]
    for rel in doc_list(doc, "relationships", source):
        if isinstance(rel, dict) and rel.get("relationshipType") == "DESCRIBES" and \
                rel.get("spdxElementId") == "SPDXRef-DOCUMENT":
            described.append(text(rel.get("relatedSpdxElement")))
    comps, subject = _subject(comps, [d for d in described if d])
    creation = c if isinstance(c := doc.get("creationInfo"), dict) else {}
    creators = creation.get("creators")
    if creators is not None and not isinstance(creators, list):
        problems.append("creationInfo.creators is not a list (ignored)")
    return SbomDocument("spdx-json", text(doc.get("spdxVersion")), tuple(comps), subject,
                        _tools(creators if isinstance(creators, list) else []), text(doc.get("name")), tuple(problems))


_TEXT_OPEN = "<text>"
_TEXT_CLOSE = "</text>"


def _tag_lines(content: str) -> Iterator[tuple[str, str]]:
    """(tag, value) pairs; `<text>…</text>` values may span lines."""
    lines = content.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
            continue
        tag, _, value = line.partition(":")
        value = value.strip()
        if value.startswith(_TEXT_OPEN):
            body = value[len(_TEXT_OPEN):]
            while _TEXT_CLOSE not in body and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            value = body.split(_TEXT_CLOSE, 1)[0]
        yield tag.strip(), value


def parse_tagvalue(content: str) -> SbomDocument:
    comps: list[SbomComponent] = []
    described: list[str] = []
    creators: list[str] = []
    spec, name = "", ""
    cur: dict[str, Any] | None = None

    def flush() -> None:
        if cur is not None:
            comps.append(_component(cur["name"], cur.get("version", ""), cur["refs"], cur.get("id", ""),
                                    cur["licenses"], cur.get("purpose", ""), cur.get("source", ""),
                                    cur.get("comment", ""), cur["attrib"], cur.get("description", "")))

    for tag, value in _tag_lines(content):
        if tag == "PackageName":
            flush()
            cur = {"name": value, "refs": [], "licenses": [], "attrib": []}
        elif tag in ("FileName", "SnippetSPDXID", "LicenseID"):
            flush()
            cur = None
        elif tag == "SPDXVersion":
            spec = value
        elif tag == "DocumentName":
            name = value
        elif tag == "Creator":
            creators.append(value)
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) == 3 and parts[0] == "SPDXRef-DOCUMENT" and parts[1] == "DESCRIBES":
                described.append(parts[2])
        elif cur is not None:
            if tag == "SPDXID":
                cur.setdefault("id", value)
            elif tag == "PackageVersion":
                cur["version"] = value
            elif tag == "ExternalRef":
                parts = value.split(None, 2)
                if len(parts) == 3:
                    cur["refs"].append((parts[0], parts[1], parts[2].strip()))
            elif tag == "PackageLicenseDeclared" and value not in _NONE:
                cur["licenses"].insert(0, value)
            elif tag == "PackageLicenseConcluded" and value not in _NONE and not cur["licenses"]:
                cur["licenses"].append(value)
            elif tag == "PrimaryPackagePurpose":
                cur["purpose"] = value
            elif tag == "PackageSourceInfo":
                cur["source"] = value
            elif tag == "PackageComment":
                cur["comment"] = value
            elif tag == "PackageDescription":
                cur["description"] = value
            elif tag == "PackageAttributionText":
                cur["attrib"].append(value)
    flush()
    comps, subject = _subject(comps, described)
    return SbomDocument("spdx-tag-value", spec, tuple(comps), subject, _tools(creators), name)
