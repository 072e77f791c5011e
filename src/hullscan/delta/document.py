"""The JSON document of a delta (`hullscan diff --format json`, docs/diff.schema.json).

Packages, findings, secrets, the base image, the OS and the verdict are written in the JSON report's
own shapes (report/json_report.py; the schema refers to docs/report.schema.json for them), so a
consumer of reports reads a diff with the same code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.delta.model import FindingChange, Side
from hullscan.model.findings import SEVERITIES
from hullscan.report.json_report import (
    base_image_dict,
    finding_dict,
    os_dict,
    package_dict,
    secret_dict,
    verdict_dict,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from hullscan.delta.model import Delta, Upgrade
    from hullscan.model.report import Report

SCHEMA_VERSION = "1.0"
"""Of `docs/diff.schema.json`; grows by extension like the report's."""


def to_dict(delta: Delta, old: Report, new: Report, *, threshold: str | None, failed: list[str]) -> dict[str, Any]:
    """The document; `threshold` and `failed` are the gate's (delta/gate.py `crossing`)."""
    f, p = delta.findings, delta.packages
    return {
        "schema_version": SCHEMA_VERSION,
        "old": _side(old),
        "new": _side(new),
        "summary": {
            "packages": {"added": len(p.added), "removed": len(p.removed), "upgraded": len(p.upgraded),
                         "unchanged": p.unchanged},
            "vulnerabilities": {"introduced": len(f.introduced), "fixed": len(f.fixed), "changed": len(f.changed),
                                "unchanged": f.unchanged,
                                "introduced_by_severity": by_severity(s.finding.severity for s in f.introduced),
                                "fixed_by_severity": by_severity(s.finding.severity for s in f.fixed)},
            "secrets": {"added": len(delta.secrets.added), "removed": len(delta.secrets.removed)},
            "misconfigurations": {"added": len(delta.misconfigurations.added),
                                  "removed": len(delta.misconfigurations.removed)},
            "base_image_changed": delta.base.changed,
            "os_changed": delta.os.changed,
            "verdict": delta.verdict.change,
        },
        "packages": {"added": [package_dict(x) for x in p.added], "removed": [package_dict(x) for x in p.removed],
                     "upgraded": [_upgrade(u) for u in p.upgraded]},
        "vulnerabilities": {"introduced": [_entry(s) for s in f.introduced], "fixed": [_entry(s) for s in f.fixed],
                            "changed": [_changed(c) for c in f.changed]},
        "secrets": {"added": [secret_dict(s) for s in delta.secrets.added],
                    "removed": [secret_dict(s) for s in delta.secrets.removed]},
        "misconfigurations": {"added": [secret_dict(s) for s in delta.misconfigurations.added],
                              "removed": [secret_dict(s) for s in delta.misconfigurations.removed]},
        "base_image": {"changed": delta.base.changed, "old": base_image_dict(delta.base.old),
                       "new": base_image_dict(delta.base.new)},
        "os": {"changed": delta.os.changed, "old": os_dict(delta.os.old), "new": os_dict(delta.os.new)},
        "verdict": {"change": delta.verdict.change,
                    "old": verdict_dict(delta.verdict.old) if delta.verdict.old is not None else None,
                    "new": verdict_dict(delta.verdict.new) if delta.verdict.new is not None else None},
        "gate": {"severity": threshold, "failed": bool(failed), "reasons": failed},
    }


def by_severity(severities: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for s in severities:
        counts[s if s in counts else "UNKNOWN"] += 1
    return counts


def _side(r: Report) -> dict[str, Any]:
    t = r.target
    return {"input": t.input, "type": t.type, "name": t.name, "manifest_digest": t.manifest_digest,
            "config_digest": t.config_digest, "created_at": r.created_at,
            "db": {"location": r.db.location, "built_at": r.db.built_at} if r.db is not None else None,
            "packages": len(r.packages), "vulnerabilities": len(r.vulnerabilities), "secrets": len(r.secrets),
            "misconfigurations": len(r.misconfigurations)}


def _upgrade(u: Upgrade) -> dict[str, Any]:
    return {"type": u.new.type, "name": u.new.name, "arch": u.new.arch, "old_version": u.old.version,
            "new_version": u.new.version, "downgrade": u.downgrade, "old": package_dict(u.old),
            "new": package_dict(u.new)}


def _entry(s: Side) -> dict[str, Any]:
    return {"id": s.finding.id, "severity": s.finding.severity, "suppressed": s.suppressed or None,
            "finding": finding_dict(s.finding)}


def _changed(c: FindingChange) -> dict[str, Any]:
    return {"id": c.new.finding.id, "changes": [{"field": m.field, "old": m.old, "new": m.new} for m in c.fields],
            "fix_available": c.fix_available, "old": _entry(c.old), "new": _entry(c.new)}
