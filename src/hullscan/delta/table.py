"""The table of a delta (`hullscan diff --format table`): the two images, then what changed — packages,
vulnerabilities, secrets, image-config findings, base image, verdict — and the gate. Drawn by
report/boxes.py to the terminal's width (docs/table.md): at 80 columns no line is wider; below 120 the
secondary cells go on a second line under each row; advisory ids are never cut."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from hullscan.delta.model import FindingChange, Side
from hullscan.model.findings import SEVERITY_RANK
from hullscan.report.boxes import clean, table, terminal_columns, wrap
from hullscan.report.table import SEVERITY_COLOURS, WIDE, image_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from hullscan.delta.model import Delta
    from hullscan.model.findings import ConfigFinding, SecretFinding
    from hullscan.model.image import BaseImage
    from hullscan.model.inventory import LayerRef, OSInfo, Package
    from hullscan.model.report import Report


def render(delta: Delta, old: Report, new: Report, *, threshold: str | None, failed: Sequence[str], gated: bool,
           width: int | None = None, colour: bool = False) -> str:
    """The table as text. `failed` are the gate's reasons (delta/gate.py); `gated`: --exit-code was given."""
    width = width or terminal_columns()
    wide = width >= WIDE
    paint = _paint if colour and not os.environ.get("NO_COLOR") and sys.stdout.isatty() else None
    out: list[str] = []
    say = _say(out, width)
    title = f"{image_name(old.target)} -> {image_name(new.target)}"
    say(title)
    out.append("=" * min(width, max(len(line) for line in wrap(clean(title), width))))
    for word, r in (("old", old), ("new", new)):
        say(f"{word}: {_facts(r)}")
    _base_and_os(say, delta)
    _verdict(say, delta)
    _packages(out, say, delta, width, wide)
    _vulnerabilities(out, say, delta, width, wide, paint)
    for what, part in (("Secrets", delta.secrets), ("Image config", delta.misconfigurations)):
        if part.added or part.removed:
            _secrets(out, say, what, part.added, part.removed, width, wide, paint)
    if gated:
        at = f" at or above {threshold}" if threshold else ""
        say(f"Gate failed{at}: " + ", ".join(failed) if failed else f"Gate passed: nothing new{at}")
    return "\n".join(out) + "\n"


def _say(out: list[str], width: int) -> Callable[[str], None]:
    def say(text: str) -> None:
        out.extend(wrap(clean(text), width))

    return say


def _facts(r: Report) -> str:
    parts = [image_name(r.target)]
    if r.os is not None and (r.os.family or r.os.version):
        parts.append(f"{r.os.family} {r.os.version}".strip())
    n = len(r.packages)
    parts.append(f"{n} package{'' if n == 1 else 's'}")
    digest = r.target.manifest_digest or r.target.config_digest
    if digest:
        parts.append(digest.removeprefix("sha256:")[:12])
    return " · ".join(parts)


def _base_and_os(say: Callable[[str], None], delta: Delta) -> None:
    b = delta.base

    def name(base: BaseImage) -> str:
        return base.name or base.digest.removeprefix("sha256:")[:12] or "unknown"

    if b.changed:
        say(f"base image changed: {name(b.old)} -> {name(b.new)}")
    elif b.new.name or b.new.digest:
        say(f"base image unchanged: {name(b.new)}")
    o = delta.os
    if o.changed:
        def os_text(x: OSInfo | None) -> str:
            return f"{x.family} {x.version}".strip() if x is not None else "none"

        say(f"OS changed: {os_text(o.old)} -> {os_text(o.new)}")


def _verdict(say: Callable[[str], None], delta: Delta) -> None:
    change = delta.verdict.change
    if change == "none":
        return
    new = delta.verdict.new
    policy = f" (policy {new.policy})" if new is not None and new.policy else ""
    words = {"pass_to_fail": "passed -> FAILED", "fail_to_pass": "failed -> passed",
             "unchanged": "passed" if new is None or new.passed else "failed (as before)"}
    say(f"verdict: {words[change]}{policy}")


def _layer(ref: LayerRef | None) -> str:
    return "" if ref is None else str(ref.index)


