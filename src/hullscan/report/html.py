"""A single-file HTML report that works offline: inline CSS and JS, the findings embedded as JSON, no
CDN and no request of any kind (a Content-Security-Policy forbids them).

Rendered here (readable without JS): the verdict, the summary, severity by layer, inherited vs
introduced (by each finding's `inherited`, with links to the filtered table), with `--base-advice` the
other bases ranked by the inherited vulnerabilities they remove, a risk chart (inline SVG), the secrets
and image-config findings, what the policy suppressed.
Rendered by the page's script from the embedded data: the findings table, sortable (click a header) and
filterable (severity, kind, origin — inherited from the base image or introduced by the image's own
layers —, layer, fixable, text); the filters live in the URL hash, so
`report.html#severity=CRITICAL,HIGH&q=openssl&sort=risk` opens filtered and can be shared.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from hullscan import __version__
from hullscan.model.findings import SEVERITIES, ConfigFinding, Finding
from hullscan.model.image import BaseImage
from hullscan.model.report import AdviceFinding, BaseAdvice, Report
from hullscan.report.findings import Item, failed_labels, items, target_name

COLORS = {"CRITICAL": "#b71c1c", "HIGH": "#e65100", "MEDIUM": "#f9a825", "LOW": "#1565c0", "UNKNOWN": "#757575"}
KIND_LABEL = {"vulnerability": "Vulnerabilities", "secret": "Secrets", "misconfiguration": "Image config"}

CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}header .meta{color:#c9d1d9;font-size:12px;margin-top:4px}
main{padding:16px 24px;max-width:1400px}section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}th.sortable{cursor:pointer;user-select:none}th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num,th.num{text-align:right}.sev{display:inline-block;min-width:74px;text-align:center;color:#fff;border-radius:3px;padding:0 4px;font-size:12px;font-weight:600}
.cards{display:flex;gap:10px;flex-wrap:wrap}.card{border-radius:6px;color:#fff;padding:8px 14px;min-width:110px}.card b{display:block;font-size:22px}
.verdict{font-weight:600;padding:8px 12px;border-radius:6px}.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}.none{background:#eaeef2}
.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin-bottom:8px}.filters input[type=search]{min-width:240px;padding:3px 6px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}.muted{color:#57606a}.small{font-size:12px}
tr.failed td:first-child{border-left:3px solid #cf222e}a{color:#0969da}
"""  # noqa: E501 (the page's CSS, one rule set a line)

