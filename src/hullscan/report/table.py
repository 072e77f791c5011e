"""The table for people: what the image is, what is in it, and what to fix first."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan", "UNKNOWN": "dim"}


def render(report: dict[str, Any], width: int = 140, color: bool = False) -> bytes:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None)
    target = report["target"]
    os_info = report.get("os") or {}
    console.print(f"[bold]{target.get('name') or target.get('input')}[/bold] ({target.get('type')})")
    if target.get("manifest_digest"):
        console.print(f"manifest {target['manifest_digest']}")
    console.print(f"OS: {os_info.get('name') or 'unknown'}  arch: {report.get('architecture') or '-'}  "
                  f"layers: {len(report.get('layers', []))}  packages: {len(report.get('packages', []))}")
    _vulns(console, report)
    _secrets(console, report)
    if not report.get("vulnerabilities") and "vuln" not in report.get("scanners", []):
        _packages(console, report)
    _verdict(console, report)
    for w in report.get("warnings", [])[:20]:
        where = f" [layer {w['layer']}]" if w.get("layer") is not None else ""
        console.print(f"[yellow]warning[/yellow]{where} {w.get('path') or ''} {w['message']}".rstrip())
    if len(report.get("warnings", [])) > 20:
        console.print(f"… {len(report['warnings']) - 20} more warnings in the JSON report")
    return buf.getvalue().encode()


def _packages(console: Console, report: dict[str, Any]) -> None:
    by_type = Counter(p["type"] for p in report.get("packages", []))
    if by_type:
        console.print("packages by type: " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())))


def _vulns(console: Console, report: dict[str, Any]) -> None:
    vulns = report.get("vulnerabilities") or []
    if "vuln" not in report.get("scanners", []):
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for v in vulns:
        pkg = v.get("package", {})
        target = "OS packages" if pkg.get("type") in ("deb", "rpm", "apk") else (pkg.get("paths") or ["?"])[0]
        groups.setdefault(target, []).append(v)
    for target, items in groups.items():
        table = Table(title=target, title_justify="left", show_lines=False)
        for col in ("Package", "Installed", "Vulnerability", "Severity", "Status", "Fixed in", "Layer", "Risk"):
            table.add_column(col)
        items.sort(key=lambda v: (-(v.get("risk", {}) or {}).get("score", 0), _sev_rank(v.get("severity")), v["package"]["name"]))
        for v in items:
            sev = v.get("severity") or "UNKNOWN"
            layer = v.get("layer") or {}
            risk = v.get("risk") or {}
            table.add_row(
                v["package"]["name"], v["package"]["version"], v["id"], f"[{SEVERITY_STYLE.get(sev, '')}]{sev}[/]",
                v.get("status", ""), v.get("fixed_version") or "", str(layer.get("index", "")),
                f"{risk.get('score', '')} {risk.get('reason', '')}".strip(),
            )
        console.print(table)
    counts = Counter(v.get("severity") or "UNKNOWN" for v in vulns)
    fixable = sum(1 for v in vulns if v.get("fixed_version"))
    console.print(
        f"Total: {len(vulns)} ("
        + ", ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITY_ORDER)
        + f"), fixable {fixable}"
    )


def _secrets(console: Console, report: dict[str, Any]) -> None:
    secrets = report.get("secrets") or []
    if not secrets:
        return
    table = Table(title="Secrets", title_justify="left")
    for col in ("Severity", "Rule", "Path", "Line", "Layer", "Match"):
        table.add_column(col)
    for s in secrets:
        layer = s.get("layer")
        where = str(layer.get("index") if isinstance(layer, dict) else layer)
        if s.get("removed_in") is not None:
            where += f" (removed in {s['removed_in'] if not isinstance(s['removed_in'], dict) else s['removed_in'].get('index')})"
        table.add_row(s.get("severity", ""), s.get("rule_id", ""), s.get("path", ""), str(s.get("line", "")), where, s.get("match", ""))
    console.print(table)


def _verdict(console: Console, report: dict[str, Any]) -> None:
    verdict = report.get("verdict") or {}
    if report.get("suppressed"):
        by: dict[str, int] = {}
        for s in report["suppressed"]:
            by[s["by"]] = by.get(s["by"], 0) + 1
        console.print("Suppressed: " + ", ".join(f"{n} by {k}" for k, n in sorted(by.items())))
    if not verdict.get("gate"):
        return
    if verdict.get("passed"):
        console.print(f"[green]Policy passed[/green] ({verdict.get('policy') or 'ignore files'})")
        return
    console.print(f"[bold red]Policy failed[/bold red] ({verdict.get('policy')})")
    for rule in verdict.get("failed_rules", []):
        items = rule["findings"]
        shown = ", ".join(items[:5]) + (f", … {len(items) - 5} more" if len(items) > 5 else "")
        console.print(f"  {rule['rule']}: {rule['description']}: {shown}")


def _sev_rank(sev: str | None) -> int:
    return SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)
