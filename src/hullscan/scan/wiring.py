"""The scan service as the CLI (and the future worker) runs it: the real collaborators, each built only
when a scan needs it (a warm scan builds none of them)."""

from __future__ import annotations

from hullscan.image.target import open_image
from hullscan.scan.options import ScanOptions
from hullscan.scan.service import ScanService

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from hullscan.cache.store import LayerCache
    from hullscan.vulndb.read import AdvisoryReader
    from hullscan.walk.analyzer import Analyzer


def build_service(options: ScanOptions, progress: Callable[[str], None] | None = None,
                  notice: Callable[[str], None] | None = None) -> ScanService:
    def analyzers() -> Sequence[Analyzer]:
        from hullscan.inventory.registry import analyzers_for

        chosen = analyzers_for(set(options.scanners), import_reachability=options.import_reachability)
        if options.secret_config:
            from hullscan.secrets.analyzer import SecretAnalyzer

            custom = SecretAnalyzer.with_config(options.secret_config)
            chosen = [custom if an.name == custom.name else an for an in chosen]
        return chosen

    def open_db() -> AdvisoryReader:
        from hullscan.vulndb.read import open_reader  # SQLite through sqlite3: no SQLAlchemy import

        return open_reader(options.db)

    def check_db() -> None:
        from hullscan.vulndb.location import precheck

        # a missing or empty DB (no advisories: nothing could match) fails before any work, without
        # the heavy imports: one `SELECT 1 ... LIMIT 1` (vulndb/location.py)
        precheck(options.db)

    def layer_cache() -> tuple[LayerCache | None, list[str]]:
        import os

        from hullscan.cache.store import open_cache

        warnings: list[str] = []
        shared = os.environ.get("HULLSCAN_CACHE_URL", "")
        if options.cache_dir is None and shared.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            from hullscan.cache.pg import open_pg_cache  # the service's shared cache (docs/service.md)

            return open_pg_cache(shared, warnings.append), warnings  # type: ignore[return-value]
        return open_cache(options.cache_dir, warnings.append), warnings

    vuln = "vuln" in options.scanners
    return ScanService(
        options=options,
        open_image=open_image,
        analyzers=analyzers,
        open_db=open_db if vuln else None,
        check_db=check_db if vuln else None,
        layer_cache=layer_cache if options.use_cache else None,
        progress=progress,
        notice=notice,
    )
