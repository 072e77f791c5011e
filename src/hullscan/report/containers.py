"""`hullscan containers`: one line per running container (table) or one document for a collector (JSON,
docs/containers.schema.json), from each container's judged report (scan/container.py)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from hullscan import __version__
from hullscan.model.findings import SEVERITIES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hullscan.model.report import Report

SCHEMA_VERSION = "1.0"
RUNTIME = "runtime"


def counts(report: Report) -> dict[str, Any]:
    """Vulnerabilities by severity, secrets and config findings, and how many of each the runtime brought."""
    by = Counter(f.severity for f in report.vulnerabilities)
    return {
        "vulnerabilities": {s.lower(): by.get(s, 0) for s in SEVERITIES},
        "secrets": len(report.secrets),
        "misconfigurations": len(report.misconfigurations),
        "runtime": {"vulnerabilities": sum(f.origin == RUNTIME for f in report.vulnerabilities),
                    "secrets": sum(s.origin == RUNTIME for s in report.secrets),
                    "packages": sum(p.origin == RUNTIME for p in report.packages)},
    }


def entry(report: Report) -> dict[str, Any]:
    c = report.container
    assert c is not None, "a container scan's report"
    verdict = report.verdict
    return {
        "id": c.id, "name": c.name, "image": c.image, "image_id": c.image_id,
        "image_name": report.target.name, "started_at": c.started_at, "labels": dict(c.labels),
        "verdict": None if verdict is None else ("pass" if verdict.passed else "fail"),
        "failed_rules": [] if verdict is None else [r.rule for r in verdict.failed_rules],
        "counts": counts(report), "changes": c.changes, "seconds": report.stats.seconds,
        "drift": {"detected": c.drift, "added": list(c.added), "removed": list(c.removed), "changed": list(c.changed)},
    }


def to_dict(reports: Sequence[Report], *, engine: str, address: str, created_at: str, images: int,
            failed: bool) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hullscan", "version": __version__},
        "created_at": created_at,
        "engine": {"kind": engine, "address": address},
        "images_scanned": images,
        "gate_failed": failed,
        "containers": [entry(r) for r in reports],
    }


def render_table(reports: Sequence[Report], width: int = 80) -> str:
    """One line per container, at most `width` (>= 80) columns: the name and image columns share what
    the fixed ones leave."""
    fixed = 1 + 7 + 1 + 16 + 1 + 5 + 1 + 5 + 1  # VERDICT, C/H/M/L/U counts, SECRETS, DRIFT and the gaps
    left = max(24, width - fixed)
    name_w = left * 2 // 5
    image_w = left - name_w
    head = f"{'CONTAINER':<{name_w}} {'IMAGE':<{image_w}} {'VERDICT':<7} {'C/H/M/L/U':<16} {'SECR':>5} {'DRIFT':<5}"
    lines = [head.rstrip()]
    for r in reports:
        e = entry(r)
        v = e["counts"]["vulnerabilities"]
        sev = "/".join(str(v[s.lower()]) for s in SEVERITIES)
        lines.append(f"{_cut(e['name'], name_w):<{name_w}} {_cut(e['image_name'] or e['image'], image_w):<{image_w}} "
                     f"{e['verdict'] or '-':<7} {_cut(sev, 16):<16} {e['counts']['secrets']:>5} "
                     f"{'yes' if e['drift']['detected'] else 'no':<5}".rstrip())
    if not reports:
        lines.append("no running containers")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
