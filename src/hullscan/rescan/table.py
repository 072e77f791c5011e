"""The rescan as a table (`hullscan rescan --format table`): a summary line, then per image with changes
its names, verdict move and changes. Drawn by report/boxes.py to the terminal's width (docs/table.md): at
80 columns no line is wider; below 120 the secondary cells go on a second line; ids are never cut."""

from __future__ import annotations

from collections.abc import Callable

from hullscan.model.findings import SEVERITY_RANK
from hullscan.report.boxes import clean, table, terminal_columns, wrap
from hullscan.report.table import WIDE
from hullscan.rescan.model import CATEGORIES, Change, RescanResult

_ORDER = {c: i for i, c in enumerate(CATEGORIES)}


def render(result: RescanResult, *, gated: bool, width: int | None = None) -> str:
    width = width or terminal_columns()
    wide = width >= WIDE
    out: list[str] = []

    def say(text: str) -> None:
        out.extend(wrap(clean(text), width))

    changed = [r for r in result.images if r.changes or r.verdict_change in ("pass_to_fail", "fail_to_pass")]
    counts = {c: sum(1 for r in result.images for x in r.changes if x.category == c) for c in CATEGORIES}
    say(f"Rescan against DB generation {result.generation} ({result.mode}): {result.selected} stored images, "
        f"{sum(1 for r in result.images if r.action in ('rematched', 'rejudged'))} re-matched or re-judged, "
        f"{result.untouched} untouched by the DB's changes, "
        f"{sum(1 for r in result.images if r.action == 'baseline')} first seen, {len(changed)} changed")
    for why in result.full_reasons:
        say(f"full re-match: {why}")
    if any(counts.values()):
        say("Changes: " + ", ".join(f"{n} {c}" for c, n in counts.items() if n))
    for r in changed:
        out.append("")
        title = r.names[0] if r.names else r.key
        say(f"{title} ({r.key[:19]})" if r.names else title)
        if r.verdict_change == "pass_to_fail":
            say("VERDICT: passed -> FAILED")
        elif r.verdict_change == "fail_to_pass":
            say("verdict: failed -> passed")
        rows: list[tuple[str, ...]] = []
        notes: list[str] = []
        for c in sorted(r.changes, key=_order):
            detail = " · ".join(x for x in (_moved(c), "KEV" if c.kev else "", c.purl) if x)
            rows.append((c.category, c.id, c.severity or "UNKNOWN", c.package_name, c.package_version,
                         c.fixed_version or c.status) + ((detail,) if wide else ()))
            notes.append(f"  {detail}" if detail else "")
        if rows:
            headers = ("Change", "Vulnerability", "Severity", "Package", "Version", "Fixed in") + (("Details",) if wide else ())
            out.append(table(headers, rows, width=width, details=None if wide else notes,
                             no_wrap=("Change", "Vulnerability", "Severity"), ellipsize_cols=("Details",)))
    if gated:
        at = f" at or above {result.threshold}" if result.threshold else ""
        failed = [f"{r.names[0] if r.names else r.key[:19]}: {why}" for r in result.images for why in r.failed]
        say(f"Gate failed{at}: " + ", ".join(failed) if failed else f"Gate passed: nothing new{at}")
    return "\n".join(out) + "\n"


def _order(c: Change) -> tuple[int, int, str]:
    return (_ORDER[c.category], -SEVERITY_RANK.get(c.severity, 0), c.id)


def _moved(c: Change) -> str:
    show: Callable[[object], str] = lambda v: "-" if v in (None, "") else str(v)  # noqa: E731
    return ", ".join(f"{m.field} {show(m.old)} -> {show(m.new)}" for m in c.fields)
