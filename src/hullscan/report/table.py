"""The table for people: what the image is, what is in it, and what to fix first.

Drawn to the terminal's width (`boxes.terminal_columns`: COLUMNS, the terminal, else 80) and no wider
when the cells can wrap (DESIGN.md "Tables"). From 120 columns a finding is one line with every cell;
below, its secondary cells (title, layer, status, risk reason, a secret's masked line, a config
check's message) go on a second line under it, cut with `…`, so a finding takes two lines at any
width instead of wrapping into many. Ids (advisory, rule) are never cut. When the findings' `inherited`
is known, each findings table is split under headings — `— introduced` (the image's own layers) first,
then `— inherited from NAME` (the base image), then `— origin unknown` — with the split's totals; with
`--base-advice`, the best three other bases follow (what each removes and leaves, by severity).
Warnings are the CLI's to print on stderr; the table only counts them when they were not printed
(`-q`, `convert`).
"""

from __future__ import annotations

import os
import sys
from collections import Counter

from hullscan.report.boxes import clean, table, terminal_columns, wrap

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    from hullscan.model.findings import ConfigFinding, Finding, SecretFinding
    from hullscan.model.image import Target
    from hullscan.model.inventory import LayerRef
    from hullscan.model.report import AdviceFinding, BaseAdvice, Report

    Paint = Callable[[str, str], str] | None
    G = TypeVar("G", SecretFinding, ConfigFinding)

SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
WIDE = 120
"""From this many columns every cell of a finding is on its line; below, secondary cells go on a second."""
SEVERITY_COLOURS = {"CRITICAL": "1;31", "HIGH": "31", "MEDIUM": "33", "LOW": "34"}
"""SGR codes: bold red, red, yellow, blue (Trivy's order of alarm); UNKNOWN stays plain."""
OS_TYPES = ("deb", "rpm", "apk")


def render(report: Report, width: int | None = None, *, colour: bool = False, quiet: bool = True,
           show_suppressed: bool = False) -> bytes:
    """The report as a table `width` columns wide (default: the terminal's).

    colour: the caller writes to stdout, so severities may be coloured — only when stdout is a terminal
    and `NO_COLOR` is unset or empty (https://no-color.org). quiet: the warnings were not printed on
    stderr (`-q`, or `convert`), so the table ends with their count instead. show_suppressed: list the
    findings VEX or an exception suppressed, with the reason (`--show-suppressed`)."""
    width = width or terminal_columns()
    paint = _paint if colour and not os.environ.get("NO_COLOR") and sys.stdout.isatty() else None
    wide = width >= WIDE
    out: list[str] = []
    _header(out, report, width)
    _vulns(out, report, width, wide, paint)
    if report.base_advice is not None:
        _base_advice(out, report.base_advice, width)
    if report.plan is not None:  # `--plan` only: its section's module loads only then
        from hullscan.report.plan import table_lines

        out += table_lines(report.plan, width)
    _misconfigurations(out, report, width, wide, paint)
    _secrets(out, report, width, wide, paint)
    if "license" in report.scanners:
        _licences(out, report, width)
    if "vuln" not in report.scanners and report.packages:
        by_type = Counter(p.type for p in report.packages)
        _text(out, "packages by type: " + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())), width)
    if show_suppressed:
        _suppressed(out, report, width)
    _verdict(out, report, width, paint)
    if quiet and report.warnings:
        n = len(report.warnings)
        _text(out, f"{n} warning{'s' if n != 1 else ''} suppressed (the JSON report lists them)", width)
    return ("\n".join(out) + "\n").encode()


def image_name(target: Target) -> str:
    """What the image is called, as a user would name it again: a repository tag, the registry
    reference, the layout's reference name, else the path given (with the layout's tag, `PATH:TAG`)."""
    given = target.input
    for prefix in ("dir:", "sbom:"):  # added by `hullscan fs` / `hullscan sbom`, not typed by the user
        if target.type == prefix[:-1] and given.startswith(prefix):
            given = given[len(prefix):]
    name = target.name
    if target.repo_tags:
        return target.repo_tags[0]
    if target.type in ("oci", "oci-archive"):
        if name and name not in given and not name.startswith(("/", ".")):
            # a bare tag (`latest`) belongs after the path; a full reference (`docker.io/library/x:1`) stands alone
            return name if ("/" in name or ":" in name) else f"{given}:{name}"
        return given
    if target.type in ("dir", "sbom"):
        return given
    return name or given  # a registry reference, an archive's tag (else its path)


