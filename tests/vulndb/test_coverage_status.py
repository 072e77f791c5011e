"""Coverage per (feed, ecosystem) is recorded when a feed's write commits (hs_ecosystem), and `db status`
lists it with the distro families no feed covers. Every expected count is read off the real feed files
here with yaml/json alone (never through hullscan's importers)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from hullscan.inventory.os_release import DISTRO_ECOSYSTEMS
from hullscan.vulndb import importer
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.read import open_reader

TESTDATA = Path(__file__).parent / "testdata"
ALPINE_310 = TESTDATA / "alpine-secdb" / "v3.10"
GO_SAMPLE = TESTDATA / "osv-go" / "sample"
CHAINGUARD = TESTDATA / "osv-misc" / "Chainguard"
OS_EXPECTED = Path(__file__).parents[1] / "inventory" / "fixtures" / "os" / "os-release-expected.tsv"


def _alpine_counts() -> tuple[int, int]:
    """(advisories, affected rows) of Alpine:v3.10 by the secdb format's own rules: every entry of a
    package's `secfixes: {fixed version: [ids]}` names its advisory by its first id (`CVE-2017-8904
    XSA-214` is CVE-2017-8904; the file's one typo `CVE_2019-2426` is CVE-2019-2426), and a package's
    fixed version is one affected row of that advisory."""
    ids: set[str] = set()
    rows: set[tuple[str, str, str]] = set()
    for repo in ("main", "community"):
        doc = yaml.safe_load((ALPINE_310 / f"{repo}.yaml").read_text())
        assert doc["distroversion"] == "v3.10"
        for entry in doc["packages"]:
            pkg = entry["pkg"]
            for version, entries in (pkg.get("secfixes") or {}).items():
                for raw in entries or ():
                    first = re.sub(r"^CVE_", "CVE-", str(raw).replace(",", " ").split()[0])
                    ids.add(first)
                    rows.add((first, pkg["name"], str(version)))
    return len(ids), len(rows)


def _osv_counts(folder: Path) -> dict[str, tuple[int, int, str | None]]:
    """Per ecosystem of OSV files: (advisories, affected entries, newest YYYY-MM-DD of published/modified).
    Go's vulndb writes 0001-01-01T00:00:00Z for a date it does not know: no date."""
    out: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text())
        dates = [d[:10] for d in (doc.get("published"), doc.get("modified")) if d and not d.startswith("0001-")]
        for aff in doc["affected"]:
            eco = aff["package"]["ecosystem"]
            ids, n, newest = out.setdefault(eco, [set(), 0, None])
            ids.add(doc["id"])
            out[eco][1] = n + 1
            out[eco][2] = max([newest, *dates], key=lambda d: d or "") or None
    return {eco: (len(ids), n, newest) for eco, (ids, n, newest) in out.items()}


def test_the_hand_counts_of_the_fixture_files() -> None:
    """The numbers the tests below rely on, as a reader of the files finds them."""
    assert _alpine_counts() == (1736, 1898)
    # 8 GO-*.json, one `affected` entry each but GO-2022-0969, GO-2022-1144, GO-2023-1571 (two): 11;
    # only GO-2020-0001/GO-2021-0053 (published 2021-04-14) and GO-2022-0969 (2022-09-12) have a date
    assert _osv_counts(GO_SAMPLE) == {"Go": (8, 11, "2022-09-12")}
    # CGA-224q: Chainguard haproxy-2.2/2.8, Wolfi haproxy-3.0/3.1 (2026-01-07); CGA-22hv: Chainguard
    # langfuse-3-worker/langfuse-fips-3-worker, Wolfi langfuse-3-worker (2026-02-24T13:07:08Z)
    assert _osv_counts(CHAINGUARD) == {"Chainguard": (2, 4, "2026-02-24"), "Wolfi": (2, 3, "2026-02-24")}


@pytest.fixture
def built(tmp_path: Path, hs) -> Path:
    db = tmp_path / "db.sqlite"
    code, _, err = hs("db", "import", str(ALPINE_310), str(GO_SAMPLE), str(CHAINGUARD), "--db", str(db))
    assert code == 0, err
    return db


def _status(hs, db: Path) -> dict[str, Any]:
    code, out, err = hs("db", "status", "--db", str(db), "--json")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _rows(status: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, str | None]]:
    return {(c["ecosystem"], c["feed"]): (c["advisories"], c["affected"], c["newest_advisory"]) for c in status["coverage"]}


def test_db_status_lists_coverage_per_ecosystem_and_feed(built: Path, hs) -> None:
    status = _status(hs, built)
    adv, aff = _alpine_counts()
    assert _rows(status) == {
        ("Alpine:v3.10", "alpine"): (adv, aff, None),  # the secdb carries no dates
        ("Go", "osv"): (8, 11, "2022-09-12"),
        ("Chainguard", "osv"): (2, 4, "2026-02-24"),
        ("Wolfi", "osv"): (2, 3, "2026-02-24"),
    }
    feeds = {f["feed"]: f for f in status["feeds"]}
    for c in status["coverage"]:
        # `db import` has no fetch: the import's time stands for it; skipped records are the feed's
        assert c["fetched_at"] == feeds[c["feed"]]["imported_at"] and c["skipped"] == 0
        assert c["age_hours"] is not None
    assert status["ecosystems"] == ["Alpine:v3.10", "Chainguard", "Go", "Wolfi"]
    # every detectable distro family without a row is named; the covered ones are not
    assert {"Red Hat", "Ubuntu", "Debian", "Amazon Linux", "SUSE"} <= set(status["not_covered"])
    assert not {"Alpine", "Wolfi", "Chainguard"} & set(status["not_covered"])
    assert set(status["not_covered"]) == DISTRO_ECOSYSTEMS - {"Alpine", "Wolfi", "Chainguard"}


def test_db_status_table_shows_coverage_and_the_families_not_covered(built: Path, hs, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = hs("db", "status", "--db", str(built))
    assert code == 0, err
    assert "Coverage" in out and "2026-02-24" in out
    assert re.search(r"│ Alpine:v3\.10 +│ alpine +│ 1736 ", out)
    tail = " ".join(out[out.index("Not covered"):].split())
    assert "Red Hat" in tail and "Ubuntu" in tail and "Alpine" not in tail
    assert max(len(line) for line in out.splitlines()) <= 80


def test_every_detected_distro_ecosystem_is_a_family_status_knows() -> None:
    """DISTRO_ECOSYSTEMS (what `not_covered` is drawn from) names the ecosystem of every OS the inventory's
    own expectations detect (tests/inventory/fixtures/os/os-release-expected.tsv, written by hand)."""
    lines = [ln.split("\t") for ln in OS_EXPECTED.read_text().splitlines() if ln and not ln.startswith("#")][1:]
    detected = {row[5].partition(":")[0] for row in lines if len(row) > 5 and row[5]}
    assert detected and detected <= DISTRO_ECOSYSTEMS, detected - DISTRO_ECOSYSTEMS


def test_reimport_and_upsert_keep_counts_exact(built: Path, hs) -> None:
    before = _rows(_status(hs, built))
    assert hs("db", "import", str(CHAINGUARD), "--db", str(built))[0] == 0  # upsert of the same records
    assert _rows(_status(hs, built)) == before
    # --replace drops the whole `osv` feed first: with the Go files alone, its Chainguard/Wolfi rows go
    assert hs("db", "import", str(GO_SAMPLE), "--replace", "--db", str(built))[0] == 0
    assert _rows(_status(hs, built)) == {k: v for k, v in before.items() if k[0] in ("Alpine:v3.10", "Go")}
    assert hs("db", "import", str(GO_SAMPLE), str(CHAINGUARD), "--replace", "--db", str(built))[0] == 0
    assert _rows(_status(hs, built)) == before


def test_a_withdrawn_advisory_is_not_coverage(tmp_path: Path, hs) -> None:
    """CGA-22hv withdrawn: Wolfi keeps CGA-224q alone (its 2 Wolfi entries, dated 2026-01-07)."""
    src = tmp_path / "cga"
    src.mkdir()
    for p in CHAINGUARD.glob("*.json"):
        doc = json.loads(p.read_text())
        if doc["id"] == "CGA-22hv-wp9q-4779":
            doc["withdrawn"] = "2026-03-01T00:00:00Z"
        (src / p.name).write_text(json.dumps(doc))
    db = tmp_path / "db.sqlite"
    assert hs("db", "import", str(src), "--db", str(db))[0] == 0
    assert _rows(_status(hs, db)) == {("Chainguard", "osv"): (1, 2, "2026-01-07"), ("Wolfi", "osv"): (1, 2, "2026-01-07")}


def test_the_memory_reader_answers_coverage_as_the_db(built: Path) -> None:
    mem = MemoryReader(importer.read([ALPINE_310, GO_SAMPLE, CHAINGUARD]).batches.values())
    with open_reader(built) as db:
        assert mem.coverage() == db.coverage()


def test_a_bundle_carries_coverage(built: Path, tmp_path: Path, hs) -> None:
    bundle = tmp_path / "db.bundle"
    assert hs("db", "export", str(bundle), "--db", str(built))[0] == 0
    other = tmp_path / "other.sqlite"
    code, _, err = hs("db", "import", str(bundle), "--db", str(other))
    assert code == 0, err
    assert _rows(_status(hs, other)) == _rows(_status(hs, built))


def _as_v1(db: Path) -> None:
    """What schema version 1 left (test_vulndb_migrate.py's V1_TABLES): no hs_ecosystem, version '1'."""
    with sqlite3.connect(db) as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for name in names - {"hs_meta", "hs_advisory", "hs_alias", "hs_affected", "hs_severity", "hs_cwe",
                             "hs_reference", "hs_kev", "hs_epss", "hs_feed"}:
            c.execute(f'DROP TABLE "{name}"')
        c.execute("UPDATE hs_meta SET value='1' WHERE key='schema_version'")


def test_a_v1_db_migrated_in_place_gets_every_feeds_coverage(built: Path, hs) -> None:
    before = _rows(_status(hs, built))
    _as_v1(built)
    # the next import migrates: it touches Go only, yet alpine's and the Chainguard records' rows are back
    code, _, err = hs("db", "import", str(GO_SAMPLE), "--db", str(built))
    assert code == 0, err
    assert _rows(_status(hs, built)) == before
