"""The fix plan (model/plan.py) in every format that shows it: the report's `plan` section (JSON, read back
by `from_dict`), `hullscan plan --format json`'s document (docs/plan.schema.json), the table's section and
the HTML section. Loaded only when a report carries a plan (`--plan`, `hullscan plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from hullscan.model.inventory import LayerRef
from hullscan.model.plan import FixPlan, PlanFinding, PlanLayer, PlanStep
from hullscan.model.report import AdviceFinding, Report
from hullscan.report.boxes import clean, ellipsize, table, wrap
from hullscan.report.json_report import base_image_dict, layer_ref_dict

SCHEMA_VERSION = "1.0"
"""Of `docs/plan.schema.json`; grows by extension like the report's."""


# -- JSON ------------------------------------------------------------------------------------------


def to_dict(plan: FixPlan) -> dict[str, Any]:
    """The report's `plan`, and the body of `hullscan plan --format json`."""
    return {
        "order": plan.order,
        "risk_total": plan.risk_total,
        "risk_left": plan.risk_left,
        "steps": [_step_dict(s) for s in plan.steps],
        "layers": [{"index": g.index, "diff_id": g.diff_id, "created_by": g.created_by, "base": g.base,
                    "steps": list(g.steps)} for g in plan.layers],
        "unfixed": [_finding_dict(f) for f in plan.unfixed],
        "base_note": plan.base_note or None,
    }


def _step_dict(s: PlanStep) -> dict[str, Any]:
    return {
        "rank": s.rank, "kind": s.kind, "name": s.name, "type": s.type, "ecosystem": s.ecosystem,
        "installed": list(s.installed), "target": s.target, "scheme": s.scheme, "packages": list(s.packages),
        "layer": layer_ref_dict(s.layer), "risk_removed": s.risk_removed, "risk_left": s.risk_left,
        "removes": [_finding_dict(f) for f in s.removes], "covers": list(s.covers),
        "adds": [{"id": r.id, "package": r.package, "version": r.version, "severity": r.severity,
                  "fixed_version": r.fixed_version} for r in s.adds],
    }


def _finding_dict(f: PlanFinding) -> dict[str, Any]:
    return {"id": f.id, "package": f.package, "version": f.version, "severity": f.severity, "status": f.status,
            "fixed_version": f.fixed_version, "risk": f.risk, "inherited": f.inherited, "layer": f.layer}


def document(report: Report) -> dict[str, Any]:
    """`hullscan plan --format json` (docs/plan.schema.json): what was planned for, then the plan."""
    assert report.plan is not None
    t = report.target
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": report.created_at,
        "target": {"input": t.input, "name": t.name, "manifest_digest": t.manifest_digest,
                   "config_digest": t.config_digest},
        "db": {"location": report.db.location, "built_at": report.db.built_at} if report.db is not None else None,
        "base_image": base_image_dict(report.base_image),
        **to_dict(report.plan),
    }


def from_dict(d: dict[str, Any]) -> FixPlan:
    """The report's `plan` read back (report/load.py, for `hullscan convert`)."""
    return FixPlan(
        risk_total=d["risk_total"], risk_left=d["risk_left"],
        steps=tuple(_step(s) for s in d.get("steps") or ()),
        unfixed=tuple(_finding(f) for f in d.get("unfixed") or ()),
        layers=tuple(PlanLayer(g["index"], g.get("diff_id", ""), g.get("created_by", ""), g.get("base"),
                               tuple(g.get("steps") or ())) for g in d.get("layers") or ()),
        base_note=d.get("base_note") or "", order=d.get("order", "greedy"),
    )