def _header(out: list[str], report: Report, width: int) -> None:
    os_info = report.os
    title = clean(image_name(report.target))
    if os_info is not None and (os_info.family or os_info.version):
        title += f" ({clean(os_info.family)} {clean(os_info.version)})".replace(" )", ")")
    _text(out, title, width)
    out.append("=" * min(width, max(len(line) for line in wrap(title, width))))
    facts = [report.target.type]
    if os_info is not None:
        facts.append(clean(os_info.name or os_info.family))
    if report.architecture:
        facts.append(clean(report.architecture))
    if report.layers:
        facts.append(f"{len(report.layers)} layer{'s' if len(report.layers) != 1 else ''}")
    n = len(report.packages)
    facts.append(f"{n} package{'s' if n != 1 else ''}" if n else "0 packages found")
    _text(out, " · ".join(facts), width)
    if os_info is not None and os_info.eol is not None:  # not a finding: the release itself, said once
        _text(out, clean(os_info.eol.headline(os_info.name or os_info.family)), width)
        _text(out, os_info.eol.coverage_note, width)
    base_line = _base_line(report)
    if base_line:
        _text(out, base_line, width)
    if report.base_image.mismatch:
        _text(out, f"base annotation not trusted: {clean(report.base_image.mismatch)}", width)
    if report.target.manifest_digest:
        _text(out, f"manifest {report.target.manifest_digest}", width)
    c = report.container
    if c is not None:  # a container scan: which container, and what its runtime changes brought
        _text(out, clean(f"container {c.name} ({c.id[:12]}) · started {c.started_at[:19]} · {c.changes} paths "
                         "changed at runtime"), width)
        drift = [*(f"installed {x}" for x in c.added), *(f"removed {x}" for x in c.removed),
                 *(f"changed {x}" for x in c.changed)]
        _text(out, clean("Drift: " + ("; ".join(drift) if drift else "none")), width, hang="  ")
        runtime = (sum(f.origin == "runtime" for f in report.vulnerabilities),
                   sum(s.origin == "runtime" for s in report.secrets))
        _text(out, f"origin runtime: {runtime[0]} vulnerabilities, {runtime[1]} secrets", width)
    gaps = report.db.coverage_gaps if report.db is not None else ""
    if gaps:  # shown with -q too: a warning alone would hide that these packages were never matched
        _text(out, f"Coverage: {clean(gaps)}", width)


def _vulns(out: list[str], report: Report, width: int, wide: bool, paint: Paint) -> None:
    if "vuln" not in report.scanners:
        return
    vulns = report.vulnerabilities
    groups: dict[tuple[str, int], list[Finding]] = {}
    for v in vulns:
        pkg = v.package
        target = "OS packages" if pkg.type in OS_TYPES else (pkg.paths[0] if pkg.paths else pkg.type)
        groups.setdefault((target, _ORIGIN_ORDER[v.inherited]), []).append(v)
    split = _split_known(vulns)
    for (target, origin), items in sorted(groups.items(), key=lambda kv: (kv[0][0] != "OS packages", kv[0][1])):
        title = target + (_origin_suffix(origin, report) if split else "")
        items.sort(key=lambda v: (-(v.risk.score if v.risk is not None else 0), _sev_rank(v.severity), v.package.name, v.id))
        rows: list[tuple[str, ...]]
        if wide:
            headers: tuple[str, ...] = ("Package", "Installed", "Vulnerability", "Severity", "Status", "Fixed in", "Layer",
                                        "Risk", "Title")
            rows = [(v.package.name, v.package.version, v.id, v.severity or "UNKNOWN", v.status, v.fixed_version,
                     _layer(v.layer), _score(v), _joined(v.title, _reason(v))) for v in items]
            details = None
        else:
            headers = ("Package", "Installed", "Vulnerability", "Severity", "Fixed in", "Risk")
            rows = [(v.package.name, v.package.version, v.id, v.severity or "UNKNOWN", v.fixed_version or v.status,
                     _score(v)) for v in items]
            details = ["  " + _joined(v.title, f"layer {_layer(v.layer)}" if v.layer is not None else "", _reason(v))
                       for v in items]
        out.append(table(headers, rows, width=width, title=clean(title), details=details, paint=paint,
                         no_wrap=("Vulnerability", "Severity", "Status", "Layer", "Risk"), ellipsize_cols=("Title",)))
    counts = Counter(v.severity or "UNKNOWN" for v in vulns)
    fixable = sum(1 for v in vulns if v.fixed_version)
    _text(out, f"Total: {len(vulns)} (" + ", ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITY_ORDER) + f"), fixable {fixable}",
          width)
    if split:
        _text(out, _origin_totals(vulns, report), width)


