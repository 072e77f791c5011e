"""Red Hat CSAF VEX documents (one per CVE, `cve-2023-0049.json`): the vendor's status of every RPM
component in every product stream, which OSV's `Red Hat` records (ranges of fixed errata only) lack.

A product id (`red_hat_enterprise_linux_8:vim`, `AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.src`) is a
component related to a product by the product tree; the product's CPE names the stream, spelled as OSV
spells it (`Red Hat:enterprise_linux:9::appstream`; unfixed components name the major without channel:
`Red Hat:enterprise_linux:8`). Statuses (VEX spelling, vulndb.model.STATUSES):

| CSAF product status / remediation | status |
|---|---|
| `fixed` (its NEVRA the fix) | `fixed`, range `introduced 0, fixed E:V-R` (the smallest fix of the stream) |
| `known_affected` + `no_fix_planned` "Will not fix" | `will_not_fix` |
| `known_affected` + `no_fix_planned` "Out of support scope" | `end_of_life` |
| `known_affected` + `none_available` "Fix deferred" | `fix_deferred` |
| `known_affected` otherwise ("Affected") | `affected` |
| `known_not_affected` | `not_affected` |
| `under_investigation` | `under_investigation` |

Rows are keyed by component NAME as the document gives it: binary names for fixed builds (`libcurl`),
the source name for unfixed components (`vim`); the rpm matcher asks by both. A modular component
(`ruby:3.1/ruby`, or a purl's `rpmmod`) carries its module stream in the range (`"module": "ruby:3.1"`).
Components that are not RPMs (container images, Maven artifacts) are left out; a product whose CPE is
missing, foreign or malformed is skipped and counted.
"""

from __future__ import annotations

import re
from typing import Any

from packageurl import PackageURL

from hullscan.versions import get_scheme
from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._cvss import score
from hullscan.vulndb.feeds._input import iso, text
from hullscan.vulndb.feeds.redhat_repo_cpe import stream_of
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch

FEED = "redhat-csaf"
FORMAT = "redhat-csaf"
_NEVRA = re.compile(r"^(?P<name>.+)-(?P<epoch>\d+):(?P<version>[^-:]+)-(?P<release>[^-:]+)\.(?P<arch>[^.]+)$")
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]+$")
_CVE = re.compile(r"^CVE-\d{4}-\d+$")
_RPM = get_scheme("rpm")
#: remediation (category, details) of a known_affected component → status
_UNFIXED = {("no_fix_planned", "will not fix"): "will_not_fix", ("no_fix_planned", "out of support scope"): "end_of_life",
            ("none_available", "fix deferred"): "fix_deferred", ("none_available", "affected"): "affected"}
_STATUS_KEYS = {"fixed": "fixed", "known_affected": "affected", "known_not_affected": "not_affected",
                "under_investigation": "under_investigation"}


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "json" or not isinstance(doc, dict):
        return False
    head = doc.get("document")
    return isinstance(head, dict) and head.get("category") == "csaf_vex" and "product_tree" in doc


def status_of(product_status: str, remediation: tuple[str, str] | None) -> str:
    """The VEX status of a product id listed under `product_status` with its remediation (category, details)."""
    status = _STATUS_KEYS[product_status]
    if status == "affected" and remediation is not None:
        return _UNFIXED.get((remediation[0], remediation[1].strip().lower()), "affected")
    return status


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    try:
        cpes, components, relations = _product_tree(doc.get("product_tree"))
    except (TypeError, AttributeError, KeyError) as err:
        batch.skip(name, f"unreadable product tree: {err}")
        return
    head = doc["document"] if isinstance(doc["document"], dict) else {}
    tracking: dict[str, Any] = head["tracking"] if isinstance(head.get("tracking"), dict) else {}
    severity = (head.get("aggregate_severity") or {}).get("text") if isinstance(head.get("aggregate_severity"), dict) else None
    vulns = doc.get("vulnerabilities")
    if not isinstance(vulns, list):
        batch.skip(name, "no `vulnerabilities` list")
        return
    for i, v in enumerate(vulns):
        cve = text(v.get("cve")) if isinstance(v, dict) else None
        if not cve or not _CVE.match(cve):
            batch.skip(f"{name}: vulnerabilities[{i}]", f"bad cve {cve!r}")
            continue
        adv = _advisory(cve, v, tracking, text(severity))
        try:
            rows = _rows(f"{name}: {cve}", v, cpes, components, relations, batch)
        except (TypeError, AttributeError) as err:
            batch.skip(f"{name}: {cve}", f"unreadable product_status: {err}")
            continue
        adv.affected = list(rows.values())
        batch.put(adv)