def _step(s: dict[str, Any]) -> PlanStep:
    layer = s.get("layer")
    return PlanStep(
        rank=s["rank"], kind=s["kind"], name=s["name"], type=s.get("type", ""), ecosystem=s.get("ecosystem", ""),
        installed=tuple(s.get("installed") or ()), target=s["target"], scheme=s.get("scheme", ""),
        packages=tuple(s.get("packages") or ()),
        layer=LayerRef(layer["index"], layer["diff_id"], layer.get("created_by", ""), layer.get("base"))
        if layer is not None else None,
        removes=tuple(_finding(f) for f in s.get("removes") or ()), risk_removed=s["risk_removed"],
        risk_left=s["risk_left"], covers=tuple(s.get("covers") or ()),
        adds=tuple(AdviceFinding(r["id"], r["package"], r["version"], r["severity"], r.get("fixed_version", ""))
                   for r in s.get("adds") or ()),
    )


def _finding(f: dict[str, Any]) -> PlanFinding:
    return PlanFinding(f["id"], f["package"], f["version"], f["severity"], f["status"], f.get("fixed_version", ""),
                       f["risk"], f.get("inherited"), f.get("layer"))


# -- table -----------------------------------------------------------------------------------------


def headline(plan: FixPlan) -> str:
    """`Fix plan: 4 changes remove 310.5 of 402.0 risk (77%); 2 vulnerabilities have no fix`."""
    n = len(plan.steps)
    removed = round(plan.risk_total - plan.risk_left, 1)
    share = f" ({removed / plan.risk_total:.0%})" if plan.risk_total else ""
    text = (f"Fix plan: {n} change{'s' if n != 1 else ''} remove{'s' if n == 1 else ''} {removed:.1f} of "
            f"{plan.risk_total:.1f} risk{share}, {plan.risk_left:.1f} left")
    if plan.unfixed:
        k = len(plan.unfixed)
        text += f"; {k} vulnerabilit{'ies have' if k != 1 else 'y has'} no fix"
    return text


def change_text(s: PlanStep) -> str:
    """`requests 2.19.0 → 2.31.0`, `openssl 3.0.11-1~deb12u1 → 3.0.13-1~deb12u1 (libssl3)`, `base → debian:12.3`."""
    if s.kind == "base":
        return f"base → {s.target}"
    installed = ", ".join(s.installed)
    binaries = [p for p in s.packages if p != s.name]
    return f"{s.name} {installed} → {s.target}" + (f" ({', '.join(binaries)})" if binaries else "")


def _ids(found: Sequence[PlanFinding], budget: int) -> str:
    """As many ids as fit in `budget` columns, whole (an id is never cut), then `… N more`."""
    shown: list[str] = []
    for i, f in enumerate(found):
        more = len(found) - i - 1
        tail = f", … {more} more" if more else ""
        if shown and len(", ".join([*shown, f.id]) + tail) > budget:
            return ", ".join(shown) + f", … {len(found) - i} more"
        shown.append(f.id)
    return ", ".join(shown)


def table_lines(plan: FixPlan, width: int) -> list[str]:
    """The table's section: the headline, the steps in order, the Dockerfile lines to change, what has no fix."""
    out = _prose(headline(plan), width)
    if plan.steps:
        rows = [(s.rank, change_text(s), "base" if s.kind == "base" else ("" if s.layer is None else s.layer.index),
                 len(s.removes), f"{s.risk_removed:.1f}", f"{s.risk_left:.1f}") for s in plan.steps]
        details = [_detail(s, width - 4) for s in plan.steps]
        out.append(table(("#", "Change", "Layer", "Fixes", "Risk removed", "Risk left"), rows, width=width,
                         title="Changes, most risk removed first", details=details,
                         no_wrap=("#", "Layer", "Fixes", "Risk removed", "Risk left")))
    for g in plan.layers:
        ranks = ", ".join(f"#{r}" for r in g.steps)
        role = " (base layer)" if g.base else ""
        out += _prose(clean(f"Layer {g.index}{role}: {ranks} — {ellipsize(g.created_by or '(no history)', 200)}"), width,
                      hang="  ")
    if plan.base_note:
        out += _prose(clean(f"No base bump: {plan.base_note}"), width, hang="  ")
    if plan.unfixed:
        rows2 = [(f.id, f"{f.package} {f.version}", f.severity, f.status, f"{f.risk:.1f}") for f in plan.unfixed]
        out.append(table(("Vulnerability", "Package", "Severity", "Status", "Risk"), rows2, width=width,
                         title="No fix available", no_wrap=("Vulnerability", "Severity", "Risk")))
    return out


