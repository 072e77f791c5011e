"""Apply VEX and exceptions, score risk, and decide the verdict — on every finding, before any
display filter (`--severity` changes what is shown, never what the gate sees)."""

from __future__ import annotations

import fnmatch
from datetime import date, timedelta

from hullscan.policy.model import SEVERITY_RANK, Exception_, Policy
from hullscan.policy.risk import secret_risk, vulnerability_risk
from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from hullscan.policy.vex import VexStatement


@record
class GateInput:
    vulnerabilities: list[dict[str, Any]]
    secrets: list[dict[str, Any]] = field(default_factory=list)
    misconfigurations: list[dict[str, Any]] = field(default_factory=list)
    packages: list[dict[str, Any]] = field(default_factory=list)
    db_age_days: float | None = None


@record
class GateOutput:
    vulnerabilities: list[dict[str, Any]]
    secrets: list[dict[str, Any]]
    misconfigurations: list[dict[str, Any]]
    suppressed: list[dict[str, Any]]
    verdict: dict[str, Any]
    warnings: list[str]


def _sev_at_least(sev: str | None, threshold: str) -> bool:
    return SEVERITY_RANK.get((sev or "UNKNOWN").upper(), 0) >= SEVERITY_RANK[threshold]


def _label(f: dict[str, Any]) -> str:
    pkg = f.get("package") or {}
    if pkg:
        return f"{f['id']} ({pkg.get('name')} {pkg.get('version')})"
    line = f.get("line")
    line = line.get("start") if isinstance(line, dict) else line
    where = f"{f.get('path', '')}:{line}" if line not in (None, "") else f.get("path", "")
    return f"{f.get('rule_id') or f.get('id')} ({where})"


def _path_matches(pattern: str, paths: list[str]) -> bool:
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    return any(p == pattern or p.startswith(pattern.rstrip("/") + "/") or fnmatch.fnmatch(p, pattern) for p in paths)


def exception_covers(ex: Exception_, kind: str, f: dict[str, Any]) -> bool:
    """Whether an exception names this finding (by any alias), within its optional narrowing."""
    if kind == "vulnerability":
        if not ex.id or ex.id not in {f["id"], *f.get("aliases", ()), *f.get("advisory_ids", ())}:
            return False
        pkg = f.get("package") or {}
        if ex.package and ex.package != pkg.get("name"):
            return False
        if ex.purl and not _vex().product_matches(ex.purl, pkg.get("purl", "")):
            return False
        return not ex.path or _path_matches(ex.path, list(pkg.get("paths") or []))
    if kind == "secret":
        if ex.fingerprint:
            if ex.fingerprint != f.get("fingerprint"):
                return False
        elif not ex.rule_id or ex.rule_id != f.get("rule_id"):
            return False
        return not ex.path or _path_matches(ex.path, [f.get("path", "")])
    if kind == "misconfiguration":
        if not (ex.rule_id or ex.id) or (ex.rule_id or ex.id) not in (f.get("rule_id"), f.get("id")):
            return False
        return True
    if kind == "license":
        return bool(ex.id) and ex.id == f.get("license") and (not ex.package or ex.package == f.get("package"))
    return False


def _vex() -> ModuleType:
    """VEX documents and purl matching, loaded when a VEX document or an exception's purl is in play
    (the default gate of a warm scan needs neither)."""
    from hullscan.policy import vex

    return vex


