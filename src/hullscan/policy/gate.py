"""The policy stage: apply VEX and exceptions, score risk, and decide the verdict — on every finding,
before any display filter (`--severity` changes what is shown, never what the gate sees)."""

from __future__ import annotations

import fnmatch
from datetime import date, timedelta

from hullscan.model.findings import SEVERITY_RANK, Finding, VexNote
from hullscan.model.inventory import ScanWarning
from hullscan.model.verdict import ExceptionRef, ExceptionsSummary, FailedRule, Suppressed, Verdict
from hullscan.policy.risk import secret_risk, vulnerability_risk
from hullscan.record import replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import ModuleType
    from typing import TypeVar

    from hullscan.model.findings import ConfigFinding, SecretFinding
    from hullscan.model.inventory import Package
    from hullscan.model.report import Report
    from hullscan.policy.model import Exception_, Policy, Rules

    F = TypeVar("F", Finding, SecretFinding, ConfigFinding)


def label(f: Finding | SecretFinding | ConfigFinding) -> str:
    """How the verdict names a finding: `ID (package version)`, or `rule (path:line)` for a secret or
    an image-config finding."""
    if isinstance(f, Finding):
        return f"{f.id} ({f.package.name} {f.package.version})"
    return f"{f.rule_id} ({f.path}:{f.start_line})"


def judge(report: Report, policy: Policy, today: date | None = None) -> Report:
    """The report judged: findings VEX or an exception suppressed moved to `suppressed`, the others
    with their `risk` (highest first) and `vex` note, the `verdict`, and a warning for each expired or
    expiring exception."""
    today = today or date.today()
    suppressed: list[Suppressed] = []
    vulns = _apply_vex([replace(f, risk=vulnerability_risk(f)) for f in report.vulnerabilities], policy.vex, suppressed)

    live, expired, expiring, warnings = _by_expiry(policy, today)
    used: set[int] = set()  # positions in `live` of the exceptions that accepted something
    vulns = _keep_vulnerabilities(vulns, live, used, suppressed)
    secrets = _keep("secret", [replace(s, risk=secret_risk(s)) for s in report.secrets], _covers_secret, live, used,
                    suppressed)
    misconf = _keep("misconfiguration", list(report.misconfigurations), _covers_misconfiguration, live, used, suppressed)
    vulns.sort(key=_by_risk)
    secrets.sort(key=_by_risk)

    db_age = report.db.age_days if report.db is not None else None
    failed = _rules(policy.rules, vulns, secrets, misconf, report.packages, db_age, live, used)
    if policy.base_images is not None:
        from hullscan.policy.base_rules import base_rules  # only a policy with `base_images` reads the base

        failed += base_rules(policy.base_images, report.base_image, today)
    eol = report.os.eol if report.os is not None else None
    if policy.os_eol is not None and eol is not None and report.os is not None:
        said = f"{eol.headline(report.os.name or report.os.family)} ({eol.source})"
        if policy.os_eol == "fail":
            failed.append(FailedRule("os.eol", "the OS release is past its end of life", (said,)))
        else:
            warnings.append(ScanWarning(f"{said} (policy os.eol: warn)"))
    drift = report.container
    if policy.runtime_drift is not None and drift is not None and drift.drift:
        what = (*(f"installed {x}" for x in drift.added), *(f"removed {x}" for x in drift.removed),
                *(f"changed {x}" for x in drift.changed))
        if policy.runtime_drift == "fail":
            failed.append(FailedRule("runtime.drift", f"container {drift.name} drifted from its image", what))
        else:
            warnings.append(ScanWarning(f"container {drift.name} drifted from its image: {'; '.join(what)} "
                                        "(policy runtime.drift: warn)"))
    verdict = Verdict(
        gate=policy.gate,
        policy=policy.path or None,
        passed=not failed,
        failed_rules=tuple(failed),
        exceptions=ExceptionsSummary(
            applied=tuple(sorted({live[i].source for i in used})),
            unused=tuple(sorted({ex.source for i, ex in enumerate(live) if i not in used})),
            expired=tuple(_ref(ex) for ex in expired),
            expiring=tuple(_ref(ex) for ex in expiring),
        ),
        suppressed=len(suppressed),
    )
    return replace(report, vulnerabilities=tuple(vulns), secrets=tuple(secrets), misconfigurations=tuple(misconf),
                   suppressed=tuple(suppressed), verdict=verdict, warnings=(*report.warnings, *warnings))


def exit_code_for(report: Report, shown: Report, exit_code: int, exit_on_eol: int = 0) -> int:
    """DESIGN.md: with a policy its verdict is the gate (1, or --exit-code N); without one, any finding
    left after the display filters fails the gate only when --exit-code is given. A gate that passed
    exits `exit_on_eol` (--exit-on-eol N) when the OS is past its end of life."""
    verdict = report.verdict
    if verdict is not None and verdict.gate:
        if not verdict.passed:
            return exit_code or 1
    elif exit_code and (shown.vulnerabilities or shown.secrets or shown.misconfigurations):
        return exit_code
    if exit_on_eol and report.os is not None and report.os.eol is not None:
        return exit_on_eol
    return 0


