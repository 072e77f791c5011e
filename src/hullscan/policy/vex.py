"""VEX in: OpenVEX, CycloneDX VEX and CSAF VEX documents → statements about (vulnerability, product).

`not_affected` and `fixed` suppress a finding (the justification is kept in the report);
`affected` and `under_investigation` annotate it. A statement applies to a finding when the
vulnerability is the finding's id or one of its aliases, and a product (or an OpenVEX subcomponent)
names the finding's package by purl (type, namespace, name, and version when given; qualifiers are
ignored) — or names the scanned image itself (`pkg:oci/…`), which covers every package in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hullscan.errors import InputError

if TYPE_CHECKING:
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
    from hullscan import userfile

    doc = userfile.load_json(userfile.read_text(path, "VEX document"), path)
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a VEX document (expected a JSON object, got {userfile.describe_value(doc)})")
    if "statements" in doc and "@context" in doc:
        return _openvex(_Doc(path), doc)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(_Doc(path), doc)
    if isinstance(doc.get("document"), dict) and str(doc["document"].get("category", "")).startswith("csaf"):
        return _csaf(_Doc(path), doc)
    raise InputError(f"{path}: neither OpenVEX, CycloneDX VEX nor CSAF VEX")


class _Doc:
    """Typed reads of the parts of a VEX document we use: a part of the wrong type is one line naming
    its key path (no full schemas: each format has more fields than we read, and we read only these)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _wrong(self, at: str, expected: str, value: object) -> InputError:
        from hullscan.userfile import describe_value

        return InputError(f"{self.path}: {at}: expected {expected}, got {describe_value(value)}")

    def obj(self, parent: dict[str, Any], key: str, at: str) -> dict[str, Any]:
        """parent[key] as a mapping ({} when absent or null)."""
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._wrong(_at(at, key), "a mapping", value)
        return value

    def objs(self, parent: dict[str, Any], key: str, at: str) -> list[tuple[str, dict[str, Any]]]:
        """parent[key] as a list of mappings, each with its key path."""
        value = parent.get(key)
        if value is None:
            return []
        where = _at(at, key)
        if not isinstance(value, list):
            raise self._wrong(where, "a list of mappings", value)
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self._wrong(f"{where}[{i}]", "a mapping", item)
        return [(f"{where}[{i}]", item) for i, item in enumerate(value)]

    def text(self, parent: dict[str, Any], key: str, at: str) -> str:
        """parent[key] as a string ("" when absent or null)."""
        value = parent.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._wrong(_at(at, key), "a string", value)
        return value

    def texts(self, parent: dict[str, Any], key: str, at: str) -> list[str]:
        """parent[key] as a list of strings."""
        value = parent.get(key)
        if value is None:
            return []
        where = _at(at, key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(where, "a list of strings", value)
        return value


def _at(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _openvex(d: _Doc, doc: dict[str, Any]) -> list[VexStatement]:
    out = []
    for at, st in d.objs(doc, "statements", ""):
        vuln = st.get("vulnerability")
        if isinstance(vuln, dict):
            vid = d.text(vuln, "name", f"{at}.vulnerability") or d.text(vuln, "@id", f"{at}.vulnerability")
            ids = [vid, *d.texts(vuln, "aliases", f"{at}.vulnerability")]
        else:
            vid = d.text(st, "vulnerability", at)  # v0.0.x: the id as a string
            ids = [vid]
        status = st.get("status")
        if not vid or status not in VEX_STATUSES:
            raise InputError(f"{d.path}: {at} lacks a vulnerability or a valid status ({', '.join(VEX_STATUSES)})")
        products: list[str] = []
        raw_products = st.get("products")
        if isinstance(raw_products, list) and all(isinstance(p, str) for p in raw_products):
            products = list(raw_products)  # v0.0.x: plain ids
        else:
            for pat, p in d.objs(st, "products", at):
                subs = [d.text(s, "@id", sat) for sat, s in d.objs(p, "subcomponents", pat)]
                products.extend(s for s in subs if s) if any(subs) else products.append(d.text(p, "@id", pat))
        justification, impact = d.text(st, "justification", at), d.text(st, "impact_statement", at)
        for v in ids:
            out.append(VexStatement(v, tuple(p for p in products if p), status, justification, impact, d.path, "openvex"))
    return out


def _cyclonedx(d: _Doc, doc: dict[str, Any]) -> list[VexStatement]:
    refs: dict[str, str] = {}
    meta = d.obj(d.obj(doc, "metadata", ""), "component", "metadata")
    # nested components, walked without recursion (a document may nest them deeply)
    todo = [*reversed(d.objs(doc, "components", "")), ("metadata.component", meta)]
    while todo:
        at, comp = todo.pop()
        ref = d.text(comp, "bom-ref", at)
        if ref:
            refs[ref] = d.text(comp, "purl", at) or ref
        todo.extend(reversed(d.objs(comp, "components", at)))
    out = []
    for at, v in d.objs(doc, "vulnerabilities", ""):
        analysis = d.obj(v, "analysis", at)
        status = _CDX_STATE.get(d.text(analysis, "state", f"{at}.analysis"))
        vid = d.text(v, "id", at)
        if not vid or status is None:
            continue
        products = tuple(refs.get(ref, ref) for aat, a in d.objs(v, "affects", at) if (ref := d.text(a, "ref", aat)))
        out.append(VexStatement(vid, products, status, d.text(analysis, "justification", f"{at}.analysis"),
                                d.text(analysis, "detail", f"{at}.analysis"), d.path, "cyclonedx"))
    return out


def _csaf(d: _Doc, doc: dict[str, Any]) -> list[VexStatement]:
    purls: dict[str, str] = {}
    tree = d.obj(doc, "product_tree", "")
    todo = list(reversed(d.objs(tree, "branches", "product_tree")))  # without recursion, as above
    while todo:
        at, b = todo.pop()
        prod = d.obj(b, "product", at)
        helper = d.obj(prod, "product_identification_helper", f"{at}.product")
        pid, purl = d.text(prod, "product_id", f"{at}.product"), d.text(helper, "purl", f"{at}.product.product_identification_helper")
        if pid and purl:
            purls[pid] = purl
        todo.extend(reversed(d.objs(b, "branches", at)))
    for at, rel in d.objs(tree, "relationships", "product_tree"):
        full = d.text(d.obj(rel, "full_product_name", at), "product_id", f"{at}.full_product_name")
        ref = d.text(rel, "product_reference", at)
        if full and ref in purls:
            purls[full] = purls[ref]
    out = []
    for at, v in d.objs(doc, "vulnerabilities", ""):
        vid = d.text(v, "cve", at) or next((t for iat, i in d.objs(v, "ids", at) if (t := d.text(i, "text", iat))), "")
        if not vid:
            continue
        justification = {pid: d.text(f, "label", fat) for fat, f in d.objs(v, "flags", at) for pid in d.texts(f, "product_ids", fat)}
        impacts = {pid: d.text(t, "details", tat) for tat, t in d.objs(v, "threats", at) if d.text(t, "category", tat) == "impact"
                   for pid in d.texts(t, "product_ids", tat)}
        statuses = d.obj(v, "product_status", at)
        for key in statuses:
            status = _CSAF_STATUS.get(key)
            if status is None:
                continue
            for pid in d.texts(statuses, key, f"{at}.product_status"):
                out.append(VexStatement(vid, (purls.get(pid, pid),), status, justification.get(pid, ""),
                                        impacts.get(pid, ""), d.path, "csaf"))
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
