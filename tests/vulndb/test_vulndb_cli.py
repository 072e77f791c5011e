"""`hullscan db import/status` as a user runs them, and OSV records of every ecosystem."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from vulndb_testdata import ALPINE, OSV_ECOSYSTEMS, TESTDATA

from hullscan.vulndb import importer
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB

FIX = Path(__file__).parent / "fixtures"


def test_import_summary_and_status(tmp_path: Path, hs) -> None:
    db = tmp_path / "db.sqlite"
    code, out, err = hs("db", "import", str(FIX / "alpine-v3.19-main.json"), str(FIX / "epss_scores-2023-03-20.csv"), "--db", str(db))
    assert code == 0, err
    assert "alpine" in out and "1 skipped" in out and "no pkg.name" in out
    assert "epss" in out and "2 skipped" in out
    code, out, err = hs("db", "status", "--db", str(db), "--json")
    assert code == 0 and err == ""
    st = json.loads(out)
    assert {f["feed"]: f["records"] for f in st["feeds"]} == {"alpine": 0, "epss": 3}
    assert st["ecosystems"] == ["Alpine:v3.19"] and st["counts"]["hs_epss"] == 3
    # make the alpine feed 10 days old: a warning by default, exit 4 only with --fail-stale
    with sqlite3.connect(db) as c:
        c.execute("UPDATE hs_feed SET imported_at='2000-01-01T00:00:00Z' WHERE feed='alpine'")
    code, out, err = hs("db", "status", "--db", str(db), "--max-age", "7d")
    assert code == 0 and "stale" in err and "alpine" in err
    code, out, err = hs("db", "status", "--db", str(db), "--max-age", "7d", "--fail-stale")
    assert code == 4 and "alpine" in err


def test_import_nothing_recognized_is_exit_2(tmp_path: Path, hs) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')
    code, out, err = hs("db", "import", str(tmp_path / "notes.json"), "--db", str(tmp_path / "db.sqlite"))
    assert code == 2 and "no feed data recognized" in err
    assert not (tmp_path / "db.sqlite").exists()  # nothing to write: no empty DB left behind


def test_every_osv_ecosystem(tmp_path: Path) -> None:
    names = list(json.loads(OSV_ECOSYSTEMS.read_text()))
    ecos = [e if e not in ("Debian", "Alpine", "Ubuntu") else {"Debian": "Debian:12", "Alpine": "Alpine:v3.19",
                                                                 "Ubuntu": "Ubuntu:22.04:LTS"}[e] for e in names]
    d = tmp_path / "osv"
    d.mkdir()
    for i, eco in enumerate(ecos):
        rec = {"schema_version": "1.6.0", "id": f"TEST-{i}", "modified": "2024-01-01T00:00:00Z",
               "affected": [{"package": {"ecosystem": eco, "name": f"Pkg_{i}"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}
        (d / f"TEST-{i}.json").write_text(json.dumps(rec))
    s = importer.read([d])
    with VulnDB.open(tmp_path / "db.sqlite", create=True) as db:
        importer.write(db, s)
    with open_reader(tmp_path / "db.sqlite") as reader:
        assert reader.ecosystems() == set(ecos)
        got = reader.affected_for([(e, f"Pkg_{i}") for i, e in enumerate(ecos)])
    for i, eco in enumerate(ecos):
        (r,) = got[(eco, f"Pkg_{i}")]
        assert r.advisory_id == f"TEST-{i}" and r.fixed_versions == ["2.0"]
        assert r.package == (f"pkg-{i}" if eco == "PyPI" else f"Pkg_{i}")  # PEP 503 for PyPI only


def test_withdrawn_left_out_by_default(tmp_path: Path) -> None:
    rec = json.loads((TESTDATA / "osv-go/sample/GO-2020-0001.json").read_text())
    rec["withdrawn"] = "2024-01-01T00:00:00Z"
    p = tmp_path / "GO-2020-0001.json"
    p.write_text(json.dumps(rec))
    with VulnDB.open(tmp_path / "db.sqlite", create=True) as db:
        importer.write(db, importer.read([p]))
    with open_reader(tmp_path / "db.sqlite") as reader:
        key = ("Go", "github.com/gin-gonic/gin")
        assert reader.affected_for([key])[key] == []
        assert len(reader.affected_for([key], include_withdrawn=True)[key]) == 1
        assert reader.advisories(["GO-2020-0001"])["GO-2020-0001"].withdrawn == "2024-01-01T00:00:00Z"


def test_cli_format_names_match_the_importers() -> None:
    from hullscan.cli import db
    from hullscan.vulndb import feeds

    assert db.FORMATS == tuple(feeds.FORMATS)


def test_import_upserts_unless_replace(tmp_path: Path, hs) -> None:
    db = tmp_path / "db.sqlite"
    v = ALPINE
    assert hs("db", "import", str(v / "v3.10"), "--db", str(db))[0] == 0
    assert hs("db", "import", str(v / "v3.11"), "--db", str(db))[0] == 0
    with open_reader(db) as d:
        assert {"Alpine:v3.10", "Alpine:v3.11"} <= d.ecosystems()
        # CVE-2019-1547 in openssl: v3.10/main.yaml says 1.1.1d-r0, v3.11/main.yaml 1.1.1d-r1;
        # the second import keeps the first one's row
        got = d.affected_for([("Alpine:v3.10", "openssl"), ("Alpine:v3.11", "openssl")])
        for key, fixed in ((("Alpine:v3.10", "openssl"), "1.1.1d-r0"), (("Alpine:v3.11", "openssl"), "1.1.1d-r1")):
            assert [r.fixed_versions for r in got[key] if r.advisory_id == "CVE-2019-1547"] == [[fixed]]
    # --replace: the alpine feed is now exactly what this import read
    assert hs("db", "import", "--replace", str(v / "v3.11"), "--db", str(db))[0] == 0
    with open_reader(db) as d:
        assert d.ecosystems() == {"Alpine:v3.11"}


def test_unreachable_postgres_is_exit_4_without_rebuild_hint(hs) -> None:
    code, out, err = hs("db", "status", "--db", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
    assert code == 4 and "cannot connect" in err and "rebuild" not in err


def test_a_new_db_and_an_export_are_private_and_a_device_is_never_a_db(tmp_path: Path, hs) -> None:
    import os
    import stat

    db = tmp_path / "db.sqlite"
    assert hs("db", "import", str(FIX / "epss_scores-2023-03-20.csv"), "--db", str(db))[0] == 0
    assert hs("db", "export", str(tmp_path / "db.bundle"), "--db", str(db))[0] == 0
    assert stat.S_IMODE(db.stat().st_mode) == stat.S_IMODE((tmp_path / "db.bundle").stat().st_mode) == 0o600
    if os.geteuid() != 0:
        return  # creating a character device needs root
    null = tmp_path / "null"  # /dev/null's numbers, in tmp_path: the real one is never at risk
    os.mknod(null, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
    for args in (("import", str(FIX / "epss_scores-2023-03-20.csv")), ("import", "--rebuild", str(FIX / "epss_scores-2023-03-20.csv")),
                 ("status",)):
        code, out, err = hs("db", *args, "--db", str(null))
        assert code == 4 and "not a vulnerability DB file" in err, (args, err)
        assert stat.S_ISCHR(null.lstat().st_mode)
