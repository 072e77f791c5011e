"""What a scan asks of matching (its own module: the CLI and a warm scan need it without the matcher)."""

from __future__ import annotations

from hullscan.record import record


@record(frozen=True)
class MatchOptions:
    pkg_types: frozenset[str] = frozenset({"os", "library"})
    """`os`, `library` (Trivy's --pkg-types)."""
    include_owned: bool = False
    """Also match language packages that an OS package owns (matched by the distro already)."""
