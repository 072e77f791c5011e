"""The real feed files of tests/vulndb/testdata (sources, commits and what was cut: its PROVENANCE.md),
the counts the tests assert about them, and the inputs the tests derive from them.

Each count was taken from the file itself with a tool that is not hullscan (the command is quoted),
so a test comparing an import against it checks the importer, not itself. The Debian lists are kept
whole, gzip-compressed (the importer reads a lone `.gz`; tests that need the text decompress it).
"""

from __future__ import annotations

import gzip
from pathlib import Path

TESTDATA = Path(__file__).resolve().parent / "testdata"

DSA_LIST = TESTDATA / "debian-tracker/data/DSA/list.gz"
DLA_LIST = TESTDATA / "debian-tracker/data/DLA/list.gz"
ALPINE = TESTDATA / "alpine-secdb"  # v3.4, v3.10, v3.11
KEV = TESTDATA / "kev/known_exploited_vulnerabilities.json"
OSV_GO = TESTDATA / "osv-go/golang-vulndb-osv.tar.gz"
OSV_PYPI = TESTDATA / "osv-pypi/pypa-advisory-database-vulns.tar.gz"
VUNNEL = TESTDATA / "grype-vunnel/grype-vunnel-records.tar.gz"
OSV_ECOSYSTEMS = TESTDATA / "osv-ecosystems.json"

#: `zgrep -c '^\[' DSA/list.gz` and `DLA/list.gz`: one header line per advisory (the whole lists)
DSA_COUNT = 5406
DLA_COUNT = 3534
#: `jq '.vulnerabilities | length' kev/known_exploited_vulnerabilities.json` (131 of the catalog's 1,404)
KEV_COUNT = 131
#: `tar -tzf osv-go/golang-vulndb-osv.tar.gz | grep -c '^data/osv/GO-.*\.json$'` (120 of 4,291); the
#: samples in osv-go/sample are copies of 8 of them
OSV_GO_COUNT = 120


def debian_list_text(path: Path) -> str:
    """The text of a gzip-compressed DSA/DLA list."""
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def debian_lists(dest: Path) -> list[Path]:
    """DEST/DSA/list and DEST/DLA/list, decompressed (for tools that read the plain text)."""
    out = []
    for src in (DSA_LIST, DLA_LIST):
        p = dest / src.parent.name / "list"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(gzip.decompress(src.read_bytes()))
        out.append(p)
    return out


def dsa_list_cut(dest: Path, before: str = "DSA-4684-1") -> Path:
    """The real Debian DSA list (newest first) cut where `before` starts, written to DEST/DSA/list:
    a real feed small enough for the PostgreSQL tests."""
    lines = debian_list_text(DSA_LIST).splitlines(keepends=True)
    cut = next(i for i, ln in enumerate(lines) if ln.startswith("[") and before in ln)
    (dest / "DSA").mkdir(parents=True, exist_ok=True)
    (dest / "DSA/list").write_text("".join(lines[:cut]))
    return dest / "DSA/list"
