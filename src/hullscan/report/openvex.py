"""OpenVEX out: the findings the team accepted (policy exceptions, and VEX already applied) as an
OpenVEX v0.2.0 document (https://github.com/openvex/spec, v0.2.0), so other tools honour the same decisions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hullscan import __version__
from hullscan.model.findings import Finding
from hullscan.model.report import Report

CONTEXT = "https://openvex.dev/ns/v0.2.0"
JUSTIFICATIONS = {
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist",
}


def _product(report: Report) -> str:
    target = report.target
    digest = target.manifest_digest or target.config_digest
    name = (target.name or "image").split("/")[-1].split(":")[0].split("@")[0].lower() or "image"
    return f"pkg:oci/{name}@{digest.replace(':', '%3A')}" if digest else f"pkg:oci/{name}"


def _not_present(report: Report, image: str) -> list[dict[str, Any]]:
    """Go symbol level `not_present` → not_affected, vulnerable_code_not_present (the evidence as impact)."""
    out = []
    for f in report.vulnerabilities:
        r = f.reachability
        if r is None or r.level != "not_present" or r.method != "go-symbols":
            continue
        out.append({
            "vulnerability": {"name": f.id, **({"aliases": list(f.aliases)} if f.aliases else {})},
            "products": [{"@id": image, "subcomponents": [{"@id": f.package.purl}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
            "impact_statement": "; ".join(r.evidence) or "no affected symbol in the binary",
            "status_notes": "hullscan reachability: go-symbols not_present",
        })
    return out


def render(report: Report, *, reachability: bool = False) -> bytes:
    """The document; with `reachability` (`--vex-reachability`) also a `not_affected` statement
    (`vulnerable_code_not_present`) per Go finding whose affected symbols are not in the binary — the
    only level that ever says not_affected (docs/reachability.md)."""
    statements = []
    image = _product(report)
    for s in report.suppressed:
        f = s.finding
        if not isinstance(f, Finding):
            continue
        status = s.status if s.status in ("not_affected", "fixed", "affected", "under_investigation") else "not_affected"
        st: dict[str, Any] = {
            "vulnerability": {"name": f.id, **({"aliases": list(f.aliases)} if f.aliases else {})},
            "products": [{"@id": image, "subcomponents": [{"@id": f.package.purl}]}],
            "status": status,
        }
        if status == "not_affected":
            just = s.vex_justification or (s.justification if s.justification in JUSTIFICATIONS else "")
            if just in JUSTIFICATIONS:
                st["justification"] = just
            st["impact_statement"] = s.impact or s.justification or "accepted by policy exception"
        elif status == "affected":
            st["action_statement"] = s.justification or "accepted by policy exception"
        if s.by == "exception":
            st["status_notes"] = f"exception from {s.source}" + (f", owner {s.owner}" if s.owner else "") + (
                f", expires {s.expires}" if s.expires else "")
        statements.append(st)
    if reachability:
        statements.extend(_not_present(report, image))
    body = json.dumps(statements, sort_keys=True).encode()
    doc = {
        "@context": CONTEXT,
        "@id": "https://hullscan.invalid/vex/" + hashlib.sha256(body + image.encode()).hexdigest(),
        "author": f"hullscan {__version__}",
        "timestamp": report.created_at or "1970-01-01T00:00:00Z",
        "version": 1,
        "tooling": f"hullscan {__version__}",
        "statements": statements,
    }
    return (json.dumps(doc, indent=2) + "\n").encode()
