"""Shared data for the version-scheme tests: the vectors file and the osv-scalibr orderings, both
kept in testdata/ beside these tests (see testdata/PROVENANCE.md)."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections import defaultdict
from pathlib import Path

TESTDATA = Path(__file__).resolve().parent / "testdata"
# versions.jsonl (all 43,570 records, byte-identical once decompressed), stored gzip-compressed
VECTORS = TESTDATA / "vectors" / "versions.jsonl.gz"
# osv-scalibr semantic/testdata: the *-versions.txt files and the tarball of *-generated.txt
ORDERINGS = TESTDATA / "osv-scalibr"
VECTOR_COUNT = 43_570  # the count vectors/README.md gives for versions.jsonl

# The schemes that must be exact on the whole vector file (issue 7).
REQUIRED = ("deb", "rpm", "apk", "pep440", "semver", "npm", "golang", "maven", "gem", "nuget",
            "composer", "cran", "pacman", "portage")

# Vectors whose expectation no ecosystem rule can give, each with the reason. Kept tiny and
# reviewed by hand; the test reports them and checks they still disagree (so a fix is noticed).
KNOWN_DISAGREEMENTS = {
    # grype asserts 12.10.2.jre11 == 12.10.2.jdk17, an artifact of the go-mvn-version library:
    # Maven's ComparableVersion and the POM reference both order the qualifier jre > jdk, and the
    # same vectors need 9.4.1207.jre6 < 9.4.1207.jre7 and 42.2.25 < 42.2.25.jre6.
    "bd62ee994ccc": "maven jre11/jdk17 equality (grype library artifact)",
}

# osv-scalibr fixture file prefix -> scheme
FIXTURE_SCHEMES = {
    "alpine": "apk", "cran": "cran", "debian": "deb", "hackage": "hackage", "maven": "maven",
    "nuget": "nuget", "packagist": "composer", "pub": "pub", "pypi": "pep440", "redhat": "rpm",
    "rubygems": "gem", "semver": "semver",
}


def load_vectors() -> dict[str, list[dict]]:
    """All records of versions.jsonl grouped by scheme (the `vectors` fixture, tests/versions/conftest.py)."""
    by: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(VECTORS, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            by[rec["scheme"]].append(rec)
    return dict(by)


def read_orderings(base: Path = ORDERINGS) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(file name, scheme, [(a, op, b)]) for every *-versions.txt and, read straight from the
    tarball, every semantic/testdata/*-generated.txt."""
    texts: list[tuple[str, str]] = []
    for path in sorted(base.glob("*-versions.txt")):
        texts.append((path.name, path.read_text(encoding="utf-8")))
    with tarfile.open(base / "osv-scalibr-semantic-testdata.tar.gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith("-generated.txt"):
                fh = tar.extractfile(member)
                assert fh is not None
                texts.append((Path(member.name).name, fh.read().decode("utf-8")))
    out = []
    for name, text in texts:
        rows = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "//")):
                continue
            parts = line.split(" ")
            assert len(parts) == 3, f"{name}: unexpected line {line!r}"
            rows.append((parts[0], parts[1], parts[2]))
        out.append((name, FIXTURE_SCHEMES[name.split("-")[0]], rows))
    return out
