"""The one place analyzers build package URLs.

A name or version read from a hostile file may make no valid purl: an npm name `fo/` leaves the purl
without a name, a lone surrogate (a JSON `"\\udc80"` escape) cannot be percent-encoded. packageurl
raises on both; raising inside `assemble` would cost every package the analyzer found. `purl` returns
"" instead, and the applier (`applier.py`) leaves each package without a purl out, with a warning
naming its file: one bad entry costs only itself, with no guard in each analyzer.
"""

from __future__ import annotations

from packageurl import PackageURL

INVALID = ""
"""What `purl` returns for parts that make no valid package URL."""


def purl(
    type: str,
    name: str,
    version: str | None = None,
    namespace: str | None = None,
    qualifiers: dict[str, str] | None = None,
    subpath: str | None = None,
) -> str:
    """`pkg:type/namespace/name@version?qualifiers#subpath`, or `INVALID` when packageurl refuses the parts."""
    try:
        return PackageURL(type=type, namespace=namespace or None, name=name, version=version or None,
                          qualifiers=qualifiers or None, subpath=subpath or None).to_string()
    # a missing name or bad qualifiers; UnicodeEncodeError (lone surrogates) is a ValueError too;
    # a name that normalizes to nothing (composer `" "`) makes packageurl raise TypeError
    except (ValueError, TypeError):
        return INVALID
