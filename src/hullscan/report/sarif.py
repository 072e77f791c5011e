"""SARIF 2.1.0 from a Report, following GitHub code scanning's conventions.

- One rule per vulnerability id and per secret / image-config rule: short and full description, help in
  text and markdown, `helpUri`, `properties.security-severity` (the CVSS score, else a score standing for
  the severity word, so GitHub buckets it right) and `tags` (`security`, the kind, the severity).
- One result per finding, located at the package's path (lockfile, dist-info, db file) or the secret's
  file in the image (`artifactLocation.uri` relative: no leading slash, percent-encoded); findings of the
  image config (Env, history, labels, USER) are located at the image itself (its name as the uri). A
  vulnerability found through several copies of its package (`Finding.locations`) is still one result,
  with one SARIF location per copy, the finding's own first.
- `partialFingerprints` carry a stable hash (id + package purl + path; for secrets their own
  fingerprint), so GitHub tracks an alert across scans; the layer and package facts are `properties`.
- Inherited vs introduced: a result's `properties.inherited` (DESIGN's pinned name; absent when unknown)
  and, for an inherited one, `properties["base_image.name"]`; its message says "inherited from NAME" or
  "introduced". The run's properties name the base image and how it was identified (`base_image.method`),
  and an OS past its end of life (`os.eol` {date, source, as_of, extended?}).
- Level from the severity: CRITICAL/HIGH → error, MEDIUM → warning, LOW/UNKNOWN → note.
- Findings the policy suppressed (VEX, exceptions) are results with `suppressions` (GitHub closes them).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from hullscan import __version__
from hullscan.model.findings import ConfigFinding, Finding
from hullscan.model.report import Report
from hullscan.report.findings import Item, items, target_name

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/hullscan/hullscan"
LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note"}
# GitHub reads security-severity as a CVSS-like number: >9 critical, 7-8.9 high, 4-6.9 medium, 0.1-3.9 low
SEVERITY_SCORE = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0", "UNKNOWN": "0.0"}


def _uri(path: str) -> str:
    return quote(path.lstrip("/"), safe="/-._~+@:")


def _image_uri(report: Report) -> str:
    # an image-level finding has no file: point at the image, as a relative reference
    name = target_name(report).split("@")[0]
    return _uri(name.replace(":", "/").lstrip("./") or "image")


def _security_severity(it: Item) -> str:
    f = it.finding
    score = f.cvss.score if isinstance(f, Finding) and f.cvss is not None else None
    if score is not None and 0 < score <= 10:
        return f"{float(score):.1f}"
    return SEVERITY_SCORE[it.severity]


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _vuln_help(f: Finding) -> tuple[str, str]:
    pkg = f.package
    rows = [("Package", f"{pkg.name} {pkg.version}"), ("Fixed version", f.fixed_version or "none yet"),
            ("Status", f.status), ("Severity", f"{f.severity} (from {f.severity_source or 'n/a'})")]
    if f.cvss is not None and f.cvss.vector:
        rows.append(("CVSS", f"{f.cvss.score} {f.cvss.vector}"))
    if f.aliases:
        rows.append(("Aliases", ", ".join(f.aliases)))
    if f.kev is not None:
        rows.append(("CISA KEV", f"added {f.kev.date_added}"))
    if f.epss is not None:
        rows.append(("EPSS", f"{f.epss.score} (percentile {f.epss.percentile})"))
    title = f.title or f.id
    text = f"{title}\n" + "\n".join(f"{k}: {v}" for k, v in rows)
    refs = f.references[:10]
    if refs:
        text += "\nReferences:\n" + "\n".join(refs)
    md = f"**{_md(f.id)}** {_md(title) if title != f.id else ''}\n\n| | |\n|---|---|\n"
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
    elif isinstance(f, ConfigFinding) and f.message:
        text += f" {f.message}"
    return text, f"**{_md(it.title)}**\n\n{_md(text)}"


def _rule(it: Item) -> dict[str, Any]:
    f = it.finding
    if isinstance(f, Finding):
        short = f.title or it.rule_id
        text, md = _vuln_help(f)
        refs = [u for u in f.references if u.startswith(("http://", "https://"))]
        help_uri = refs[0] if refs else None
        tag = f.package.type
    else:
        short = it.title
        text, md = _other_help(it)
        help_uri = None
        tag = f.category
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
            "tags": [t for t in ("security", it.kind, it.severity.lower(), tag) if t],
        },
    }
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _fingerprint(it: Item) -> str:
    f = it.finding
    if isinstance(f, Finding):
        purl, path = f.package.purl, it.path
    elif it.kind == "secret" and f.fingerprint:
        return f.fingerprint
    else:
        purl, path = "", it.path or f.path
    basis = "|".join((it.kind, it.rule_id, purl, path))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _message(it: Item, base_name: str = "") -> str:
    f = it.finding
    layer = it.layer
    where = f" (layer {layer.index}{', base image' if layer.base else ''})" if layer is not None else ""
    if f.inherited is not None:  # the finding's own field (true for a squashed image's base packages too)
        origin = f"inherited from {base_name}" if f.inherited and base_name else ("inherited" if f.inherited else "introduced")
        where = f" (layer {layer.index}, {origin})" if layer is not None else f" ({origin})"
    if isinstance(f, Finding):
        fix = f"; fixed in {f.fixed_version}" if f.fixed_version else "; no fix yet"
        places = f"; found in {len(f.locations)} places" if f.locations else ""
        return f"{it.rule_id} ({it.severity}) in {f.package.name} {f.package.version}{fix}{where}{places}"
    shown = f" {f.path}" if f.path else ""
    gone = " — deleted by a later layer but still in the image" if f.removed_in is not None else ""
    return f"{it.title} ({it.severity}) in{shown}{where}{gone}"


def _location(path: str, line: int | None, label: str, kind: str, report: Report) -> dict[str, Any]:
    uri = _uri(path) if path else _image_uri(report)
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line or 1}},
            "logicalLocations": [{"name": label, "kind": "member" if kind == "vulnerability" else "resource"}]}


def _result(it: Item, rule_index: int, report: Report) -> dict[str, Any]:
    f = it.finding
    locations = [_location(it.path, it.line, it.label, it.kind, report)]
    if isinstance(f, Finding) and f.locations:
        locations = [_location(loc.path, None, it.label, it.kind, report) for loc in f.locations]
    layer = it.layer
    props: dict[str, Any] = {"kind": it.kind, "severity": it.severity}
    if layer is not None:
        props.update({"layer.index": layer.index, "layer.diff_id": layer.diff_id,
                      "layer.created_by": layer.created_by, "layer.base": layer.base})
    if isinstance(f, Finding):
        pkg = f.package
        props.update({"package.name": pkg.name, "package.version": pkg.version,
                      "package.purl": pkg.purl, "package.type": pkg.type,
                      "package.paths": list(pkg.paths), "status": f.status,
                      "fixed_version": f.fixed_version or None, "aliases": list(f.aliases),
                      "package.locations": [{"path": loc.path, "kind": loc.package.kind,
                                             "analyzer": loc.package.analyzer,
                                             "layer.index": loc.layer.index if loc.layer is not None else None}
                                            for loc in f.locations]})
    else:
        props.update({"path": f.path, "removed_in": f.removed_in.index if f.removed_in is not None else None})
    if f.origin is not None:
        props["origin"] = f.origin  # DESIGN's pinned name in a container scan: image or runtime
    if f.inherited is not None:
        props["inherited"] = f.inherited  # DESIGN's pinned name: the base image brought it
        if f.inherited and report.base_image.name:
            props["base_image.name"] = report.base_image.name
    if it.risk is not None:
        props["risk.score"] = it.risk.score
        props["risk.reason"] = it.risk.reason
    if isinstance(f, Finding) and f.reachability is not None:  # docs/reachability.md
        props["reachability"] = f.reachability.level
        props["reachability.method"] = f.reachability.method or None
        props["reachability.evidence"] = list(f.reachability.evidence)
    result: dict[str, Any] = {
        "ruleId": it.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[it.severity],
        "message": {"text": _message(it, report.base_image.name)},
        "locations": locations,
        "partialFingerprints": {"hullscanFinding/v1": _fingerprint(it)},
        "properties": {k: v for k, v in props.items() if v is not None and v != []},
    }
    if it.suppressed is not None:
        s = it.suppressed
        why = s.justification or s.impact or s.status or "suppressed"
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{s.by}: {why}"[:1000]}]
    return result


def _eol(report: Report) -> dict[str, str] | None:
    """The release's end of life (not a result: no rule to fix it in code), as the JSON report's `os.eol`."""
    eol = report.os.eol if report.os is not None else None
    if eol is None:
        return None
    return {k: v for k, v in (("date", eol.date), ("source", eol.source), ("as_of", eol.as_of),
                              ("extended", eol.extended)) if v}


def build_sarif(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for it in items(report, with_suppressed=True):
        if it.rule_id not in index:
            index[it.rule_id] = len(rules)
            rules.append(_rule(it))
        results.append(_result(it, index[it.rule_id], report))
    target, verdict = report.target, report.verdict
    failed = [{"rule": r.rule, "description": r.description, "findings": list(r.findings)}
              for r in (verdict.failed_rules if verdict is not None else ())]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "hullscan", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFO_URI, "rules": rules}},
        "automationDetails": {"id": f"hullscan/{_image_uri(report)}/"},
        "columnKind": "utf16CodeUnits",
        "results": results,
        "properties": {k: v for k, v in {
            "image.name": target.name, "image.input": target.input,
            "image.manifest_digest": target.manifest_digest, "image.config_digest": target.config_digest,
            "image.repo_tags": list(target.repo_tags) or None,
            "os": report.os.name if report.os is not None else None,
            "os.eol": _eol(report),
            "base_image.name": report.base_image.name or None,
            "base_image.digest": report.base_image.digest or None,
            "base_image.method": report.base_image.method,
            "coverage.gaps": report.db.coverage_gaps or None if report.db is not None else None,
            "coverage": [{"ecosystem": c.ecosystem, "present": c.present, "packages": c.packages,
                          "advisories": c.advisories, "newest_advisory": c.newest_advisory, "fetched_at": c.fetched_at}
                         for c in report.db.coverage] or None if report.db is not None else None,
            "verdict.passed": verdict.passed if verdict is not None else None,
            "verdict.failed_rules": failed or None,
        }.items() if v is not None},
    }
    return {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}


def render(report: Report) -> bytes:
    return (json.dumps(build_sarif(report), indent=2, ensure_ascii=False) + "\n").encode()