JS = r"""
(function(){
  "use strict";
  var data = JSON.parse(document.getElementById("hullscan-data").textContent);
  var rank = {CRITICAL:4,HIGH:3,MEDIUM:2,LOW:1,UNKNOWN:0};
  var colors = data.colors;
  var state = {severity:[], kind:"", origin:"", layer:"", fixable:false, q:"", sort:"risk", dir:"desc"};
  var body = document.getElementById("findings-body");
  var f = {sev: document.querySelectorAll("input[name=sev]"), kind: document.getElementById("f-kind"),
           origin: document.getElementById("f-origin"),
           layer: document.getElementById("f-layer"), fixable: document.getElementById("f-fixable"),
           q: document.getElementById("f-q")};

  function readHash(){
    var h = location.hash.replace(/^#/, ""), p = {};
    h.split("&").forEach(function(kv){ if(!kv) return; var i = kv.indexOf("=");
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i)), v = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
      p[k] = v; });
    state.severity = p.severity ? p.severity.toUpperCase().split(",").filter(function(s){ return s in rank; }) : [];
    state.kind = p.kind || ""; state.origin = p.origin || ""; state.layer = p.layer || ""; state.fixable = p.fixable === "1" || p.fixable === "true";
    state.q = p.q || ""; state.sort = p.sort || "risk"; state.dir = p.dir === "asc" ? "asc" : (p.dir === "desc" ? "desc" : (state.sort === "risk" || state.sort === "severity" ? "desc" : "asc"));
  }
  function writeHash(){
    var parts = [];
    if(state.severity.length) parts.push("severity=" + state.severity.join(","));
    if(state.kind) parts.push("kind=" + encodeURIComponent(state.kind));
    if(state.origin) parts.push("origin=" + encodeURIComponent(state.origin));
    if(state.layer !== "") parts.push("layer=" + encodeURIComponent(state.layer));
    if(state.fixable) parts.push("fixable=1");
    if(state.q) parts.push("q=" + encodeURIComponent(state.q));
    if(state.sort !== "risk" || state.dir !== "desc") parts.push("sort=" + state.sort, "dir=" + state.dir);
    var h = parts.join("&");
    if(h !== location.hash.replace(/^#/, "")) history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
  }
  function syncControls(){
    f.sev.forEach(function(c){ c.checked = state.severity.indexOf(c.value) >= 0; });
    f.kind.value = state.kind; f.origin.value = state.origin; f.layer.value = state.layer; f.fixable.checked = state.fixable; f.q.value = state.q;
    document.querySelectorAll("th.sortable").forEach(function(th){
      th.classList.remove("sorted-asc", "sorted-desc");
      if(th.dataset.key === state.sort) th.classList.add("sorted-" + state.dir); });
  }
  function matches(r){
    if(state.severity.length && state.severity.indexOf(r.severity) < 0) return false;
    if(state.kind && r.kind !== state.kind) return false;
    if(state.origin && r.origin !== state.origin) return false;
    if(state.layer !== "" && String(r.layer) !== state.layer) return false;
    if(state.fixable && !r.fixed) return false;
    if(state.q){ var q = state.q.toLowerCase();
      if([r.id, r.title, r.package, r.version, r.path, r.aliases].join(" ").toLowerCase().indexOf(q) < 0) return false; }
    return true;
  }
  function key(r){
    switch(state.sort){
      case "severity": return rank[r.severity];
      case "risk": return r.risk;
      case "layer": return r.layer === null ? -1 : r.layer;
      default: return String(r[state.sort] || "").toLowerCase();
    }
  }
  function cell(tr, text, cls){ var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); if(cls) td.className = cls; tr.appendChild(td); return td; }
  function render(){
    var rows = data.findings.filter(matches), m = state.dir === "asc" ? 1 : -1;
    rows.sort(function(a, b){ var x = key(a), y = key(b); return x < y ? -m : x > y ? m : (b.risk - a.risk) || (a.id < b.id ? -1 : 1); });
    body.textContent = "";
    rows.forEach(function(r){
      var tr = document.createElement("tr"); tr.className = "finding" + (r.failed ? " failed" : "");
      tr.dataset.severity = r.severity; tr.dataset.kind = r.kind; tr.dataset.id = r.id; tr.dataset.risk = r.risk;
      var s = cell(tr, ""), b = document.createElement("span"); b.className = "sev"; b.style.background = colors[r.severity]; b.textContent = r.severity; s.appendChild(b);
      var idc = cell(tr, ""); if(r.url){ var a = document.createElement("a"); a.href = r.url; a.rel = "noreferrer"; a.textContent = r.id; idc.appendChild(a); } else idc.textContent = r.id;
      if(r.aliases){ var al = document.createElement("div"); al.className = "muted small"; al.textContent = r.aliases; idc.appendChild(al); }
      var pc = cell(tr, r.kind === "vulnerability" ? r.package + " " + r.version : r.path, "mono");
      if(r.kind === "vulnerability" && r.path){ var pp = document.createElement("div"); pp.className = "muted small"; pp.textContent = r.path; pc.appendChild(pp); }
      cell(tr, r.fixed || (r.kind === "vulnerability" ? "none yet (" + r.status + ")" : ""), "mono");
      cell(tr, (r.layer === null ? "image config" : String(r.layer)) + (r.origin === "unknown" ? "" : " (" + r.origin + ")"));
      cell(tr, r.risk, "num").title = r.reason;
      cell(tr, r.title);
      body.appendChild(tr);
    });
    document.getElementById("shown-count").textContent = rows.length;
    document.getElementById("total-count").textContent = data.findings.length;
  }
  function update(){ syncControls(); render(); }
  f.sev.forEach(function(c){ c.addEventListener("change", function(){
    state.severity = Array.prototype.filter.call(f.sev, function(x){ return x.checked; }).map(function(x){ return x.value; });
    writeHash(); render(); }); });
  f.kind.addEventListener("change", function(){ state.kind = f.kind.value; writeHash(); render(); });
  f.origin.addEventListener("change", function(){ state.origin = f.origin.value; writeHash(); render(); });
  f.layer.addEventListener("change", function(){ state.layer = f.layer.value; writeHash(); render(); });
  f.fixable.addEventListener("change", function(){ state.fixable = f.fixable.checked; writeHash(); render(); });
  f.q.addEventListener("input", function(){ state.q = f.q.value; writeHash(); render(); });
  document.querySelectorAll("th.sortable").forEach(function(th){ th.addEventListener("click", function(){
    var k = th.dataset.key;
    if(state.sort === k) state.dir = state.dir === "asc" ? "desc" : "asc";
    else { state.sort = k; state.dir = (k === "risk" || k === "severity") ? "desc" : "asc"; }
    writeHash(); update(); }); });
  window.addEventListener("hashchange", function(){ readHash(); update(); });
  readHash(); update();
  document.body.dataset.rendered = "true";
})();
"""  # noqa: E501 (the page's script)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _sev_badge(sev: str) -> str:
    return f'<span class="sev" style="background:{COLORS[sev]}">{sev}</span>'


