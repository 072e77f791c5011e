"""VEX in: OpenVEX, CycloneDX VEX and CSAF VEX documents → statements about (vulnerability, product).

`not_affected` and `fixed` suppress a finding (the justification is kept in the report);
`affected` and `under_investigation` annotate it. A statement applies to a finding when the
vulnerability is the finding's id or one of its aliases, and a product (or an OpenVEX subcomponent)
names the finding's package by purl (type, namespace, name, and version when given; qualifiers are
ignored) — or names the scanned image itself (`pkg:oci/…`), which covers every package in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hullscan.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from packageurl import PackageURL

    from hullscan.model.findings import Finding

VEX_STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
_CDX_STATE = {
    "not_affected": "not_affected", "false_positive": "not_affected", "resolved": "fixed",
    "resolved_with_pedigree": "fixed", "exploitable": "affected", "in_triage": "under_investigation",
}
_CSAF_STATUS = {
    "known_not_affected": "not_affected", "fixed": "fixed", "first_fixed": "fixed",
    "known_affected": "affected", "under_investigation": "under_investigation",
}


@dataclass(frozen=True)
class VexStatement:
    vulnerability: str
    products: tuple[str, ...]
    """purls (or other ids) of the products the statement is about; empty = every product."""
    status: str
    justification: str = ""
    impact: str = ""
    source: str = ""
    format: str = ""


def load_vex(path: str) -> list[VexStatement]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.loads(fh.read())
    except FileNotFoundError:
        raise InputError(f"{path}: VEX document not found") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable JSON VEX document ({err})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a VEX document")
    if "statements" in doc and "@context" in doc:
        return _openvex(doc, path)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, path)
    if isinstance(doc.get("document"), dict) and str(doc["document"].get("category", "")).startswith("csaf"):
        return _csaf(doc, path)
    raise InputError(f"{path}: neither OpenVEX, CycloneDX VEX nor CSAF VEX")


def _openvex(doc: dict[str, Any], path: str) -> list[VexStatement]:
    out = []
    for i, st in enumerate(doc.get("statements") or []):
        vuln = st.get("vulnerability")
        vid = vuln.get("name") or vuln.get("@id") if isinstance(vuln, dict) else vuln
        status = st.get("status")
        if not vid or status not in VEX_STATUSES:
            raise InputError(f"{path}: statements[{i}] lacks a vulnerability or a valid status")
        products: list[str | None] = []
        for p in st.get("products") or []:
            pid = p.get("@id") if isinstance(p, dict) else p
            subs = [s.get("@id") for s in (p.get("subcomponents") or []) if isinstance(s, dict)] if isinstance(p, dict) else []
            products.extend(s for s in subs if s) if subs else products.append(pid)
        ids = [str(vid)] + [str(a) for a in (vuln.get("aliases") or [])] if isinstance(vuln, dict) else [str(vid)]
        for v in ids:
            out.append(VexStatement(v, tuple(p for p in products if p), status, st.get("justification", ""),
                                    st.get("impact_statement", ""), path, "openvex"))
    return out


def _cyclonedx(doc: dict[str, Any], path: str) -> list[VexStatement]:
    refs: dict[str, str] = {}
    for comp in _walk_components(doc.get("components") or []):
        if comp.get("bom-ref"):
            refs[comp["bom-ref"]] = comp.get("purl") or comp["bom-ref"]
    meta = (doc.get("metadata") or {}).get("component") or {}
    if meta.get("bom-ref"):
        refs[meta["bom-ref"]] = meta.get("purl") or meta["bom-ref"]
    out = []
    for v in doc.get("vulnerabilities") or []:
        analysis = v.get("analysis") or {}
        status = _CDX_STATE.get(analysis.get("state", ""))
        if not v.get("id") or status is None:
            continue
        products = tuple(refs.get(a.get("ref", ""), a.get("ref", "")) for a in v.get("affects") or [])
        out.append(VexStatement(v["id"], products, status, analysis.get("justification", ""),
                                analysis.get("detail", ""), path, "cyclonedx"))
    return out


def _walk_components(comps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for c in comps:
        yield c
        yield from _walk_components(c.get("components") or [])


def _csaf(doc: dict[str, Any], path: str) -> list[VexStatement]:
    purls: dict[str, str] = {}

    def branches(nodes: list[dict[str, Any]]) -> None:
        for b in nodes:
            prod = b.get("product") or {}
            helper = prod.get("product_identification_helper") or {}
            if prod.get("product_id") and helper.get("purl"):
                purls[prod["product_id"]] = helper["purl"]
            branches(b.get("branches") or [])

    tree = doc.get("product_tree") or {}
    branches(tree.get("branches") or [])
    for rel in tree.get("relationships") or []:
        full = (rel.get("full_product_name") or {}).get("product_id")
        if full and rel.get("product_reference") in purls:
            purls[full] = purls[rel["product_reference"]]
    out = []
    for v in doc.get("vulnerabilities") or []:
        vid = v.get("cve") or next((i.get("text") for i in v.get("ids") or [] if i.get("text")), None)
        if not vid:
            continue
        justification = {pid: f.get("label", "") for f in v.get("flags") or [] for pid in f.get("product_ids") or []}
        impacts = {pid: t.get("details", "") for t in v.get("threats") or [] if t.get("category") == "impact"
                   for pid in t.get("product_ids") or []}
        for key, ids in (v.get("product_status") or {}).items():
            status = _CSAF_STATUS.get(key)
            if status is None:
                continue
            for pid in ids:
                out.append(VexStatement(vid, (purls.get(pid, pid),), status, justification.get(pid, ""),
                                        impacts.get(pid, ""), path, "csaf"))
    return out


def _purl(text: str) -> PackageURL | None:
    from packageurl import PackageURL  # only when a VEX statement names a product

    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def product_matches(product: str, package_purl: str) -> bool:
    """Whether a statement's product names this package (or the whole image)."""
    want = _purl(product)
    have = _purl(package_purl)
    if want is None:
        return False
    if want.type == "oci":
        return True  # the image itself: every package in it
    if have is None:
        return False
    if (want.type, (want.namespace or "").lower(), want.name.lower()) != (have.type, (have.namespace or "").lower(), have.name.lower()):
        return False
    return not want.version or want.version == have.version


def statement_applies(st: VexStatement, finding: Finding) -> bool:
    """Whether the statement is about this finding: its id or an alias, and its package or the image."""
    if st.vulnerability != finding.id and st.vulnerability not in finding.aliases:
        return False
    return not st.products or any(product_matches(p, finding.package.purl) for p in st.products)
