"""The table for people: what the image is, what is in it, and what to fix first."""

from __future__ import annotations

from collections import Counter

from hullscan.report.boxes import clean, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from hullscan.model.findings import Finding
    from hullscan.model.report import Report

SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
VULN_COLUMNS = ("Package", "Installed", "Vulnerability", "Severity", "Status", "Fixed in", "Layer", "Risk")
NO_WRAP = ("Vulnerability", "Severity", "Status", "Layer")


def render(report: Report, width: int = 140) -> bytes:
    out: list[str] = []
    target = report.target
    out.append(f"{clean(target.name or target.input)} ({target.type})")
    if target.manifest_digest:
        out.append(f"manifest {target.manifest_digest}")
    os_name = report.os.name if report.os is not None else ""
    out.append(f"OS: {clean(os_name or 'unknown')}  arch: {clean(report.architecture or '-')}  "
               f"layers: {len(report.layers)}  packages: {len(report.packages)}")
    _vulns(out, report, width)
    _secrets(out, report, width)
    if not report.vulnerabilities and "vuln" not in report.scanners:
        _packages(out, report)
    _verdict(out, report)
    for w in report.warnings[:20]:
        where = f" [layer {w.layer}]" if w.layer is not None else ""
        out.append(clean(f"warning{where} {w.path} {w.message}".rstrip()))
    if len(report.warnings) > 20:
        out.append(f"… {len(report.warnings) - 20} more warnings in the JSON report")
    return ("\n".join(out) + "\n").encode()


def _packages(out: list[str], report: Report) -> None:
    by_type = Counter(p.type for p in report.packages)
    if by_type:
        out.append("packages by type: " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())))


def _vulns(out: list[str], report: Report, width: int) -> None:
    if "vuln" not in report.scanners:
        return
    vulns = report.vulnerabilities
    groups: dict[str, list[Finding]] = {}
    for v in vulns:
        pkg = v.package
        target = "OS packages" if pkg.type in ("deb", "rpm", "apk") else (pkg.paths[0] if pkg.paths else "?")
        groups.setdefault(target, []).append(v)
    for target, items in groups.items():
        items.sort(key=lambda v: (-(v.risk.score if v.risk is not None else 0), _sev_rank(v.severity), v.package.name))
        rows = [(v.package.name, v.package.version, v.id, v.severity or "UNKNOWN", v.status, v.fixed_version,
                 v.layer.index if v.layer is not None else "",
                 f"{v.risk.score} {v.risk.reason}".strip() if v.risk is not None else "")
                for v in items]
        out.append(table(VULN_COLUMNS, rows, width=width, title=target, no_wrap=NO_WRAP))
    counts = Counter(v.severity or "UNKNOWN" for v in vulns)
    fixable = sum(1 for v in vulns if v.fixed_version)
    out.append(f"Total: {len(vulns)} (" + ", ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITY_ORDER) + f"), fixable {fixable}")


def _secrets(out: list[str], report: Report, width: int) -> None:
    if not report.secrets:
        return
    rows = []
    for s in report.secrets:
        where = str(s.layer.index if s.layer is not None else None)
        if s.removed_in is not None:
            where += f" (removed in {s.removed_in.index})"
        rows.append((s.severity, s.rule_id, s.path, s.start_line, where, s.match))
    out.append(table(("Severity", "Rule", "Path", "Line", "Layer", "Match"), rows, width=width, title="Secrets",
                     no_wrap=("Severity", "Line")))


def _verdict(out: list[str], report: Report) -> None:
    if report.suppressed:
        by = Counter(s.by for s in report.suppressed)
        out.append("Suppressed: " + ", ".join(f"{n} by {k}" for k, n in sorted(by.items())))
    verdict = report.verdict
    if verdict is None or not verdict.gate:
        return
    if verdict.passed:
        out.append(f"Policy passed ({clean(verdict.policy or 'ignore files')})")
        return
    out.append(f"Policy failed ({clean(verdict.policy)})")
    for rule in verdict.failed_rules:
        items = rule.findings
        shown = ", ".join(items[:5]) + (f", … {len(items) - 5} more" if len(items) > 5 else "")
        out.append(clean(f"  {rule.rule}: {rule.description}: {shown}"))


def _sev_rank(sev: str) -> int:
    return SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)