def _row(it: Item, failing: set[str] | None) -> dict[str, Any]:
    f = it.finding
    layer = it.layer
    row: dict[str, Any] = {"kind": it.kind, "id": it.rule_id, "severity": it.severity, "title": it.title}
    if isinstance(f, Finding):
        urls = [u for u in f.references if u.startswith(("https://", "http://"))]
        row.update(package=f.package.name, version=f.package.version, fixed=f.fixed_version, status=f.status,
                   path=it.path)
    else:
        urls = []
        row.update(package="", version="", fixed="", status="", path=f.path)
    row.update({
        "layer": layer.index if layer is not None else None, "base": bool(layer is not None and layer.base),
        "origin": origin(f.inherited),
        "risk": it.risk.score if it.risk is not None and it.risk.score else 0,
        "reason": (it.risk.reason if it.risk is not None else "") + (
            f" · reachability: {f.reachability.level}" if isinstance(f, Finding) and f.reachability is not None else ""),
        "aliases": ", ".join(f.aliases) if isinstance(f, Finding) else "", "url": urls[0] if urls else "",
        "failed": failing is None or it.label in failing,
    })
    return row


def origin(inherited: bool | None) -> str:
    """`inherited`, `introduced` or `unknown`: the finding's DESIGN `inherited` as the page's filter names it."""
    return "unknown" if inherited is None else ("inherited" if inherited else "introduced")


def _coverage(report: Report) -> str:
    """The ecosystems the DB held no advisories for: never left to a warning the page does not show."""
    gaps = report.db.coverage_gaps if report.db is not None else ""
    return f'<div class="meta" id="coverage"><strong>Coverage:</strong> {_e(gaps)}</div>' if gaps else ""


def _eol(report: Report) -> str:
    """An OS past its end of life: when, by whose table, and that its packages are not known to be clean."""
    os = report.os
    if os is None or os.eol is None:
        return ""
    eol = os.eol
    return (f'<div class="meta" id="os-eol"><strong>{_e(eol.headline(os.name or os.family))}</strong> '
            f'(<a href="{_e(eol.source)}">{_e(eol.source)}</a>, table of {_e(eol.as_of)}). {_e(eol.coverage_note)}.</div>')


def base_note(base: BaseImage) -> str:
    """One sentence on the base image: which, how it was decided, and what that means for the split."""
    if base.method == "not_applicable":
        return "Base image: not applicable (the target has no layers)."
    if base.method == "none":
        return "Base image: not identified, so no finding is marked inherited or introduced."
    how = {"annotation": "the image's base annotation", "catalog": "the base catalog (layer chain IDs)",
           "similar": "package overlap with a catalogued base (reported only: nothing is marked inherited)",
           "history": "the history heuristic"}.get(base.method, base.method)
    facts = [f"{base.layer_count} layer(s)" if base.layer_count is not None else "",
             f"created {base.created[:10]}" if base.created else "",
             f"{base.similarity:.0%} package overlap" if base.similarity is not None else "",
             "provisional" if base.provisional else ""]
    said = ", ".join(x for x in facts if x)
    mismatch = f" The base annotation was not trusted: {base.mismatch}." if base.mismatch else ""
    return _e(f"Base image: {base.name or base.digest or 'unnamed'}" + (f" ({said})" if said else "")
              + f", decided by {how}.{mismatch}")


def _advice_counts(found: tuple[AdviceFinding, ...]) -> str:
    """`4: CRITICAL 1, HIGH 2, MEDIUM 1` (zeros left out)."""
    counts = Counter(r.severity for r in found)
    said = ", ".join(f"{s} {counts[s]}" for s in SEVERITIES if counts.get(s))
    return f"{len(found)}" + (f": {said}" if said else "")