def _by_risk(f: Finding | SecretFinding) -> float:
    return -f.risk.score if f.risk is not None else 0.0


def _vex() -> ModuleType:
    """VEX documents and purl matching, loaded when a VEX document or an exception's purl is in play
    (the default gate of a warm scan needs neither)."""
    from hullscan.policy import vex

    return vex


def _apply_vex(vulns: list[Finding], documents: list[str], suppressed: list[Suppressed]) -> list[Finding]:
    """The findings VEX does not suppress (`not_affected`, `fixed`), with a note of the statement that
    annotates them (`affected`, `under_investigation`); the last applicable statement speaks."""
    if not documents:
        return vulns
    vex = _vex()
    statements = [st for path in documents for st in vex.load_vex(path)]
    out = []
    for f in vulns:
        hits = [st for st in statements if vex.statement_applies(st, f)]
        suppressing = [st for st in hits if st.status in ("not_affected", "fixed")]
        if suppressing:
            st = suppressing[-1]
            suppressed.append(Suppressed("vulnerability", f, "vex", st.status, st.justification, st.impact, st.source))
            continue
        if hits:
            st = hits[-1]
            f = replace(f, vex=VexNote(st.status, st.justification, st.impact, st.source))
        out.append(f)
    return out


def _by_expiry(policy: Policy, today: date) -> tuple[list[Exception_], list[Exception_], list[Exception_],
                                                     list[ScanWarning]]:
    """The exceptions in force (expiring ones included), the expired, those expiring soon, and a
    warning for each expired or expiring one."""
    live, expired, expiring, warnings = [], [], [], []
    soon = today + timedelta(days=policy.warn_expiring_within_days)
    for ex in policy.exceptions:
        if ex.expires is not None and ex.expires < today:
            expired.append(ex)
            warnings.append(ScanWarning(f"exception for {_name(ex)} ({ex.source}) expired on {ex.expires}; "
                                        "it no longer applies"))
            continue
        if ex.expires is not None and ex.expires <= soon:
            expiring.append(ex)
            warnings.append(ScanWarning(f"exception for {_name(ex)} ({ex.source}) expires on {ex.expires}"))
        live.append(ex)
    return live, expired, expiring, warnings


def _keep(kind: str, findings: list[F], covers: Callable[[Exception_, F], bool], live: list[Exception_], used: set[int],
          suppressed: list[Suppressed]) -> list[F]:
    """The findings no exception in force accepts; the first exception that names one suppresses it."""
    out = []
    for f in findings:
        match = next((i for i, ex in enumerate(live) if covers(ex, f)), None)
        if match is None:
            out.append(f)
            continue
        used.add(match)
        ex = live[match]
        suppressed.append(Suppressed(kind, f, "exception", ex.vex_status, ex.justification, source=ex.source,
                                     owner=ex.owner, expires=ex.expires.isoformat() if ex.expires else None,
                                     vex_justification=ex.vex_justification))
    return out


def _keep_vulnerabilities(findings: list[Finding], live: list[Exception_], used: set[int],
                          suppressed: list[Suppressed]) -> list[Finding]:
    """The vulnerabilities exceptions in force leave, each with the locations they leave. An exception
    without a path accepts every location of a finding it names; one narrowed by a path (a policy `path`,
    one of a .trivyignore.yaml entry's `paths`) accepts the locations it names. A finding with no location
    left is suppressed, by the first exception that accepted part of it; one with some left stays, with
    those (its package and layer become the first of them's, its risk is scored again)."""
    out = []
    for f in findings:
        where = f.where
        left = list(range(len(where)))
        accepted: list[int] = []  # positions in `live`
        for i, ex in enumerate(live):
            if not _names_vulnerability(ex, f):
                continue
            named = [k for k in left if not ex.path or _path_matches(ex.path, where[k].package.paths)]
            if named:
                accepted.append(i)
                left = [k for k in left if k not in named]
                if not left:
                    break
        used.update(accepted)
        if not left:
            ex = live[accepted[0]]
            suppressed.append(Suppressed("vulnerability", f, "exception", ex.vex_status, ex.justification,
                                         source=ex.source, owner=ex.owner,
                                         expires=ex.expires.isoformat() if ex.expires else None,
                                         vex_justification=ex.vex_justification))
        elif len(left) < len(where):
            rest = tuple(where[k] for k in left)
            narrowed = replace(f, package=rest[0].package, inherited=rest[0].package.inherited,
                               locations=rest if len(rest) > 1 else ())
            out.append(replace(narrowed, risk=vulnerability_risk(narrowed)))
        else:
            out.append(f)
    return out