def apply_gate(data: GateInput, policy: Policy, today: date | None = None) -> GateOutput:
    today = today or date.today()
    warnings: list[str] = []
    suppressed: list[dict[str, Any]] = []

    statements: list[VexStatement] = [st for path in policy.vex for st in _vex().load_vex(path)]
    vulns: list[dict[str, Any]] = []
    for f in data.vulnerabilities:
        f = dict(f)
        f["risk"] = vulnerability_risk(f)
        hits = [st for st in statements if _vex().statement_applies(st, f)] if statements else []
        suppressing = [st for st in hits if st.status in ("not_affected", "fixed")]
        if suppressing:
            st = suppressing[-1]
            suppressed.append({"kind": "vulnerability", "finding": f, "by": "vex", "status": st.status,
                               "justification": st.justification, "impact": st.impact, "source": st.source})
            continue
        if hits:
            st = hits[-1]
            f["vex"] = {"status": st.status, "justification": st.justification, "impact": st.impact, "source": st.source}
        vulns.append(f)

    live, expired, expiring = [], [], []
    for ex in policy.exceptions:
        if ex.expires is not None and ex.expires < today:
            expired.append(ex)
            warnings.append(
                f"exception for {ex.id or ex.rule_id or ex.fingerprint} ({ex.source}) expired on {ex.expires}; it no longer applies"
            )
            continue
        if ex.expires is not None and ex.expires <= today + timedelta(days=policy.warn_expiring_within_days):
            expiring.append(ex)
            warnings.append(f"exception for {ex.id or ex.rule_id or ex.fingerprint} ({ex.source}) expires on {ex.expires}")
        live.append(ex)
    used: set[int] = set()

    def keep(kind: str, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for f in findings:
            match = next((i for i, ex in enumerate(live) if exception_covers(ex, kind, f)), None)
            if match is None:
                out.append(f)
                continue
            used.add(match)
            ex = live[match]
            suppressed.append({"kind": kind, "finding": f, "by": "exception", "status": ex.vex_status,
                               "justification": ex.justification, "owner": ex.owner,
                               "expires": ex.expires.isoformat() if ex.expires else None, "source": ex.source,
                               "vex_justification": ex.vex_justification})
        return out

    vulns = keep("vulnerability", vulns)
    secrets = keep("secret", [dict(s, risk=secret_risk(s)) for s in data.secrets])
    misconf = keep("misconfiguration", [dict(m) for m in data.misconfigurations])
    vulns.sort(key=lambda f: -f["risk"]["score"])
    secrets.sort(key=lambda s: -s["risk"]["score"])

    failed = _rules(policy, vulns, secrets, misconf, data, live, used)
    verdict = {
        "gate": policy.gate,
        "policy": policy.path or None,
        "passed": not failed,
        "failed_rules": failed,
        "exceptions": {
            "applied": sorted({live[i].source for i in used}),
            "unused": sorted({ex.source for i, ex in enumerate(live) if i not in used}),
            "expired": [_dated(ex) for ex in expired],
            "expiring": [_dated(ex) for ex in expiring],
        },
        "suppressed": len(suppressed),
    }
    return GateOutput(vulns, secrets, misconf, suppressed, verdict, warnings)


def _dated(ex: Exception_) -> dict[str, Any]:
    """An expired or expiring exception as the verdict lists it."""
    return {"id": ex.id or ex.rule_id or ex.fingerprint, "expires": ex.expires.isoformat() if ex.expires else None, "source": ex.source}


def _rules(policy: Policy, vulns: list[dict[str, Any]], secrets: list[dict[str, Any]], misconf: list[dict[str, Any]],
           data: GateInput, live: list[Exception_], used: set[int]) -> list[dict[str, Any]]:
    r = policy.rules
    failed: list[dict[str, Any]] = []

    def fail(rule: str, description: str, items: list[str]) -> None:
        if items:
            failed.append({"rule": rule, "description": description, "findings": items})

    if r.severity:
        pool = [f for f in vulns if f.get("fixed_version")] if r.fixable_only else vulns
        fail("fail_on.severity", f"vulnerabilities at or above {r.severity}" + (" with a fix" if r.fixable_only else ""),
             [_label(f) for f in pool if _sev_at_least(f.get("severity"), r.severity)])
    elif r.fixable_only:
        fail("fail_on.fixable_only", "vulnerabilities with a fix", [_label(f) for f in vulns if f.get("fixed_version")])
    if r.kev:
        fail("fail_on.kev", "known exploited vulnerabilities (CISA KEV)", [_label(f) for f in vulns if f.get("kev")])
    if r.epss_above is not None:
        fail("fail_on.epss_above", f"EPSS probability above {r.epss_above}",
             [_label(f) for f in vulns if (f.get("epss") or {}).get("score", 0) > r.epss_above])
    if r.ids:
        wanted = set(r.ids)
        fail("fail_on.ids", "listed vulnerability ids",
             [_label(f) for f in vulns if wanted & {f["id"], *f.get("aliases", ()), *f.get("advisory_ids", ())}])
    if r.secrets:
        fail("fail_on.secrets", f"secrets at or above {r.secrets}",
             [_label(s) for s in secrets if _sev_at_least(s.get("severity"), r.secrets)])
    if r.misconfigurations:
        fail("fail_on.misconfigurations", f"image-config findings at or above {r.misconfigurations}",
             [_label(m) for m in misconf if _sev_at_least(m.get("severity"), r.misconfigurations)])
    if r.licenses:
        from hullscan.policy.licenses import license_violations

        items = []
        for pkg, lic, why in license_violations(data.packages, r.licenses):
            f = {"license": lic, "package": pkg["name"]}
            idx = next((i for i, ex in enumerate(live) if exception_covers(ex, "license", f)), None)
            if idx is not None:
                used.add(idx)
                continue
            items.append(f"{pkg['name']} {pkg['version']} ({lic}: {why})")
        fail("fail_on.licenses", "package licences", items)
    if r.db_older_than_days is not None and data.db_age_days is not None and data.db_age_days > r.db_older_than_days:
        fail("fail_on.db_older_than_days", f"vulnerability DB older than {r.db_older_than_days:g} days",
             [f"DB age {data.db_age_days:.1f} days"])
    return failed


def judge_report(report: dict[str, Any], policy: Policy, today: date | None = None) -> dict[str, Any]:
    """The report with VEX and exceptions applied, risk scored, and the verdict added."""
    db = report.get("db") or {}
    out = apply_gate(
        GateInput(
            vulnerabilities=report.get("vulnerabilities") or [],
            secrets=report.get("secrets") or [],
            misconfigurations=report.get("misconfigurations") or [],
            packages=report.get("packages") or [],
            db_age_days=db.get("age_days"),
        ),
        policy,
        today,
    )
    judged = dict(report)
    judged["vulnerabilities"] = out.vulnerabilities
    judged["secrets"] = out.secrets
    judged["misconfigurations"] = out.misconfigurations
    judged["suppressed"] = out.suppressed
    judged["verdict"] = out.verdict
    judged["warnings"] = list(report.get("warnings") or []) + [{"message": w, "path": "", "layer": None} for w in out.warnings]
    return judged


def exit_code_for(judged: dict[str, Any], shown: dict[str, Any], exit_code: int) -> int:
    """DESIGN.md: with a policy its verdict is the gate (1, or --exit-code N); without one, any finding
    left after the display filters fails the gate only when --exit-code is given."""
    verdict = judged.get("verdict") or {}
    if verdict.get("gate"):
        return 0 if verdict.get("passed") else (exit_code or 1)
    if exit_code and (shown.get("vulnerabilities") or shown.get("secrets") or shown.get("misconfigurations")):
        return exit_code
    return 0