def _detail(s: PlanStep, width: int) -> str:
    """The line under a step: what it fixes (whole ids, as many as fit), what a base bump replaces and brings."""
    extra = []
    if s.covers:
        extra.append(f"replaces {len(s.covers)} upgrade{'s' if len(s.covers) != 1 else ''}")
    if s.adds:
        extra.append(f"brings {len(s.adds)} new")
    rest = "".join(f" · {x}" for x in extra)
    return f"  fixes {_ids(s.removes, max(width - len(rest) - 8, 20))}{rest}"


def _prose(text: str, width: int, hang: str = "") -> list[str]:
    lines = wrap(text, width)
    if len(lines) > 1:
        return [lines[0], *(hang + x for x in wrap(" ".join(lines[1:]), width - len(hang)))]
    return lines


# -- HTML ------------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def html_section(plan: FixPlan) -> str:
    """The HTML report's `Fix plan` section: every step, the layers to change, what has no fix."""
    rows = "".join(
        f'<tr class="plan-step" data-rank="{s.rank}" data-kind="{_e(s.kind)}"><td class="num">{s.rank}</td>'
        f'<td class="mono">{_e(change_text(s))}</td><td>{_layer_cell(s.layer, s.kind)}</td>'
        f'<td class="small">{_e(", ".join(f.id for f in s.removes))}'
        + (f'<br>replaces {_e(", ".join(s.covers))}' if s.covers else "")
        + (f'<br>brings {_e(", ".join(r.id for r in s.adds))}' if s.adds else "")
        + f'</td><td class="num">{s.risk_removed:.1f}</td><td class="num">{s.risk_left:.1f}</td></tr>'
        for s in plan.steps)
    steps = (f'<table id="plan-table"><thead><tr><th class="num">#</th><th>Change</th><th>Layer</th><th>Fixes</th>'
             f'<th class="num">Risk removed</th><th class="num">Risk left</th></tr></thead><tbody>{rows}</tbody></table>'
             if plan.steps else '<p id="plan-none">No change removes a vulnerability.</p>')
    layers = "".join(f'<li data-layer="{g.index}">Layer {g.index}{" (base)" if g.base else ""}: '
                     f'{_e(", ".join(f"#{r}" for r in g.steps))} — <code>{_e(g.created_by or "(no history)")}</code></li>'
                     for g in plan.layers)
    unfixed = "".join(f'<tr class="plan-unfixed"><td class="mono">{_e(f.id)}</td><td>{_e(f.package)} {_e(f.version)}</td>'
                      f'<td>{_e(f.severity)}</td><td>{_e(f.status)}</td><td class="num">{f.risk:.1f}</td></tr>'
                      for f in plan.unfixed)
    return (f'<section id="fix-plan"><h2>Fix plan</h2><p class="small muted" id="plan-note">{_e(headline(plan))}. '
            f'Each change removes the most risk not removed yet (docs/plan.md).'
            + (f" No base bump: {_e(plan.base_note)}." if plan.base_note else "") + f"</p>{steps}"
            + (f'<h3>Dockerfile lines to change</h3><ul id="plan-layers">{layers}</ul>' if layers else "")
            + (f'<h3>No fix available</h3><table id="plan-unfixed"><thead><tr><th>ID</th><th>Package</th><th>Severity</th>'
               f'<th>Status</th><th class="num">Risk</th></tr></thead><tbody>{unfixed}</tbody></table>' if unfixed else "")
            + "</section>")


def _layer_cell(layer: LayerRef | None, kind: str) -> str:
    if kind == "base":
        return "base image"
    return "" if layer is None else f'{layer.index}<div class="small mono">{_e(ellipsize(layer.created_by, 60))}</div>'
