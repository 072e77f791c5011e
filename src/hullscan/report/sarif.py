"""SARIF 2.1.0 from the report dict, following GitHub code scanning's conventions.

- One rule per vulnerability id and per secret / image-config rule: short and full description, help in
  text and markdown, `helpUri`, `properties.security-severity` (the CVSS score, else a score standing for
  the severity word, so GitHub buckets it right) and `tags` (`security`, the kind, the severity).
- One result per finding, located at the package's path (lockfile, dist-info, db file) or the secret's
  file in the image (`artifactLocation.uri` relative: no leading slash, percent-encoded); findings of the
  image config (Env, history, labels, USER) are located at the image itself (its name as the uri).
- `partialFingerprints` carry a stable hash (id + package purl + path; for secrets their own
  fingerprint), so GitHub tracks an alert across scans; the layer and package facts are `properties`.
- Level from the severity: CRITICAL/HIGH → error, MEDIUM → warning, LOW/UNKNOWN → note.
- Findings the policy suppressed (VEX, exceptions) are results with `suppressions` (GitHub closes them).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from hullscan.report.findings import Item, items, target_name

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/hullscan/hullscan"
LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note"}
# GitHub reads security-severity as a CVSS-like number: >9 critical, 7-8.9 high, 4-6.9 medium, 0.1-3.9 low
SEVERITY_SCORE = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0", "UNKNOWN": "0.0"}


def _uri(path: str) -> str:
    return quote(path.lstrip("/"), safe="/-._~+@:")


def _image_uri(report: dict[str, Any]) -> str:
    # an image-level finding has no file: point at the image, as a relative reference
    name = target_name(report).split("@")[0]
    return _uri(name.replace(":", "/").lstrip("./") or "image")


def _security_severity(it: Item) -> str:
    score = ((it.finding.get("cvss") or {}) if it.kind == "vulnerability" else {}).get("score")
    if isinstance(score, (int, float)) and 0 < score <= 10:
        return f"{float(score):.1f}"
    return SEVERITY_SCORE[it.severity]


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _vuln_help(f: dict[str, Any]) -> tuple[str, str]:
    pkg = f.get("package") or {}
    cvss = f.get("cvss") or {}
    rows = [("Package", f"{pkg.get('name')} {pkg.get('version')}"), ("Fixed version", f.get("fixed_version") or "none yet"),
            ("Status", f.get("status")), ("Severity", f"{f.get('severity')} (from {f.get('severity_source') or 'n/a'})")]
    if cvss.get("vector"):
        rows.append(("CVSS", f"{cvss.get('score')} {cvss.get('vector')}"))
    if f.get("aliases"):
        rows.append(("Aliases", ", ".join(f["aliases"])))
    if f.get("kev"):
        rows.append(("CISA KEV", f"added {f['kev'].get('date_added')}"))
    if f.get("epss"):
        rows.append(("EPSS", f"{f['epss'].get('score')} (percentile {f['epss'].get('percentile')})"))
    title = f.get("title") or f.get("id")
    text = f"{title}\n" + "\n".join(f"{k}: {v}" for k, v in rows)
    refs = [u for u in f.get("references") or [] if isinstance(u, str)][:10]
    if refs:
        text += "\nReferences:\n" + "\n".join(refs)
    md = f"**{_md(f.get('id'))}** {_md(title) if title != f.get('id') else ''}\n\n| | |\n|---|---|\n"
    md += "\n".join(f"| {k} | {_md(v)} |" for k, v in rows)
    if refs:
        md += "\n\n**References**\n\n" + "\n".join(f"- <{u}>" for u in refs)
    return text, md


def _other_help(it: Item) -> tuple[str, str]:
    f = it.finding
    what = "secret" if it.kind == "secret" else "image configuration"
    text = f"{it.title} ({what} rule {it.rule_id}, severity {it.severity})."
    if it.kind == "secret":
        text += " Remove the credential from the image (every layer keeps its files) and revoke it."
    elif f.get("message"):
        text += f" {f['message']}"
    return text, f"**{_md(it.title)}**\n\n{_md(text)}"


def _rule(it: Item) -> dict[str, Any]:
    f = it.finding
    if it.kind == "vulnerability":
        short = f.get("title") or f"{it.rule_id}"
        text, md = _vuln_help(f)
        refs = [u for u in f.get("references") or [] if isinstance(u, str) and u.startswith(("http://", "https://"))]
        help_uri = refs[0] if refs else None
    else:
        short = it.title
        text, md = _other_help(it)
        help_uri = None
    rule: dict[str, Any] = {
        "id": it.rule_id,
        "name": "".join(p.capitalize() for p in it.rule_id.replace("_", "-").split("-") if p.isalnum()) or "Finding",
        "shortDescription": {"text": short[:1024]},
        "fullDescription": {"text": text.split("\n")[0]},
        "help": {"text": text, "markdown": md},
        "defaultConfiguration": {"level": LEVEL[it.severity]},
        "properties": {
            "security-severity": _security_severity(it),
            "precision": "very-high",
            "tags": ["security", it.kind, it.severity.lower()] + (
                [str((f.get("package") or {}).get("type"))] if it.kind == "vulnerability" else [str(f.get("category") or "")]),
        },
    }
    rule["properties"]["tags"] = [t for t in rule["properties"]["tags"] if t and t != "None"]
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _fingerprint(it: Item) -> str:
    f = it.finding
    if it.kind == "secret" and f.get("fingerprint"):
        return str(f["fingerprint"])
    pkg = f.get("package") or {}
    basis = "|".join((it.kind, it.rule_id, str(pkg.get("purl") or ""), it.path or str(f.get("path") or "")))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _message(it: Item) -> str:
    f = it.finding
    layer = it.layer or {}
    where = f" (layer {layer.get('index')}{', base image' if layer.get('base') else ''})" if layer.get("index") is not None else ""
    if it.kind == "vulnerability":
        pkg = f.get("package") or {}
        fix = f"; fixed in {f['fixed_version']}" if f.get("fixed_version") else "; no fix yet"
        return f"{it.rule_id} ({it.severity}) in {pkg.get('name')} {pkg.get('version')}{fix}{where}"
    shown = f" {f.get('path')}" if f.get("path") else ""
    gone = " — deleted by a later layer but still in the image" if f.get("removed_in") else ""
    return f"{it.title} ({it.severity}) in{shown}{where}{gone}"


def _result(it: Item, rule_index: int, report: dict[str, Any]) -> dict[str, Any]:
    f = it.finding
    uri = _uri(it.path) if it.path else _image_uri(report)
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    physical["region"] = {"startLine": it.line or 1}
    layer = it.layer or {}
    props: dict[str, Any] = {"kind": it.kind, "severity": it.severity}
    if layer:
        props.update({"layer.index": layer.get("index"), "layer.diff_id": layer.get("diff_id"),
                      "layer.created_by": layer.get("created_by"), "layer.base": layer.get("base")})
    if it.kind == "vulnerability":
        pkg = f.get("package") or {}
        props.update({"package.name": pkg.get("name"), "package.version": pkg.get("version"),
                      "package.purl": pkg.get("purl"), "package.type": pkg.get("type"),
                      "package.paths": pkg.get("paths") or [], "status": f.get("status"),
                      "fixed_version": f.get("fixed_version") or None, "aliases": f.get("aliases") or []})
    else:
        props.update({"path": f.get("path"), "removed_in": (f.get("removed_in") or {}).get("index")
                      if isinstance(f.get("removed_in"), dict) else f.get("removed_in")})
    if f.get("risk"):
        props["risk.score"] = f["risk"].get("score")
        props["risk.reason"] = f["risk"].get("reason")
    result: dict[str, Any] = {
        "ruleId": it.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[it.severity],
        "message": {"text": _message(it)},
        "locations": [{"physicalLocation": physical,
                       "logicalLocations": [{"name": it.label, "kind": "member" if it.kind == "vulnerability" else "resource"}]}],
        "partialFingerprints": {"hullscanFinding/v1": _fingerprint(it)},
        "properties": {k: v for k, v in props.items() if v is not None and v != []},
    }
    if it.suppressed is not None:
        s = it.suppressed
        why = s.get("justification") or s.get("impact") or s.get("status") or "suppressed"
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{s.get('by')}: {why}"[:1000]}]
    return result


def build_sarif(report: dict[str, Any]) -> dict[str, Any]:
    tool = report.get("tool") or {}
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for it in items(report, with_suppressed=True):
        if it.rule_id not in index:
            index[it.rule_id] = len(rules)
            rules.append(_rule(it))
        results.append(_result(it, index[it.rule_id], report))
    target = report.get("target") or {}
    version = str(tool.get("version") or "0")
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "hullscan", "version": version, "semanticVersion": version,
                            "informationUri": INFO_URI, "rules": rules}},
        "automationDetails": {"id": f"hullscan/{_image_uri(report)}/"},
        "columnKind": "utf16CodeUnits",
        "results": results,
        "properties": {k: v for k, v in {
            "image.name": target.get("name"), "image.input": target.get("input"),
            "image.manifest_digest": target.get("manifest_digest"), "image.config_digest": target.get("config_digest"),
            "image.repo_tags": target.get("repo_tags") or None,
            "os": (report.get("os") or {}).get("name"),
            "verdict.passed": (report.get("verdict") or {}).get("passed"),
            "verdict.failed_rules": [{"rule": r["rule"], "description": r.get("description", ""), "findings": r.get("findings", [])}
                                     for r in (report.get("verdict") or {}).get("failed_rules") or []] or None,
        }.items() if v is not None},
    }
    return {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}


def render(report: dict[str, Any]) -> bytes:
    return (json.dumps(build_sarif(report), indent=2, ensure_ascii=False) + "\n").encode()
