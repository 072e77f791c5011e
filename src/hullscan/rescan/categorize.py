"""An image's delta (delta/compare.py, the one comparison) in the rescan's categories, one per change.

The findings compared are judged (exceptions and VEX applied) on both sides, so what the policy accepts
on both sides is no change; a finding accepted on one side only is.

- `new`: introduced and not suppressed;
- `withdrawn`: gone, and one of its records was withdrawn (or removed from its feed) — the change log's
  ids, or the DB saying so now;
- `no_longer_affected`: gone otherwise (a range or fix moved past the installed version);
- `exception_expired`: the same finding, accepted by an exception before and not now;
- `fix_available`: the same finding, with a fixed version where it had none;
- `changed`: the same finding with its severity, status, fixed version, KEV flag, EPSS or suppression moved.
"""

from __future__ import annotations

from collections.abc import Set

from hullscan.delta.model import Delta, FindingChange
from hullscan.model.findings import Finding
from hullscan.rescan.model import Change


def categorize(delta: Delta, withdrawn: Set[str]) -> list[Change]:
    """The changes of `delta`; `withdrawn`: advisory ids withdrawn or removed."""
    out: list[Change] = []
    for s in delta.findings.introduced:
        if not s.suppressed:
            out.append(_change("new", s.finding))
    for s in delta.findings.fixed:
        if not s.suppressed:
            gone = "withdrawn" if not withdrawn.isdisjoint(s.finding.ids) else "no_longer_affected"
            out.append(_change(gone, s.finding))
    for c in delta.findings.changed:
        if c.old.suppressed and c.new.suppressed:
            continue  # accepted before and after
        out.append(_change(_kind(c), c.new.finding, c))
    return out


def _kind(c: FindingChange) -> str:
    moved = c.moved("suppressed")
    if moved is not None and moved.old == "exception" and not moved.new:
        return "exception_expired"
    if c.fix_available:
        return "fix_available"
    return "changed"


def _change(category: str, f: Finding, c: FindingChange | None = None) -> Change:
    pkg = f.package
    return Change(category=category, id=f.id, aliases=tuple(sorted(set(f.aliases))), package_type=pkg.type,
                  package_name=pkg.name, package_version=pkg.version, purl=pkg.purl, severity=f.severity,
                  status=f.status, fixed_version=f.fixed_version, kev=f.kev is not None,
                  epss=f.epss.score if f.epss is not None else None, fields=c.fields if c is not None else (),
                  inherited=f.inherited)

