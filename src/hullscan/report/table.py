"""The table for people: what the image is, what is in it, and what to fix first."""

from __future__ import annotations

from collections import Counter

from hullscan.report.boxes import clean, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
VULN_COLUMNS = ("Package", "Installed", "Vulnerability", "Severity", "Status", "Fixed in", "Layer", "Risk")
NO_WRAP = ("Vulnerability", "Severity", "Status", "Layer")


def render(report: dict[str, Any], width: int = 140) -> bytes:
    out: list[str] = []
    target = report["target"]
    os_info = report.get("os") or {}
    out.append(f"{clean(target.get('name') or target.get('input'))} ({target.get('type')})")
    if target.get("manifest_digest"):
        out.append(f"manifest {target['manifest_digest']}")
    out.append(f"OS: {clean(os_info.get('name') or 'unknown')}  arch: {clean(report.get('architecture') or '-')}  "
               f"layers: {len(report.get('layers', []))}  packages: {len(report.get('packages', []))}")
    _vulns(out, report, width)
    _secrets(out, report, width)
    if not report.get("vulnerabilities") and "vuln" not in report.get("scanners", []):
        _packages(out, report)
    _verdict(out, report)
    for w in report.get("warnings", [])[:20]:
        where = f" [layer {w['layer']}]" if w.get("layer") is not None else ""
        out.append(clean(f"warning{where} {w.get('path') or ''} {w['message']}".rstrip()))
    if len(report.get("warnings", [])) > 20:
        out.append(f"… {len(report['warnings']) - 20} more warnings in the JSON report")
    return ("\n".join(out) + "\n").encode()


def _packages(out: list[str], report: dict[str, Any]) -> None:
    by_type = Counter(p["type"] for p in report.get("packages", []))
    if by_type:
        out.append("packages by type: " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())))


def _vulns(out: list[str], report: dict[str, Any], width: int) -> None:
    vulns = report.get("vulnerabilities") or []
    if "vuln" not in report.get("scanners", []):
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for v in vulns:
        pkg = v.get("package", {})
        target = "OS packages" if pkg.get("type") in ("deb", "rpm", "apk") else (pkg.get("paths") or ["?"])[0]
        groups.setdefault(target, []).append(v)
    for target, items in groups.items():
        items.sort(key=lambda v: (-(v.get("risk", {}) or {}).get("score", 0), _sev_rank(v.get("severity")), v["package"]["name"]))
        rows = []
        for v in items:
            layer = v.get("layer") or {}
            risk = v.get("risk") or {}
            rows.append((
                v["package"]["name"], v["package"]["version"], v["id"], v.get("severity") or "UNKNOWN",
                v.get("status", ""), v.get("fixed_version") or "", layer.get("index", ""),
                f"{risk.get('score', '')} {risk.get('reason', '')}".strip(),
            ))
        out.append(table(VULN_COLUMNS, rows, width=width, title=target, no_wrap=NO_WRAP))
    counts = Counter(v.get("severity") or "UNKNOWN" for v in vulns)
    fixable = sum(1 for v in vulns if v.get("fixed_version"))
    out.append(f"Total: {len(vulns)} (" + ", ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITY_ORDER) + f"), fixable {fixable}")


def _secrets(out: list[str], report: dict[str, Any], width: int) -> None:
    secrets = report.get("secrets") or []
    if not secrets:
        return
    rows = []
    for s in secrets:
        layer = s.get("layer")
        where = str(layer.get("index") if isinstance(layer, dict) else layer)
        if s.get("removed_in") is not None:
            where += f" (removed in {s['removed_in'] if not isinstance(s['removed_in'], dict) else s['removed_in'].get('index')})"
        rows.append((s.get("severity", ""), s.get("rule_id", ""), s.get("path", ""), s.get("line", ""), where, s.get("match", "")))
    out.append(table(("Severity", "Rule", "Path", "Line", "Layer", "Match"), rows, width=width, title="Secrets",
                     no_wrap=("Severity", "Line")))


def _verdict(out: list[str], report: dict[str, Any]) -> None:
    verdict = report.get("verdict") or {}
    if report.get("suppressed"):
        by: dict[str, int] = {}
        for s in report["suppressed"]:
            by[s["by"]] = by.get(s["by"], 0) + 1
        out.append("Suppressed: " + ", ".join(f"{n} by {k}" for k, n in sorted(by.items())))
    if not verdict.get("gate"):
        return
    if verdict.get("passed"):
        out.append(f"Policy passed ({clean(verdict.get('policy') or 'ignore files')})")
        return
    out.append(f"Policy failed ({clean(verdict.get('policy'))})")
    for rule in verdict.get("failed_rules", []):
        items = rule["findings"]
        shown = ", ".join(items[:5]) + (f", … {len(items) - 5} more" if len(items) > 5 else "")
        out.append(clean(f"  {rule['rule']}: {rule['description']}: {shown}"))


def _sev_rank(sev: str | None) -> int:
    return SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)
