"""The rescan's JSON document (schemas/rescan.schema.json; docs/rescan.md). A change entry is also what a
notification carries (notify/payload.py: `category` and `id` first of all)."""

from __future__ import annotations

from typing import Any

from hullscan.rescan.model import CATEGORIES, Change, ImageResult, RescanResult

SCHEMA_VERSION = "1.0"


def change_dict(c: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category": c.category, "id": c.id, "aliases": list(c.aliases),
        "package": {"type": c.package_type, "name": c.package_name, "version": c.package_version, "purl": c.purl},
        "severity": c.severity, "status": c.status, "fixed_version": c.fixed_version, "kev": c.kev, "epss": c.epss,
        "inherited": c.inherited,
    }
    if c.fields:
        out["moved"] = [{"field": m.field, "old": m.old, "new": m.new} for m in c.fields]
    return out


def image_dict(r: ImageResult) -> dict[str, Any]:
    return {"key": r.key, "names": list(r.names), "repository": r.repository, "action": r.action, "reason": r.reason,
            "since_generation": r.since, "verdict_change": r.verdict_change, "notification_id": r.notification or None,
            "changes": [change_dict(c) for c in r.changes], "gate_failed": list(r.failed)}


def to_dict(result: RescanResult, created_at: str) -> dict[str, Any]:
    counts = dict.fromkeys(CATEGORIES, 0)
    for r in result.images:
        for c in r.changes:
            counts[c.category] += 1
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": created_at,
        "db_generation": result.generation,
        "mode": result.mode,
        "full_rematch_reasons": list(result.full_reasons),
        "summary": {
            "selected": result.selected,
            "rematched": sum(1 for r in result.images if r.action == "rematched"),
            "rejudged": sum(1 for r in result.images if r.action == "rejudged"),
            "baseline": sum(1 for r in result.images if r.action == "baseline"),
            "skipped": sum(1 for r in result.images if r.action == "skipped"),
            "untouched": result.untouched,
            "changed_images": sum(1 for r in result.images if r.changes),
            "pass_to_fail": sum(1 for r in result.images if r.verdict_change == "pass_to_fail"),
            "changes": counts,
            "notifications_delivered": result.delivered,
        },
        "gate": {"severity": result.threshold, "failed": [f"{r.key}: {why}" for r in result.images for why in r.failed]},
        "images": [image_dict(r) for r in result.images],
    }