def _product_tree(tree: Any) -> tuple[dict[str, str], dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    """(product id → CPE of the products, product id → component facts, full id → (component, product))."""
    cpes: dict[str, str] = {}
    components: dict[str, dict[str, Any]] = {}
    stack = list(tree.get("branches") or [])
    while stack:
        b = stack.pop()
        stack.extend(b.get("branches") or [])
        prod = b.get("product")
        if not isinstance(prod, dict) or not isinstance(prod.get("product_id"), str):
            continue
        helper = prod.get("product_identification_helper") or {}
        if b.get("category") == "product_name":
            cpes[prod["product_id"]] = str(helper.get("cpe") or "")
        elif b.get("category") == "product_version":
            components[prod["product_id"]] = {"purl": helper.get("purl")}
    relations = {}
    for r in tree.get("relationships") or []:
        full = (r.get("full_product_name") or {}).get("product_id")
        if isinstance(full, str):
            relations[full] = (str(r.get("product_reference")), str(r.get("relates_to_product_reference")))
    return cpes, components, relations


def _advisory(cve: str, v: dict[str, Any], tracking: dict[str, Any], severity: str | None) -> AdvisoryIn:
    adv = AdvisoryIn(id=cve, summary=text(v.get("title")), published=iso(v.get("release_date") or
                     tracking.get("initial_release_date")), modified=iso(tracking.get("current_release_date")),
                     severity=severity)
    for note in v.get("notes") or []:
        if isinstance(note, dict) and note.get("category") == "description":
            adv.details = text(note.get("text"))
    for s in v.get("scores") or []:
        for key, ty in (("cvss_v3", "CVSS_V3"), ("cvss_v4", "CVSS_V4")):
            vec = (s.get(key) or {}).get("vectorString") if isinstance(s, dict) else None
            if isinstance(vec, str) and (ty, vec, score(ty, vec)) not in adv.severities:
                adv.severities.append((ty, vec, score(ty, vec)))
    for r in v.get("references") or []:
        if isinstance(r, dict) and r.get("url"):
            adv.references.append(("WEB" if r.get("category") != "self" else "ADVISORY", str(r["url"])))
    adv.cwes = [c for c in [str((v.get("cwe") or {}).get("id") or "")] if c.upper().startswith("CWE-")]
    return adv


def _rows(where: str, v: dict[str, Any], cpes: dict[str, str], components: dict[str, dict[str, Any]],
          relations: dict[str, tuple[str, str]], batch: FeedBatch) -> dict[tuple[str, str, str], AffectedIn]:
    remediation: dict[str, tuple[str, str]] = {}
    for r in v.get("remediations") or []:
        if isinstance(r, dict) and r.get("category") in ("no_fix_planned", "none_available"):
            for pid in r.get("product_ids") or []:
                remediation[pid] = (r["category"], str(r.get("details") or ""))
    rows: dict[tuple[str, str, str], AffectedIn] = {}
    bad_streams: set[str] = set()
    for key, ids in (v.get("product_status") or {}).items():
        if key not in _STATUS_KEYS:
            continue
        for pid in ids:
            rel = relations.get(pid)
            if rel is None:
                continue  # a product without component (a whole layered product): nothing to match by name
            comp, product = rel
            stream = stream_of(cpes.get(product, ""))
            if stream is None:
                if product not in bad_streams:
                    bad_streams.add(product)
                    batch.skip(where, f"product {product!r}: missing, foreign or malformed CPE {cpes.get(product)!r}")
                continue
            parsed = _component(comp, components.get(comp, {}).get("purl"))
            if parsed is None:
                continue  # not an RPM
            name, evr, module = parsed
            status = status_of(key, remediation.get(pid))
            _add(rows, stream, name, module, status, evr if key == "fixed" else None)
    return rows


def _component(comp: str, purl: Any) -> tuple[str, str | None, str] | None:
    """(name, E:V-R or None, module stream or '') of an RPM component, None for any other component."""
    if isinstance(purl, str) and purl.startswith("pkg:"):
        try:
            p = PackageURL.from_string(purl)
        except ValueError:
            return None
        if p.type != "rpm":
            return None
        quals = p.qualifiers if isinstance(p.qualifiers, dict) else {}
        module = ":".join(str(quals.get("rpmmod", "")).split(":")[:2]) if quals.get("rpmmod") else ""
        evr = f"{quals.get('epoch') or 0}:{p.version}" if p.version else None
        return p.name, evr, module
    m = _NEVRA.match(comp)
    if m:
        return m["name"], f"{m['epoch']}:{m['version']}-{m['release']}", ""
    module, _, name = comp.rpartition("/")  # unfixed modular component: `ruby:3.1/ruby`
    if not _NAME.match(name) or (module and module.count(":") != 1):
        return None
    return name, None, module


def _add(rows: dict[tuple[str, str, str], AffectedIn], stream: str, name: str, module: str, status: str,
         fix: str | None) -> None:
    key = (stream, name, module)
    old = rows.get(key)
    extra = {"module": module} if module else {}
    if fix is not None:
        if old is not None and old.status == "fixed":
            current = old.ranges[0]["events"][1]["fixed"]
            if _RPM.compare(fix, current) >= 0:
                return  # a stream's earliest fix decides: later builds of the stream include it
        rows[key] = AffectedIn(stream, name, [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fix}],
                                               **extra}], [], "fixed")
    elif old is None:
        ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}], **extra}] if module else []
        rows[key] = AffectedIn(stream, name, ranges, [], status)
