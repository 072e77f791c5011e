"""CycloneDX JSON and XML (1.2–1.6) → SbomDocument.

Read as plain JSON / XML rather than through cyclonedx-python-lib's deserializer: that one is strict
about every field of every schema version, and SBOMs from other tools routinely carry fields or
values it refuses; a scanner must read what it can and skip the rest."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from hullscan.sbom_in.document import SbomComponent, SbomDocument


def _licenses_json(entries: Any) -> tuple[str, ...]:
    out: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            out.append(entry["expression"])
        lic = entry.get("license")
        if isinstance(lic, dict):
            value = lic.get("id") or lic.get("name")
            if isinstance(value, str) and value:
                out.append(value)
    return tuple(out)


def _component_json(c: dict[str, Any]) -> SbomComponent:
    props = tuple((str(p.get("name", "")), str(p.get("value", ""))) for p in c.get("properties") or []
                  if isinstance(p, dict))
    return SbomComponent(
        name=str(c.get("name") or ""), version=str(c.get("version") or ""), purl=str(c.get("purl") or ""),
        kind=str(c.get("type") or "library").lower(), properties=props, licenses=_licenses_json(c.get("licenses")),
        ref=str(c.get("bom-ref") or ""), description=str(c.get("description") or ""))


def _walk_json(items: Any, out: list[SbomComponent], problems: list[str]) -> None:
    for c in items if isinstance(items, list) else []:
        if not isinstance(c, dict):
            problems.append("a component that is not an object was skipped")
            continue
        out.append(_component_json(c))
        _walk_json(c.get("components"), out, problems)  # nested (assemblies, Trivy's aggregates)


def _tool_names(tools: Any) -> tuple[str, ...]:
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        tools = (tools.get("components") or []) + (tools.get("services") or [])
    return tuple(str(t.get("name", "")).lower() for t in tools or [] if isinstance(t, dict) and t.get("name"))


def parse_json(doc: dict[str, Any]) -> SbomDocument:
    comps: list[SbomComponent] = []
    problems: list[str] = []
    _walk_json(doc.get("components"), comps, problems)
    meta = m if isinstance(m := doc.get("metadata"), dict) else {}
    subject = _component_json(meta["component"]) if isinstance(meta.get("component"), dict) else None
    return SbomDocument("cyclonedx-json", str(doc.get("specVersion") or ""), tuple(comps), subject,
                        _tool_names(meta.get("tools")), subject.name if subject else "", tuple(problems))


# ----------------------------------------------------------------------------------------------- XML


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: Element, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""


def _component_xml(el: Element) -> SbomComponent:
    props: list[tuple[str, str]] = []
    pel = _child(el, "properties")
    for p in pel if pel is not None else []:
        if _local(p.tag) == "property":
            props.append((p.get("name", ""), (p.text or "").strip()))
    licenses: list[str] = []
    lel = _child(el, "licenses")
    for entry in lel if lel is not None else []:
        if _local(entry.tag) == "expression" and entry.text:
            licenses.append(entry.text.strip())
        elif _local(entry.tag) == "license":
            value = _text(entry, "id") or _text(entry, "name")
            if value:
                licenses.append(value)
    return SbomComponent(
        name=_text(el, "name"), version=_text(el, "version"), purl=_text(el, "purl"),
        kind=(el.get("type") or "library").lower(), properties=tuple(props), licenses=tuple(licenses),
        ref=el.get("bom-ref", ""), description=_text(el, "description"))


def _walk_xml(parent: Element | None, out: list[SbomComponent]) -> None:
    for el in parent if parent is not None else []:
        if _local(el.tag) == "component":
            out.append(_component_xml(el))
            _walk_xml(_child(el, "components"), out)


def parse_xml(root: Element) -> SbomDocument:
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    spec = ns.rsplit("/", 1)[-1] if ns.startswith("http://cyclonedx.org/schema/bom/") else ""
    comps: list[SbomComponent] = []
    _walk_xml(_child(root, "components"), comps)
    meta = _child(root, "metadata")
    subject = None
    tools: list[str] = []
    if meta is not None:
        mc = _child(meta, "component")
        subject = _component_xml(mc) if mc is not None else None
        tel = _child(meta, "tools")
        for t in tel.iter() if tel is not None else []:
            if _local(t.tag) in ("tool", "component", "service") and _text(t, "name"):
                tools.append(_text(t, "name").lower())
    return SbomDocument("cyclonedx-xml", spec, tuple(comps), subject, tuple(tools), subject.name if subject else "")