ADVICE_SHOWN = 3
"""Candidates the table shows (`--base-advice`); the JSON and HTML reports list every one."""


def _base_advice(out: list[str], advice: BaseAdvice, width: int) -> None:
    """`--base-advice`: the best few other bases of the image's base repository, with the inherited
    vulnerabilities each removes and leaves, by severity (C1 H2: one CRITICAL, two HIGH)."""
    if advice.base is None or not advice.candidates:
        _text(out, clean(f"Base image advice: none — {advice.reason or 'no other base to compare'}"), width)
        return
    n = len(advice.inherited)
    _text(out, clean(f"Base image advice: {n} vulnerabilit{'ies' if n != 1 else 'y'} inherited from "
                     f"{advice.base.reference}" + (f" ({_advice_counts(advice.inherited, short=False)})" if n else "")),
          width)
    rows = [(i, c.base.reference, _advice_counts(c.removes), _advice_counts(c.remaining), len(c.adds),
             (c.base.created or "")[:10]) for i, c in enumerate(advice.candidates[:ADVICE_SHOWN], 1)]
    out.append(table(("#", "Base", "Removes", "Remaining", "Adds", "Created"), rows, width=width,
                     title="Bases to move to, best first", no_wrap=("#", "Removes", "Remaining", "Adds", "Created")))
    more = len(advice.candidates) - ADVICE_SHOWN
    if more > 0:
        _text(out, f"… and {more} more candidate{'s' if more != 1 else ''} (the JSON report lists them all)", width)


def _advice_counts(items: Sequence[AdviceFinding], short: bool = True) -> str:
    """`4 (C1 H2 M1)`, `0` when there are none; long: `CRITICAL 1, HIGH 2, MEDIUM 1`."""
    counts = Counter(r.severity for r in items)
    if not short:
        return ", ".join(f"{s} {counts[s]}" for s in SEVERITY_ORDER if counts.get(s))
    parts = [s[0] + str(counts[s]) for s in SEVERITY_ORDER if counts.get(s)]
    return f"{len(items)} ({' '.join(parts)})" if parts else "0"


def _misconfigurations(out: list[str], report: Report, width: int, wide: bool, paint: Paint) -> None:
    items: list[ConfigFinding] = sorted(report.misconfigurations, key=lambda m: (_sev_rank(m.severity), m.rule_id, m.path))
    if not items:
        return

    def more(m: ConfigFinding) -> str:
        return _joined(m.message, f"value {m.match}" if m.match else "", f"layer {_layer(m.layer)}" if m.layer is not None else "")

    for suffix, part in _by_origin(items, report):
        rows: list[tuple[str, ...]]
        if wide:
            headers: tuple[str, ...] = ("Severity", "Check", "Where", "Title", "Details")
            rows = [(m.severity, m.rule_id, m.path, m.title, more(m)) for m in part]
            details = None
        else:
            headers = ("Severity", "Check", "Where", "Title")
            rows = [(m.severity, m.rule_id, m.path, m.title) for m in part]
            details = ["  " + more(m) for m in part]
        out.append(table(headers, rows, width=width, title=clean("Image config" + suffix), details=details, paint=paint,
                         no_wrap=("Severity", "Check"), ellipsize_cols=("Details",)))


