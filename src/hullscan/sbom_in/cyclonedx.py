"""CycloneDX JSON and XML (1.2–1.6) → SbomDocument.

Read as plain JSON / XML rather than through cyclonedx-python-lib's deserializer: that one is strict
about every field of every schema version, and SBOMs from other tools routinely carry fields or
values it refuses; a scanner must read what it can and skip the rest.

What is read is type-checked: a document-level key of the wrong type (`components: 5`) is an
InputError naming it; a wrong field inside one component is a problem (a warning) and is ignored.
Nested components are walked with an explicit stack, at most MAX_NESTING deep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from hullscan.sbom_in.document import SbomComponent, SbomDocument
from hullscan.sbom_in.fields import doc_list, nested_too_deep, text

MAX_NESTING = 200
"""Components inside components deeper than this are no SBOM a tool wrote (Trivy nests 2 levels)."""
_END = object()


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


def _component_json(c: dict[str, Any], problems: list[str]) -> SbomComponent:
    name = text(c.get("name"))
    props: list[tuple[str, str]] = []
    raw_props = c.get("properties")
    if isinstance(raw_props, list):
        props = [(text(p.get("name")), text(p.get("value"))) for p in raw_props if isinstance(p, dict)]
    elif raw_props is not None:
        problems.append(f"component {name!r}: properties is not a list (ignored)")
    return SbomComponent(
        name=name, version=text(c.get("version")), purl=text(c.get("purl")),
        kind=(text(c.get("type")) or "library").lower(), properties=tuple(props),
        licenses=_licenses_json(c.get("licenses")), ref=text(c.get("bom-ref")), description=text(c.get("description")))


def _walk_json(items: list[Any], problems: list[str], source: str) -> list[SbomComponent]:
    """Every component, nested ones (assemblies, Trivy's aggregates) after their parent, depth-first."""
    out: list[SbomComponent] = []
    stack: list[Iterator[Any]] = [iter(items)]
    while stack:
        c = next(stack[-1], _END)
        if c is _END:
            stack.pop()
            continue
        if not isinstance(c, dict):
            problems.append("a component that is not an object was skipped")
            continue
        comp = _component_json(c, problems)
        out.append(comp)
        nested = c.get("components")
        if isinstance(nested, list) and nested:
            if len(stack) >= MAX_NESTING:
                raise nested_too_deep(source, "components", MAX_NESTING)
            stack.append(iter(nested))
        elif nested is not None and not isinstance(nested, list):
            problems.append(f"component {comp.name!r}: components is not a list (ignored)")
    return out


def _tool_names(tools: Any, problems: list[str]) -> tuple[str, ...]:
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        tools = [t for key in ("components", "services") if isinstance(v := tools.get(key), list) for t in v]
    if not isinstance(tools, list):
        if tools is not None:
            problems.append("metadata.tools is neither a list nor an object (ignored)")
        return ()
    return tuple(text(t.get("name")).lower() for t in tools if isinstance(t, dict) and text(t.get("name")))


def parse_json(doc: dict[str, Any], source: str = "SBOM") -> SbomDocument:
    problems: list[str] = []
    comps = _walk_json(doc_list(doc, "components", source), problems, source)
    meta = doc.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        problems.append("metadata is not an object (ignored)")
    meta = meta if isinstance(meta, dict) else {}
    subject = _component_json(meta["component"], problems) if isinstance(meta.get("component"), dict) else None
    return SbomDocument("cyclonedx-json", text(doc.get("specVersion")), tuple(comps), subject,
                        _tool_names(meta.get("tools"), problems), subject.name if subject else "", tuple(problems))


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


def _walk_xml(parent: Element | None, source: str) -> list[SbomComponent]:
    """Every `component`, nested ones after their parent, depth-first (an explicit stack, not recursion)."""
    out: list[SbomComponent] = []
    stack: list[Iterator[Element]] = [iter(parent if parent is not None else [])]
    while stack:
        el = next(stack[-1], None)
        if el is None:
            stack.pop()
            continue
        if _local(el.tag) != "component":
            continue
        out.append(_component_xml(el))
        nested = _child(el, "components")
        if nested is not None and len(nested):
            if len(stack) >= MAX_NESTING:
                raise nested_too_deep(source, "components", MAX_NESTING)
            stack.append(iter(nested))
    return out


def parse_xml(root: Element, source: str = "SBOM") -> SbomDocument:
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    spec = ns.rsplit("/", 1)[-1] if ns.startswith("http://cyclonedx.org/schema/bom/") else ""
    comps = _walk_xml(_child(root, "components"), source)
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