def _advice_list(found: tuple[AdviceFinding, ...]) -> str:
    return "<br>".join(f'{_sev_badge(r.severity) if r.severity in COLORS else _e(r.severity)} <code>{_e(r.id)}</code> '
                       f'{_e(r.package)} {_e(r.version)}' + (f" → {_e(r.fixed_version)}" if r.fixed_version else "")
                       for r in found)


def _advice_section(advice: BaseAdvice | None) -> str:
    """`--base-advice`: every candidate base, best first, with what moving to it removes, leaves and adds."""
    if advice is None:
        return ""
    if advice.base is None or not advice.candidates:
        body = f'<p id="advice-none">No advice: {_e(advice.reason or "no other base to compare")}.</p>'
    else:
        rows = "".join(
            f'<tr class="advice-row" data-rank="{i}"><td class="num">{i}</td><td class="mono">{_e(c.base.reference)}</td>'
            f'<td>{_e((c.base.created or "")[:10])}</td><td>{_e(_advice_counts(c.removes))}</td>'
            f'<td>{_e(_advice_counts(c.remaining))}<div class="small">{_advice_list(c.remaining)}</div></td>'
            f'<td>{_e(_advice_counts(c.adds))}<div class="small">{_advice_list(c.adds)}</div></td></tr>'
            for i, c in enumerate(advice.candidates, 1))
        body = (f'<table id="advice-table"><thead><tr><th class="num">#</th><th>Base</th><th>Created</th><th>Removes</th>'
                f'<th>Remaining</th><th>Adds</th></tr></thead><tbody>{rows}</tbody></table>')
    current = (f"{_e(advice.base.reference)} ({_e(advice.base.platform)}"
               f"{', ' + _e(advice.base.os_id + ' ' + advice.base.os_version) if advice.base.os_id else ''})"
               if advice.base is not None else "not a catalogued base")
    return (f'<section id="base-advice"><h2>Base image advice</h2><p class="small muted" id="advice-note">Current base: '
            f"{current}; inherited vulnerabilities {_e(_advice_counts(advice.inherited))}. Candidates: the base catalog's "
            f'other images of its repository, platform and OS family, ranked by the inherited vulnerabilities they remove '
            f'(then fewest added, fewest remaining, newest).</p>{body}</section>')


def _plan_section(report: Report) -> str:
    """`--plan`: the fix plan (report/plan.py)."""
    if report.plan is None:
        return ""
    from hullscan.report.plan import html_section

    return html_section(report.plan)


def _risk_chart(shown: list[Item], limit: int = 15) -> str:
    """Horizontal bars: the findings to fix first (highest risk), coloured by severity."""
    top = sorted(shown, key=lambda it: -_score(it))[:limit]
    if not top:
        return '<p class="muted">No findings.</p>'
    bar_h, gap, label_w, width = 18, 6, 330, 860
    plot_w = width - label_w - 60
    height = len(top) * (bar_h + gap) + 30
    out = [f'<svg id="risk-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="Risk of the top findings">']
    for tick in range(0, 101, 20):
        x = label_w + plot_w * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#eaeef2"/>'
                   f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" fill="#57606a">{tick}</text>')
    for i, it in enumerate(top):
        score = _score(it)
        y = i * (bar_h + gap)
        f = it.finding
        label = f"{it.rule_id} · {f.package.name}" if isinstance(f, Finding) else f"{it.rule_id} · {f.path}"
        label = label if len(label) <= 48 else label[:47] + "…"
        reason = it.risk.reason if it.risk is not None else ""
        out.append(f'<g class="bar"><title>{_e(it.label)}: {score:g} ({_e(reason)})</title>'
                   f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">{_e(label)}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{plot_w * min(score, 100) / 100:.1f}" height="{bar_h}" '
                   f'fill="{COLORS[it.severity]}"/>'
                   f'<text x="{label_w + plot_w * min(score, 100) / 100 + 4:.1f}" y="{y + 13}" font-size="12">{score:g}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _score(it: Item) -> float:
    return it.risk.score if it.risk is not None else 0.0


def _counts_table(title_cells: list[str], rows: list[tuple[list[str], Counter[str]]], table_id: str) -> str:
    head = ("".join(f"<th>{c}</th>" for c in title_cells) + "".join(f'<th class="num">{s}</th>' for s in SEVERITIES)
            + '<th class="num">Total</th>')
    body = []
    for cells, counts in rows:
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells)
                    + "".join(f'<td class="num">{counts.get(s, 0) or ""}</td>' for s in SEVERITIES)
                    + f'<td class="num"><b>{sum(counts.values())}</b></td></tr>')
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _verdict(report: Report) -> str:
    v = report.verdict
    if v is None or not v.gate:
        return ('<div id="verdict" class="verdict none" data-passed="none">No policy gate: findings are listed, '
                'the build is not judged (use --policy).</div>')
    if v.passed:
        return '<div id="verdict" class="verdict pass" data-passed="true">Policy passed.</div>'
    rules = "".join(f"<li><b>{_e(r.rule)}</b> — {_e(r.description)}: {len(r.findings)} "
                    f"finding(s)<div class='small mono'>{_e(', '.join(r.findings[:20]))}"
                    f"{' …' if len(r.findings) > 20 else ''}</div></li>"
                    for r in v.failed_rules)
    return f'<div id="verdict" class="verdict fail" data-passed="false">Policy failed.<ul>{rules}</ul></div>'


