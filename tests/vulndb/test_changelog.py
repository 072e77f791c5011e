"""The DB change log (docs/vulndb.md "Change log"): every import that changes the DB is a generation listing
the advisories it added / changed / withdrew / removed with their (ecosystem, package) pairs, and the CVEs
whose KEV flag or EPSS moved; `changes_since` merges them, or says a full re-match is needed.

Data: two real states of the PyPA advisory database (testdata/changelog-pypi: the same package
directories at two commits, 2023-06-05 and 2023-06-30), in which one record (redis PYSEC-2023-73) was
withdrawn. The expected log is derived here from the record files themselves, read with PyYAML: an id
only in the newer slice is added; an id in both whose record differs is withdrawn when the newer one
carries `withdrawn` and the older does not, else changed; pairs are PEP 503 names of `affected[].package`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hullscan.vulndb import changelog, importer
from hullscan.vulndb import reader as R
from hullscan.vulndb.model import FeedBatch
from hullscan.vulndb.read import Changes, FullRematch, open_reader
from hullscan.vulndb.store import VulnDB

TESTDATA = Path(__file__).parent / "testdata"
OLD = TESTDATA / "changelog-pypi/old"
NEW = TESTDATA / "changelog-pypi/new"
KEV = TESTDATA / "kev/known_exploited_vulnerabilities.json"
EPSS = Path(__file__).parent / "fixtures/epss_scores-2023-03-20.csv"


# ------------------------------------------------------------------ the expectation, from the files alone


def _records(root: Path) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for p in sorted(root.rglob("*.yaml")) for d in [yaml.safe_load(p.read_text())]}


def _pairs(rec: dict[str, Any]) -> set[tuple[str, str]]:
    # PEP 503: runs of -_. become one -, lower case
    return {(a["package"]["ecosystem"], re.sub(r"[-_.]+", "-", a["package"]["name"]).lower()) for a in rec["affected"]}


def _expected(old_root: Path, new_root: Path) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    old, new = _records(old_root), _records(new_root)
    out: dict[str, tuple[str, set[tuple[str, str]]]] = {}
    for i, rec in new.items():
        if i not in old:
            out[i] = ("added", _pairs(rec))
        elif rec != old[i]:
            kind = "withdrawn" if rec.get("withdrawn") and not old[i].get("withdrawn") else "changed"
            out[i] = (kind, _pairs(rec) | _pairs(old[i]))
    return out


def test_the_slices_hold_what_the_docstring_says() -> None:
    """The derivation above on these files, checked by hand against `git diff 45b0e005 ee30cb3c`: six new
    records, django PYSEC-2023-61 re-ranged, ansible PYSEC-2020-221 (withdrawn already) given two more
    versions, redis PYSEC-2023-73 withdrawn; the other 14 records are byte-identical in both."""
    want = _expected(OLD, NEW)
    assert {i: k for i, (k, _) in want.items()} == {
        "PYSEC-2023-83": "added", "PYSEC-2023-84": "added", "PYSEC-2023-85": "added", "PYSEC-2023-87": "added",
        "PYSEC-2023-91": "added", "PYSEC-2023-92": "added", "PYSEC-2023-61": "changed", "PYSEC-2020-221": "changed",
        "PYSEC-2023-73": "withdrawn"}
    assert want["PYSEC-2023-73"][1] == {("PyPI", "redis")}
    assert len(_records(NEW)) == 23 and len(_records(OLD)) == 17


# ------------------------------------------------------------------ helpers


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "db.sqlite")
    else:
        yield request.getfixturevalue("pg_url")


def _import(location: str, *paths: Path, replace: bool = False) -> None:
    summary = importer.read(list(paths))
    assert not summary.failed and not summary.errors
    with VulnDB.open(location, create=True) as db:
        importer.write(db, summary, replace=replace)


def _log(location: str, since: int) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    with open_reader(location) as r:
        return {e.advisory_id: (e.kind, set(e.pairs)) for e in r.change_entries(since)}


def _state(location: str) -> tuple[int, list[Any], int]:
    with open_reader(location) as r:
        return r.generation(), r.change_log(), len(r.change_entries(0))


# ------------------------------------------------------------------ tests


def test_older_then_newer_slice(location: str) -> None:
    _import(location, OLD)
    with open_reader(location) as r:
        g1 = r.generation()
        assert g1 > 0 and [g.generation for g in r.change_log()] == [g1]
        first = r.change_log()[0]
        # the first import of a feed: every record added (withdrawn ones too: new to the DB)
        assert first.previous is None and first.feeds == "osv" and first.added == 17 and first.full is None
        # generation 0 (before the DB existed) is not reached back to: a first import is a full re-match
        assert isinstance(r.changes_since(0), FullRematch)
    # nothing can reach back past a DB's first generation: its advisories are counted, not listed
    assert _log(location, 0) == {}

    _import(location, NEW)
    want = _expected(OLD, NEW)
    with open_reader(location) as r:
        g2 = r.generation()
        assert g2 == g1 + 1
        g = r.change_log()[-1]
        assert (g.previous, g.added, g.changed, g.withdrawn, g.removed) == (g1, 6, 2, 1, 0)
        changes = r.changes_since(g1)
        assert isinstance(changes, Changes) and (changes.since, changes.generation) == (g1, g2)
        assert changes.advisories == frozenset(want)
        assert changes.pairs == frozenset(p for _, ps in want.values() for p in ps)
        assert changes.cves == frozenset()
        # the withdrawn record's rows are no longer matched
        assert r.affected_for([("PyPI", "redis")])[("PyPI", "redis")] and not any(
            x.advisory_id == "PYSEC-2023-73" for x in r.affected_for([("PyPI", "redis")])[("PyPI", "redis")])
    assert _log(location, g1) == want

    # the same data again: nothing changed, no generation
    _import(location, NEW)
    with open_reader(location) as r:
        assert r.generation() == g2 and len(r.change_log()) == 2
        assert r.changes_since(g2) == Changes(g2, g2, frozenset(), frozenset(), frozenset())
        assert isinstance(r.changes_since(g2 + 5), FullRematch)  # not a generation of this DB


def test_a_feed_replaced_whole_logs_what_it_no_longer_holds(tmp_path: Path) -> None:
    """`db update` replaces a feed: an advisory the new download lacks is `removed` (its pairs as stored),
    the unchanged ones are neither rewritten nor logged."""
    db_path = str(tmp_path / "db.sqlite")
    _import(db_path, NEW)
    batch = importer.read([NEW]).batches["osv"]
    gone = {i: a for i, a in batch.advisories.items() if a.affected[0].package == "sqlparse"}
    for i in gone:
        del batch.advisories[i]
    with VulnDB.open(db_path) as db:
        g1 = db.reader().generation()
        db.write_batch(batch, replace=True)
    # sqlparse's two records (PYSEC-2021-333, PYSEC-2023-87): removed, with their one pair
    assert set(gone) == {"PYSEC-2021-333", "PYSEC-2023-87"}
    assert _log(db_path, g1) == {i: ("removed", {("PyPI", "sqlparse")}) for i in gone}
    with open_reader(db_path) as r:
        assert r.affected_for([("PyPI", "sqlparse")])[("PyPI", "sqlparse")] == []
        assert r.counts()["hs_advisory"] == 21


def test_an_import_that_fails_changes_nothing(location: str) -> None:
    _import(location, OLD)
    before = _state(location)
    parts = list(importer.stream([NEW], "osv", chunk=5))

    def broken() -> Iterator[FeedBatch]:
        yield from parts[:2]
        raise OSError("the download broke")

    with VulnDB.open(location) as db, pytest.raises(OSError):
        db.write_stream("osv", broken(), replace=True)
    assert _state(location) == before
    _import(location, NEW)  # the session's generation is not left pointing at the rolled-back one
    g, log, _ = _state(location)
    assert g == before[0] + 1 and log[-1].previous == before[0]


def test_kev_and_epss_moves(tmp_path: Path, hs) -> None:
    """The older KEV catalog: the real one's entries added before 2024-06-01 (by `dateAdded`); importing
    the real one then logs exactly the CVEs added since. EPSS: a first catalog holding one CVE fewer."""
    db = str(tmp_path / "db.sqlite")
    doc = json.loads(KEV.read_text())
    old = dict(doc, vulnerabilities=[v for v in doc["vulnerabilities"] if v["dateAdded"] < "2024-06-01"])
    new_cves = {v["cveID"] for v in doc["vulnerabilities"] if v["dateAdded"] >= "2024-06-01"}
    assert new_cves and len(old["vulnerabilities"]) < len(doc["vulnerabilities"])
    (tmp_path / "kev-old.json").write_text(json.dumps(old))
    lines = EPSS.read_text().splitlines()
    (tmp_path / "epss-old.csv").write_text("\n".join(ln for ln in lines if "CVE-2014-0224" not in ln) + "\n")
    assert hs("db", "import", str(tmp_path / "kev-old.json"), str(tmp_path / "epss-old.csv"), "--db", db)[0] == 0
    g1 = _state(db)[0]
    code, _, err = hs("db", "import", str(KEV), "--db", db)
    assert code == 0, err
    code, _, err = hs("db", "import", str(EPSS), "--db", db)  # a second import: its own generation
    assert code == 0, err  # the fixture's two invalid rows are skipped and counted
    with open_reader(db) as r:
        changes = r.changes_since(g1)
        assert isinstance(changes, Changes) and changes.generation == g1 + 2
        assert changes.cves == frozenset(new_cves | {"CVE-2014-0224"}) and not changes.pairs
        assert [(g.kev, g.epss) for g in r.change_log()[1:]] == [(len(new_cves), 0), (0, 1)]
    code, out, _ = hs("db", "status", "--db", db, "--json")
    st = json.loads(out)["change_log"]
    assert st["generation"] == g1 + 2 and st["oldest"] == g1 and st["generations"] == 3


def test_epss_thresholds() -> None:
    moved = changelog._epss_moved
    assert moved((0.10, 0.80), (0.11, 0.80))  # score +0.01
    assert not moved((0.10, 0.80), (0.105, 0.85))  # small drift, same class
    assert moved((0.10, 0.89), (0.10, 0.91))  # into the top 10 %


def test_retention_and_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HULLSCAN_DB_LOG_GENERATIONS", "2")
    db = str(tmp_path / "db.sqlite")
    _import(db, OLD)
    g1 = _state(db)[0]
    _import(db, NEW)
    _import(db, OLD, replace=True)  # back: a third generation
    with open_reader(db) as r:
        assert [g.generation for g in r.change_log()] == [g1 + 1, g1 + 2]
        assert isinstance(r.changes_since(g1 + 1), Changes)
        far = r.changes_since(g1)  # g1 + 1 is held, and names g1 as its previous: still reached
        assert isinstance(far, Changes)
        gone = r.changes_since(g1 - 1)
        assert isinstance(gone, FullRematch) and "does not reach back" in gone.reason
        # removed: the six records of the newer slice only
        assert {e.advisory_id for e in r.change_entries(g1 + 1) if e.kind == "removed"} == (
            set(_records(NEW)) - set(_records(OLD)))


def _as_v2(db: str) -> None:
    with sqlite3.connect(db) as c:
        for t in ("hs_generation", "hs_change", "hs_change_cve", "hs_digest"):
            c.execute(f"DROP TABLE {t}")
        c.execute("DELETE FROM hs_meta WHERE key='generation'")
        c.execute("UPDATE hs_meta SET value='2' WHERE key='schema_version'")


def test_a_migrated_db_says_full_rematch_until_a_feed_is_written_whole(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite")
    _import(db, OLD)
    _as_v2(db)
    _import(db, NEW)  # migrates in place; the feed had no digests: the log cannot say what changed
    with open_reader(db) as r:
        assert r.meta()["schema_version"] == R.SCHEMA_VERSION
        g = r.change_log()
        assert len(g) == 1 and g[0].full and "no content digests" in g[0].full
        assert isinstance(r.changes_since(0), FullRematch)
    _import(db, NEW, replace=True)  # written whole: every advisory has its digest again
    with open_reader(db) as r:
        g2 = r.generation()
    _import(db, OLD)  # upsert of older versions: logged one by one again
    with open_reader(db) as r:
        changes = r.changes_since(g2)
        # the older versions of the 3 records that differ (the 6 newer-only records stay: an upsert)
        assert isinstance(changes, Changes) and changes.advisories == {"PYSEC-2023-61", "PYSEC-2020-221", "PYSEC-2023-73"}


def test_a_bundle_load_is_a_full_rematch(tmp_path: Path, hs) -> None:
    src, dst = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    _import(src, NEW)
    _import(dst, OLD)
    assert hs("db", "export", str(tmp_path / "b.tar"), "--db", src)[0] == 0
    g1 = _state(dst)[0]
    assert hs("db", "import", str(tmp_path / "b.tar"), "--db", dst)[0] == 0
    with open_reader(dst) as r:
        res = r.changes_since(g1)
        assert isinstance(res, FullRematch) and "bundle" in res.reason
    _import(dst, NEW)  # the bundle brought the digests: nothing changed, no generation
    assert _state(dst)[0] == g1 + 1
