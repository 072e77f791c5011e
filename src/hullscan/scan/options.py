"""What a scan is asked to do (its own module: the CLI and a warm scan need it without the pipeline)."""

from __future__ import annotations

import os

from hullscan.image.target import SourceOptions
from hullscan.match.options import MatchOptions
from hullscan.record import field, record

SCANNERS = ("vuln", "secret", "config", "license")
DEFAULT_SCANNERS = frozenset({"vuln", "secret"})


@record(frozen=True)
class ScanOptions:
    scanners: frozenset[str] = DEFAULT_SCANNERS
    source: SourceOptions = field(default_factory=SourceOptions)
    cache_dir: str | os.PathLike[str] | None = None
    use_cache: bool = True
    db: str | None = None
    """Vulnerability DB location (path or URL); None = HULLSCAN_DB_URL or the default file."""
    match: MatchOptions = field(default_factory=MatchOptions)
    secret_config: str | None = None
    """`--secret-config FILE` (ours or Trivy's format): extra rules, allow rules, disabled rules."""
    skip_files: tuple[str, ...] = ()
    """`--skip-files` globs (Trivy's syntax, inventory/skip.py): files whose facts the applier leaves out."""
    skip_dirs: tuple[str, ...] = ()
    """`--skip-dirs` globs: directories whose files the applier leaves out."""
    import_reachability: bool = False
    """`--import-reachability`: also run the Python and Node import analyzers, whose facts decide the
    `not_imported` level (opt-in: parsing every .py/.js file costs more than the rest of a cold scan)."""
