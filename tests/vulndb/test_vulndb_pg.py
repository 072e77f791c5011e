"""The same store on PostgreSQL (127.0.0.1:5432 db `test`, a throwaway schema per test), bundles
between backends, and per-feed transactions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from vulndb_testdata import ALPINE, KEV, TESTDATA, dsa_list_cut

from hullscan.errors import DatabaseError, InputError
from hullscan.vulndb import bundle, importer
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch
from hullscan.vulndb.read import AdvisoryReader, open_reader
from hullscan.vulndb.store import VulnDB
from hullscan.vulndb.update import update

PAIRS = [("Debian:10", "apt"), ("Debian:10", "glibc"), ("Alpine:v3.10", "openssl"), ("PyPI", "Django"),
         ("crates.io", "tokio"), ("RubyGems", "nokogiri"), ("Go", "github.com/gin-gonic/gin"), ("npm", "nothing")]


def _snapshot(db: AdvisoryReader) -> dict:
    got = db.affected_for(PAIRS)
    return {
        "affected": {k: sorted((r.advisory_id, r.status, str(r.ranges), tuple(r.versions)) for r in v)
                     for k, v in got.items()},
        "ecosystems": db.ecosystems(),
        "feeds": {f.feed: (f.advisories, f.affected, f.records) for f in db.feeds()},
        "adv": db.advisories(["DSA-4685-1", "PYSEC-2024-69", "RUSTSEC-2021-0124"]),
        "kev": db.kev(["CVE-2021-44228"]),
        "aliases": db.aliases_of(["CVE-2020-3810"]),
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """Real feed files, with DSA/list cut after DSA-4685-1 (the list is newest first) to keep the
    PostgreSQL tests quick; and a SQLite DB imported from them."""
    tmp = tmp_path_factory.mktemp("pgsmall")
    dsa_list_cut(tmp)
    v = TESTDATA
    paths = [tmp / "DSA/list", ALPINE / "v3.10", v / "osv-pypi/sample", v / "osv-go/sample",
             v / "rustsec/sample/crates", v / "rubysec/sample", KEV]
    with VulnDB.open(tmp / "small.sqlite", create=True) as db:
        importer.write(db, importer.read(paths))
    return paths, tmp / "small.sqlite"


@pytest.mark.postgres
def test_import_on_postgres_matches_sqlite(pg_url: str, small: tuple[list[Path], Path]) -> None:
    paths, lite_path = small
    with VulnDB.open(pg_url, create=True) as pg:
        importer.write(pg, importer.read(paths))
    with open_reader(pg_url) as pg_reader:
        got = _snapshot(pg_reader)
        (apt,) = [r for r in got["affected"][("Debian:10", "apt")] if r[0] == "DSA-4685-1"]
        assert apt[1] == "fixed" and "1.8.2.1" in apt[2]  # DSA/list: [buster] - apt 1.8.2.1
    with open_reader(lite_path) as lite:
        assert got == _snapshot(lite)


@pytest.mark.postgres
def test_postgres_missing_and_foreign(pg_url: str) -> None:
    with pytest.raises(DatabaseError, match="no vulnerability DB"):
        VulnDB.open(pg_url)
    with pytest.raises(DatabaseError, match="no vulnerability DB"):
        open_reader(pg_url)
    eng = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as c:
        c.execute(text("CREATE TABLE hs_advisory (x int)"))
    eng.dispose()
    with pytest.raises(DatabaseError, match="foreign"):
        VulnDB.open(pg_url, create=True)
    with pytest.raises(DatabaseError, match="foreign"):
        open_reader(pg_url)
    VulnDB.open(pg_url, create=True, rebuild=True).close()
    VulnDB.open(pg_url).close()
    open_reader(pg_url).close()


@pytest.mark.postgres
def test_failed_feed_write_rolls_back(pg_url: str) -> None:
    with VulnDB.open(pg_url, create=True) as db:
        importer.write(db, importer.read([ALPINE / "v3.10"]))
        with db.reader() as r:
            before = r.feed("alpine")
        bad = FeedBatch("alpine")
        bad.advisories["CVE-2019-1547"] = AdvisoryIn("CVE-2019-1547", affected=[AffectedIn("Alpine:v3.10", "openssl")])
        bad.advisories["X" * 300] = AdvisoryIn("X" * 300)  # longer than the id column: PostgreSQL refuses
        with pytest.raises(DatabaseError, match="alpine"):
            db.write_batch(bad, replace=True)
    with open_reader(pg_url) as reader:
        assert reader.feed("alpine") == before  # the whole feed transaction rolled back
        recs = reader.affected_for([("Alpine:v3.10", "openssl")])[("Alpine:v3.10", "openssl")]
        assert "1.1.1d-r0" in {v for r in recs for v in r.fixed_versions}


@pytest.mark.postgres
def test_update_on_postgres(pg_url: str, server, tmp_path: Path) -> None:
    from hullscan.http import RetryPolicy
    from hullscan.vulndb.download import Downloader

    base, feeds = server
    feeds.script["/kev.json"] = ["truncate"] * 2
    r = update(pg_url, ["kev", "alpine"], urls={
        "kev": [f"{base}/kev.json"],
        "alpine": [f"{base}/alpine/v3.10/main.yaml", f"{base}/alpine/v3.10/community.yaml"]},
        downloader=Downloader(policy=RetryPolicy(attempts=2, backoff=0), sleep=lambda s: None), cache=tmp_path)
    assert [o.status for o in r.outcomes] == ["failed", "updated"]
    with open_reader(pg_url) as db:
        assert db.feed("kev").last_error and db.feed("kev").records == 0
        assert db.feed("alpine").advisories > 0


@pytest.mark.postgres
def test_bundle_sqlite_to_postgres(pg_url: str, small: tuple[list[Path], Path], tmp_path: Path, hs) -> None:
    subset_db = small[1]
    b = tmp_path / "db.bundle"
    code, out, err = hs("db", "export", str(b), "--db", str(subset_db))
    assert code == 0, err
    assert bundle.is_bundle(b)
    with VulnDB.open(pg_url, create=True) as pg:
        bundle.load(pg, b)
    with open_reader(pg_url) as pg_reader:
        got = _snapshot(pg_reader)
    with open_reader(subset_db) as lite:
        assert got == _snapshot(lite)
    # and back into a fresh SQLite file through the CLI
    code, out, err = hs("db", "import", str(b), "--db", str(tmp_path / "n.sqlite"))
    assert code == 0, err
    with open_reader(tmp_path / "n.sqlite") as n:
        assert _snapshot(n) == got


def test_corrupt_bundle_rejected(small: tuple[list[Path], Path], tmp_path: Path, hs) -> None:
    subset_db = small[1]
    b = tmp_path / "db.bundle"
    with VulnDB.open(subset_db) as db:
        bundle.export(db, b)
    raw = bytearray(b.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte inside the data member
    b.write_bytes(bytes(raw))
    with VulnDB.open(tmp_path / "x.sqlite", create=True) as db, pytest.raises(InputError, match="checksum|corrupt"):
        bundle.load(db, b)
    code, out, err = hs("db", "import", str(b), "--db", str(tmp_path / "y.sqlite"))
    assert code == 2 and "checksum" in err