def _secrets(out: list[str], report: Report, width: int, wide: bool, paint: Paint) -> None:
    items: list[SecretFinding] = list(report.secrets)
    if not items:
        return
    for suffix, part in _by_origin(items, report):
        rows: list[tuple[str, ...]]
        if wide:
            headers: tuple[str, ...] = ("Severity", "Rule", "Path", "Line", "Layer", "Match")
            rows = [(s.severity, s.rule_id, s.path, _lines(s), _secret_layer(s), s.match) for s in part]
            details = None
        else:
            headers = ("Severity", "Rule", "Path", "Line")
            rows = [(s.severity, s.rule_id, s.path, _lines(s)) for s in part]
            details = ["  " + _joined(f"layer {_secret_layer(s)}" if s.layer is not None else "", s.match) for s in part]
        out.append(table(headers, rows, width=width, title=clean("Secrets" + suffix), details=details, paint=paint,
                         no_wrap=("Severity", "Rule", "Line"), ellipsize_cols=("Match",)))


def _licences(out: list[str], report: Report, width: int) -> None:
    with_licence = [p for p in report.packages if p.licenses]
    rows = [(p.name, p.version, ", ".join(p.licenses), p.type)
            for p in sorted(with_licence, key=lambda p: (p.type not in OS_TYPES, p.type, p.name, p.version))]
    if rows:
        out.append(table(("Package", "Installed", "Licence", "Type"), rows, width=width, title="Licences",
                         no_wrap=("Type",)))
    missing = len(report.packages) - len(with_licence)
    if report.packages:
            _text(out, f"Licences: {len(with_licence)} packages declare one" + (f", {missing} declare none" if missing else ""),
              width)


def _suppressed(out: list[str], report: Report, width: int) -> None:
    """`--show-suppressed`: each suppressed finding, what suppressed it and why."""
    from hullscan.model.findings import Finding  # only with --show-suppressed

    rows = []
    for s in report.suppressed:
        f = s.finding
        if isinstance(f, Finding):
            ident, where = f.id, f"{f.package.name} {f.package.version}"
        else:
            ident, where = f.rule_id, f"{f.path}:{f.start_line}" if f.start_line else f.path
        why = _joined(s.justification, s.vex_justification, f"expires {s.expires}" if s.expires else "")
        rows.append((ident, where, f.severity or "UNKNOWN", _joined(s.by, s.status, s.source), why))
    if rows:
        out.append(table(("Finding", "Where", "Severity", "Suppressed by", "Reason"), rows, width=width,
                         title="Suppressed", no_wrap=("Finding", "Severity")))


def _verdict(out: list[str], report: Report, width: int, paint: Paint) -> None:
    if report.suppressed:
        by = Counter(s.by for s in report.suppressed)
        _text(out, "Suppressed: " + ", ".join(f"{n} by {k}" for k, n in sorted(by.items())), width)
    verdict = report.verdict
    if verdict is None or not verdict.gate:
        return
    if verdict.passed:
        _text(out, f"Policy passed ({clean(verdict.policy or 'ignore files')})", width)
        return
    failed: list[str] = []
    _text(failed, f"Policy failed ({clean(verdict.policy)})", width)
    out += [f"\x1b[1;31m{line}\x1b[0m" for line in failed] if paint is not None else failed
    for rule in verdict.failed_rules:
        items = rule.findings
        shown = ", ".join(items[:5]) + (f", … {len(items) - 5} more" if len(items) > 5 else "")
        _text(out, clean(f"{rule.rule}: {rule.description}: {shown}"), width, indent="  ", hang="      ")


_ORIGIN_ORDER = {False: 0, True: 1, None: 2}
"""Introduced first (the image's own layers: its owners fix those), then inherited, then unknown."""


def _split_known(findings: Sequence[Finding | SecretFinding | ConfigFinding]) -> bool:
    """Group by origin only when some finding's `inherited` is known (an unidentified base: one group)."""
    return any(f.inherited is not None for f in findings)


def _origin_suffix(order: int, report: Report) -> str:
    if order == _ORIGIN_ORDER[True]:
        name = report.base_image.name
        return f" — inherited from {name}" if name else " — inherited from the base image"
    return " — introduced" if order == _ORIGIN_ORDER[False] else " — origin unknown"