def _secrets_section(shown: list[Item]) -> str:
    rows = []
    for it in shown:
        f = it.finding
        if isinstance(f, Finding):
            continue
        layer = it.layer
        gone_txt = f"deleted in layer {f.removed_in.index}, still in layer blobs" if f.removed_in is not None else ""
        what = f.match or (f.message if isinstance(f, ConfigFinding) else "")
        rows.append(f'<tr class="secret-row" data-kind="{it.kind}"><td>{_sev_badge(it.severity)}</td><td>{_e(it.rule_id)}</td>'
                    f'<td class="mono">{_e(f.path)}{":" + str(it.line) if it.line else ""}</td>'
                    f'<td>{_e(layer.index) if layer is not None else "image config"}</td><td class="small">{_e(gone_txt)}</td>'
                    f'<td class="mono small">{_e(what)}</td></tr>')
    if not rows:
        return '<p class="muted" id="no-secrets">No secrets or image-config findings.</p>'
    return ('<table id="secrets-table"><thead><tr><th>Severity</th><th>Rule</th><th>Where</th><th>Layer</th>'
            '<th>Removed</th><th>Match (masked)</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def _suppressed_section(report: Report) -> str:
    rows = []
    for it in items(report, with_suppressed=True):
        s = it.suppressed
        if s is None:
            continue
        rows.append(f'<tr class="suppressed-row"><td>{_sev_badge(it.severity)}</td><td>{_e(it.label)}</td><td>{_e(s.by)}</td>'
                    f'<td>{_e(s.status)}</td><td>{_e(s.justification or s.impact)}</td><td>{_e(s.expires or "")}</td></tr>')
    if not rows:
        return '<p class="muted">Nothing suppressed.</p>'
    return ('<table id="suppressed-table"><thead><tr><th>Severity</th><th>Finding</th><th>By</th><th>Status</th>'
            f'<th>Justification</th><th>Expires</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _filters_note(report: Report) -> str:
    """The scan's display filters (`--severity`, `--ignore-unfixed`): this page shows a part of the findings."""
    f = report.display
    if f is None:
        return ""
    parts = ([f"severity {', '.join(f.severity)}"] if f.severity else []) + (["fixable only"] if f.ignore_unfixed else [])
    return f'<p class="small muted" id="display-filters">Shown: {_e("; ".join(parts))} (display filters of the scan).</p>' if parts else ""


def _json_for_script(value: Any) -> str:
    # inside <script> only "</" (and the HTML comment openers) can end or confuse it
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(report: Report) -> bytes:
    name = target_name(report)
    target = report.target
    shown = list(items(report))
    failing = failed_labels(report)
    by_sev = Counter(it.severity for it in shown)
    by_kind: dict[str, Counter[str]] = {k: Counter(it.severity for it in shown if it.kind == k) for k in KIND_LABEL}

    layers = report.layers
    per_layer: dict[int | None, Counter[str]] = {ly.index: Counter() for ly in layers}
    per_layer[None] = Counter()
    for it in shown:
        per_layer.setdefault(it.layer.index if it.layer is not None else None, Counter())[it.severity] += 1
    layer_rows = []
    for ly in layers:
        role = "base" if ly.base else ("application" if ly.base is False else "unknown")
        layer_rows.append(([str(ly.index), role, f'<span class="mono small">{_e(ly.created_by[:120])}</span>'],
                           per_layer.get(ly.index, Counter())))
    if per_layer[None]:
        layer_rows.append((["—", "image config", ""], per_layer[None]))
    by_origin: dict[str, Counter[str]] = {"inherited": Counter(), "introduced": Counter(), "unknown": Counter()}
    for it in shown:  # the finding's own `inherited`, not its layer's: it holds for squashed images too
        by_origin[origin(it.finding.inherited)][it.severity] += 1
    base = report.base_image
    base_label = _e(base.name or "the base image")
    bva_rows = [([f'<a href="#origin=inherited">Inherited from {base_label}</a>'], by_origin["inherited"]),
                (['<a href="#origin=introduced">Introduced by the image</a>'], by_origin["introduced"])]
    bva_rows += [(['<a href="#origin=unknown">Origin unknown</a>'], by_origin["unknown"])] if by_origin["unknown"] else []

    cards = "".join(f'<div class="card" style="background:{COLORS[s]}" data-severity="{s}">'
                    f'<b id="count-{s}">{by_sev.get(s, 0)}</b>{s}</div>' for s in SEVERITIES)
    kind_rows = [([KIND_LABEL[k]], by_kind[k]) for k in KIND_LABEL]
    meta = " · ".join(_e(x) for x in (
        target.input, report.os.name if report.os is not None else "", report.architecture,
        target.manifest_digest or target.config_digest, f"scanned {report.created_at}", f"hullscan {__version__}") if x)
    layer_options = "".join(f'<option value="{_e(ly.index)}">{_e(ly.index)}</option>' for ly in layers)
    data = {"colors": COLORS, "findings": [_row(it, failing) for it in shown]}
    sev_boxes = "".join(f'<label><input type="checkbox" name="sev" value="{s}"> {s}</label>' for s in SEVERITIES)

    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hullscan report — {_e(name)}</title><style>{CSS}</style></head>
<body data-rendered="false">
<header><h1>hullscan report — {_e(name)}</h1><div class="meta">{meta}</div>{_eol(report)}{_coverage(report)}</header>
<main>
<section id="verdict-section"><h2>Verdict</h2>{_verdict(report)}</section>
<section id="summary"><h2>Summary: <span id="summary-total">{len(shown)}</span> findings</h2>{_filters_note(report)}<div class="cards">{cards}</div>
<p></p>{_counts_table(["Kind"], kind_rows, "kind-table")}</section>
<section id="by-layer"><h2>Severity by layer</h2>{_counts_table(["Layer", "Role", "Created by"], layer_rows, "layer-table")}</section>
<section id="base-vs-app"><h2>Inherited vs introduced</h2><p class="small muted" id="base-note">{base_note(base)}</p>{_counts_table(["Where"], bva_rows, "base-app-table")}</section>
{_advice_section(report.base_advice)}
{_plan_section(report)}
<section id="risk"><h2>Fix first: highest risk</h2><p class="small muted">Risk 0–100: CVSS, EPSS, CISA KEV, fix available, application layer (docs/policy.md).</p>{_risk_chart(shown)}</section>
<section id="findings"><h2>Findings (<span id="shown-count">0</span> of <span id="total-count">{len(shown)}</span> shown)</h2>
<div class="filters">{sev_boxes}
<select id="f-kind"><option value="">all kinds</option><option value="vulnerability">vulnerabilities</option><option value="secret">secrets</option><option value="misconfiguration">image config</option></select>
<select id="f-origin"><option value="">inherited and introduced</option><option value="inherited">inherited from the base</option><option value="introduced">introduced by the image</option><option value="unknown">origin unknown</option></select>
<select id="f-layer"><option value="">all layers</option>{layer_options}</select>
<label><input type="checkbox" id="f-fixable"> fixable only</label>
<input type="search" id="f-q" placeholder="filter: id, package, path…"></div>
<table id="findings-table"><thead><tr><th class="sortable" data-key="severity">Severity</th><th class="sortable" data-key="id">ID</th>
<th class="sortable" data-key="package">Package / path</th><th class="sortable" data-key="fixed">Fixed in</th><th class="sortable" data-key="layer">Layer</th>
<th class="sortable num" data-key="risk">Risk</th><th class="sortable" data-key="title">Title</th></tr></thead><tbody id="findings-body"></tbody></table>
<noscript><p>The findings table needs JavaScript; the JSON report has every finding.</p></noscript></section>
<section id="secrets"><h2>Secrets and image configuration</h2>{_secrets_section(shown)}</section>
<section id="suppressed"><h2>Suppressed by VEX or exceptions</h2>{_suppressed_section(report)}</section>
</main>
<script type="application/json" id="hullscan-data">{_json_for_script(data)}</script>
<script>{JS}</script>
</body></html>
"""  # noqa: E501 (the page's HTML)
    return page.encode()