def _path_matches(pattern: str, paths: Iterable[str]) -> bool:
    """A path exception names a directory (every path under it), a file, or a glob."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    under = pattern.rstrip("/") + "/"
    return any(p == pattern or p.startswith(under) or fnmatch.fnmatch(p, pattern) for p in paths)


def _names_vulnerability(ex: Exception_, f: Finding) -> bool:
    """By id or any alias, within the exception's optional narrowing by package name and purl (the same
    for every location of the finding; its path narrows to locations, `_keep_vulnerabilities`)."""
    pkg = f.package
    return (bool(ex.id) and ex.id in f.ids and (not ex.package or ex.package == pkg.name)
            and (not ex.purl or _vex().product_matches(ex.purl, pkg.purl)))


def _covers_secret(ex: Exception_, s: SecretFinding) -> bool:
    """By fingerprint (this secret in this file), else by rule; optionally narrowed by path."""
    named = ex.fingerprint == s.fingerprint if ex.fingerprint else bool(ex.rule_id) and ex.rule_id == s.rule_id
    return named and (not ex.path or _path_matches(ex.path, (s.path,)))


def _covers_misconfiguration(ex: Exception_, m: ConfigFinding) -> bool:
    rule = ex.rule_id or ex.id
    return bool(rule) and rule == m.rule_id


def _covers_license(ex: Exception_, pkg: Package, expression: str) -> bool:
    return bool(ex.id) and ex.id == expression and (not ex.package or ex.package == pkg.name)


def _at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK.get((severity or "UNKNOWN").upper(), 0) >= SEVERITY_RANK[threshold]


def _rules(r: Rules, vulns: list[Finding], secrets: list[SecretFinding], misconf: list[ConfigFinding],
           packages: Iterable[Package], db_age_days: float | None, live: list[Exception_],
           used: set[int]) -> list[FailedRule]:
    """Each rule of the policy that the findings left fail, with their labels."""
    failed: list[FailedRule] = []

    def fail(rule: str, description: str, items: list[str]) -> None:
        if items:
            failed.append(FailedRule(rule, description, tuple(items)))

    if r.reachable_only:  # DESIGN: `unknown` (and not assessed) counts as reachable
        vulns = [f for f in vulns if f.reachability is None or f.reachability.level in ("reachable", "unknown")]
    if r.severity:
        threshold = r.severity
        pool = [f for f in vulns if f.fixed_version] if r.fixable_only else vulns
        fail("fail_on.severity", f"vulnerabilities at or above {threshold}" + (" with a fix" if r.fixable_only else ""),
             [label(f) for f in pool if _at_least(f.severity, threshold)])
    elif r.fixable_only:
        fail("fail_on.fixable_only", "vulnerabilities with a fix", [label(f) for f in vulns if f.fixed_version])
    elif r.reachable_only and not (r.kev or r.epss_above is not None or r.ids):  # alone: a rule of its own
        fail("fail_on.reachable_only", "reachable vulnerabilities (unknown counts)", [label(f) for f in vulns])
    if r.kev:
        fail("fail_on.kev", "known exploited vulnerabilities (CISA KEV)", [label(f) for f in vulns if f.kev is not None])
    if r.epss_above is not None:
        above = r.epss_above
        fail("fail_on.epss_above", f"EPSS probability above {above}",
             [label(f) for f in vulns if f.epss is not None and f.epss.score > above])
    if r.ids:
        wanted = set(r.ids)
        fail("fail_on.ids", "listed vulnerability ids", [label(f) for f in vulns if wanted & f.ids])
    if r.secrets:
        threshold = r.secrets
        fail("fail_on.secrets", f"secrets at or above {threshold}",
             [label(s) for s in secrets if _at_least(s.severity, threshold)])
    if r.misconfigurations:
        threshold = r.misconfigurations
        fail("fail_on.misconfigurations", f"image-config findings at or above {threshold}",
             [label(m) for m in misconf if _at_least(m.severity, threshold)])
    if r.licenses:
        from hullscan.policy.licenses import license_violations  # only a licence rule reads the packages

        items = []
        for pkg, expression, why in license_violations(packages, r.licenses):
            accepted = next((i for i, ex in enumerate(live) if _covers_license(ex, pkg, expression)), None)
            if accepted is not None:
                used.add(accepted)
                continue
            items.append(f"{pkg.name} {pkg.version} ({expression}: {why})")
        fail("fail_on.licenses", "package licences", items)
    if r.db_older_than_days is not None and db_age_days is not None and db_age_days > r.db_older_than_days:
        fail("fail_on.db_older_than_days", f"vulnerability DB older than {r.db_older_than_days:g} days",
             [f"DB age {db_age_days:.1f} days"])
    return failed


def _name(ex: Exception_) -> str:
    return ex.id or ex.rule_id or ex.fingerprint


def _ref(ex: Exception_) -> ExceptionRef:
    """An expired or expiring exception as the verdict lists it."""
    return ExceptionRef(_name(ex), ex.expires.isoformat() if ex.expires else "", ex.source)