def _by_origin(items: list[G], report: Report) -> list[tuple[str, list[G]]]:
    """The findings grouped introduced / inherited / unknown, with their title suffixes ('' when none is known)."""
    if not _split_known(items):
        return [("", items)]
    groups: dict[int, list[G]] = {}
    for f in items:
        groups.setdefault(_ORIGIN_ORDER[f.inherited], []).append(f)
    return [(_origin_suffix(order, report), groups[order]) for order in sorted(groups)]


def _origin_totals(vulns: Sequence[Finding], report: Report) -> str:
    """`Introduced: 3 (fixable 2) · inherited from debian:12: 5 (fixable 4)` (· origin unknown: N)."""
    parts = []
    for inherited, what in ((False, "introduced"), (True, "inherited"), (None, "origin unknown")):
        mine = [v for v in vulns if v.inherited is inherited]
        if inherited is None and not mine:
            continue
        if inherited and report.base_image.name:
            what += f" from {report.base_image.name}"
        parts.append(f"{what}: {len(mine)} (fixable {sum(1 for v in mine if v.fixed_version)})")
    text = " · ".join(parts)
    return clean(text[0].upper() + text[1:])


def _base_line(report: Report) -> str:
    """What the base image is and how it was decided (DESIGN "Base vs application layers")."""
    base = report.base_image
    name = clean(base.name or base.digest)
    if base.method == "not_applicable":
        return "base: not applicable"
    if base.method == "similar":
        overlap = f", {base.similarity:.0%} of its packages" if base.similarity is not None else ""
        return f"base image: similar to {name}{overlap} (not marked inherited)"
    if base.method == "history":
        return (f"base image: bottom {base.layer_count} layers (history heuristic, provisional)"
                if base.layer_count is not None else "")
    if not name:
        return ""
    facts = [base.method if base.method in ("catalog", "annotation") else "",
             f"{base.layer_count} layer{'s' if base.layer_count != 1 else ''}" if base.layer_count is not None else "",
             f"created {clean(base.created[:10])}" if base.created else "", "provisional" if base.provisional else ""]
    said = ", ".join(f for f in facts if f)
    return f"base image: {name}" + (f" ({said})" if said else "")


def _text(out: list[str], text: str, width: int, indent: str = "", hang: str = "") -> None:
    """A line of prose, wrapped at spaces to the width (continuation lines indented by `hang`)."""
    lines = wrap(text, width - len(indent))
    out.append(indent + lines[0])
    if len(lines) > 1:
        out.extend(hang + line for line in wrap(" ".join(lines[1:]), width - len(hang)))


def _joined(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _layer(layer: LayerRef | None) -> str:
    return "" if layer is None else str(layer.index)


def _secret_layer(s: SecretFinding) -> str:
    where = _layer(s.layer)
    return f"{where} (removed in {s.removed_in.index})" if s.removed_in is not None else where


def _lines(s: SecretFinding) -> str:
    """`12`, or `12-16` for a secret over several lines; empty when the finding has no line (config)."""
    if s.start_line <= 0:
        return ""
    return f"{s.start_line}-{s.end_line}" if s.end_line > s.start_line else str(s.start_line)


def _score(v: Finding) -> str:
    return "" if v.risk is None else f"{v.risk.score:.1f}"


REACH_MARKS = {"reachable": "reachable", "not_present": "not present", "not_loaded": "not loaded",
               "not_imported": "not imported"}
"""The secondary line's reachability marker (`unknown` and unassessed: none; docs/reachability.md)."""


def _reason(v: Finding) -> str:
    reason = "" if v.risk is None else v.risk.reason
    mark = REACH_MARKS.get(v.reachability.level, "") if v.reachability is not None else ""
    if mark and mark not in reason:
        reason = _joined(reason, f"[{mark}]") if reason else f"[{mark}]"
    return reason


def _paint(header: str, text: str) -> str:
    return SEVERITY_COLOURS.get(text, "") if header == "Severity" else ""


def _sev_rank(sev: str) -> int:
    return SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)