def _packages(out: list[str], say: Callable[[str], None], delta: Delta, width: int, wide: bool) -> None:
    p = delta.packages
    say(f"Packages: {len(p.added)} added, {len(p.removed)} removed, {len(p.upgraded)} upgraded, "
        f"{p.unchanged} unchanged")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []

    def row(change: str, pkg: Package, old: str, new: str, layer: LayerRef | None) -> None:
        where = pkg.paths[0] if pkg.paths else ""
        rows.append((change, pkg.name, pkg.type, old, new, _layer(layer)) + ((where,) if wide else ()))
        notes.append(f"  {where}" if where else "")

    for u in p.upgraded:
        row("downgraded" if u.downgrade else "upgraded", u.new, u.old.version, u.new.version, u.new.layer)
    for pkg in p.added:
        row("added", pkg, "", pkg.version, pkg.layer)
    for pkg in p.removed:
        row("removed", pkg, pkg.version, "", pkg.layer)
    if rows:
        headers = ("Change", "Package", "Type", "Old", "New", "Layer") + (("Path",) if wide else ())
        out.append(table(headers, rows, width=width, details=None if wide else notes, no_wrap=("Change", "Layer"),
                         ellipsize_cols=("Path",)))


def _vulnerabilities(out: list[str], say: Callable[[str], None], delta: Delta, width: int, wide: bool,
                     paint: Callable[[str, str], str] | None) -> None:
    f = delta.findings
    say(f"Vulnerabilities: {len(f.introduced)} introduced, {len(f.fixed)} fixed, {len(f.changed)} changed, "
        f"{f.unchanged} unchanged")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []

    def row(change: str, s: Side, moved: str) -> None:
        v = s.finding
        accepted = f"suppressed by {s.suppressed}" if s.suppressed else ""
        detail = " · ".join(x for x in (moved, f"layer {_layer(v.layer)}" if v.layer else "", accepted, v.title) if x)
        rows.append((change, v.id, v.severity or "UNKNOWN", v.package.name, v.package.version,
                     v.fixed_version or v.status) + ((detail,) if wide else ()))
        notes.append(f"  {detail}" if detail else "")

    for s in f.introduced:
        row("introduced", s, "")
    for c in sorted(f.changed, key=_change_order):
        row("changed", c.new, _moves(c))
    for s in f.fixed:
        row("fixed", s, "")
    if rows:
        headers = ("Change", "Vulnerability", "Severity", "Package", "Version", "Fixed in") + (("Details",) if wide else ())
        out.append(table(headers, rows, width=width, details=None if wide else notes, paint=paint,
                         no_wrap=("Change", "Vulnerability", "Severity"), ellipsize_cols=("Details",)))


def _change_order(c: FindingChange) -> tuple[int, str]:
    return (-SEVERITY_RANK.get(c.new.finding.severity, 0), c.new.finding.id)


def _moves(c: FindingChange) -> str:
    """`severity MEDIUM -> HIGH, kev no -> yes`."""
    def word(value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "none" if value in (None, "") else str(value)

    return ", ".join(f"{m.field} {word(m.old)} -> {word(m.new)}" for m in c.fields)


def _secrets(out: list[str], say: Callable[[str], None], what: str, added: Sequence[SecretFinding | ConfigFinding],
             removed: Sequence[SecretFinding | ConfigFinding], width: int, wide: bool,
             paint: Callable[[str, str], str] | None) -> None:
    say(f"{what}: {len(added)} added, {len(removed)} removed")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for change, items in (("added", added), ("removed", removed)):
        for s in items:
            line = f"{s.start_line}" if s.start_line > 0 else ""
            rows.append((change, s.severity or "UNKNOWN", s.rule_id, s.path, line) + ((s.match,) if wide else ()))
            notes.append(f"  {s.match}" if s.match else "")
    headers = ("Change", "Severity", "Rule", "Path", "Line") + (("Match",) if wide else ())
    out.append(table(headers, rows, width=width, details=None if wide else notes, paint=paint,
                     no_wrap=("Change", "Severity", "Rule", "Line"), ellipsize_cols=("Match",)))


def _paint(header: str, text: str) -> str:
    return SEVERITY_COLOURS.get(text, "") if header == "Severity" else ""
