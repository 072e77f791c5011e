"""`hullscan image --base-advice`: base image advice (base/advise.py) for a scanned report, wired as
`hullscan base advise` wires it — the catalog the scan identified the base against, the candidates' stored
packages, the same DB and matching options — and returned as the report's `base_advice` (model/report.py).

Loaded only with the flag: a scan without it imports none of this (docs/warm-path.md). The advice is
computed after the scan, never stored with a cached result; its inputs (the DB file and the catalog's
generation) are both in the whole-result key (scan/result_cache.py), so a cached report's `inherited`
and `base_image.catalog_id` are the ones a cold scan would give, and the advice reads them afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.base.advise import Advice, Remaining, advise, stored_packages
from hullscan.match.loop import match_inventory
from hullscan.model.inventory import Inventory
from hullscan.model.report import AdviceBase, AdviceCandidate, AdviceFinding, BaseAdvice, Report
from hullscan.record import replace
from hullscan.state.catalog import CatalogEntry, open_catalog
from hullscan.vulndb.read import open_reader

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hullscan.scan.options import ScanOptions


def compute(report: Report, options: ScanOptions, state: str | None = None) -> Advice:
    """The advice for a scanned report: against the catalog at `state` (None: `$HULLSCAN_STATE_URL`, else
    the default file — where a scan identifies the base) and the DB of `options` (also `base advise`'s)."""
    with open_catalog(state) as catalog, open_reader(options.db) as reader:
        # an empty catalog identifies nothing, so advice reads no stored package (and opens no state store)
        packages_of, close = stored_packages(state) if catalog.generation() else (lambda _id: [], lambda: None)
        try:
            return advise(report, catalog, packages_of,
                          lambda pkgs: match_inventory(Inventory(packages=list(pkgs)), reader, options.match).findings)
        finally:
            close()


def with_advice(report: Report, options: ScanOptions, state: str | None = None) -> Report:
    """`report` with its `base_advice` (`compute`)."""
    return replace(report, base_advice=to_model(compute(report, options, state)))


def to_model(advice: Advice) -> BaseAdvice:
    """base/advise.py's `Advice` as the report model holds it (no state/ type in the model)."""
    return BaseAdvice(
        base=_entry(advice.base) if advice.base is not None else None,
        inherited=_findings(advice.inherited),
        candidates=tuple(AdviceCandidate(_entry(c.entry), _findings(c.removed), _findings(c.remaining),
                                         _findings(c.added)) for c in advice.candidates),
        reason=advice.reason,
    )


def _entry(e: CatalogEntry) -> AdviceBase:
    return AdviceBase(catalog_id=e.id, reference=e.reference, name=e.name, tags=tuple(e.tags),
                      manifest_digest=e.manifest_digest, config_digest=e.config_digest, platform=e.platform,
                      created=e.created, os_id=e.os_id, os_version=e.os_version)


def _findings(items: Sequence[Remaining]) -> tuple[AdviceFinding, ...]:
    return tuple(AdviceFinding(r.id, r.package, r.version, r.severity, r.fixed_version) for r in items)
