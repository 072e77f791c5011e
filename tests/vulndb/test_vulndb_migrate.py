"""A DB of an older schema version is migrated in place by the next `db import`/`db update` (DESIGN:
never silently rebuilt), and a scan against it is exit 4 naming that command."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hullscan.vulndb import reader as R

FIX = Path(__file__).parent / "fixtures"
#: The tables of schema version 1 (the first release of the DB), as that release created them.
V1_TABLES = {"hs_meta", "hs_advisory", "hs_alias", "hs_affected", "hs_severity", "hs_cwe", "hs_reference",
             "hs_kev", "hs_epss", "hs_feed"}


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _as_v1(db: Path) -> None:
    """Turn a current DB into what schema version 1 left: its tables only, its version marker."""
    with sqlite3.connect(db) as c:
        for name in _tables(db) - V1_TABLES:
            c.execute(f'DROP TABLE "{name}"')
        c.execute("UPDATE hs_meta SET value='1' WHERE key='schema_version'")


def test_v1_db_is_refused_then_migrated_in_place(tmp_path: Path, hs) -> None:
    db = tmp_path / "db.sqlite"
    code, _, err = hs("db", "import", str(FIX / "alpine-v3.19-main.json"), "--db", str(db))
    assert code == 0, err
    _as_v1(db)
    code, out, err = hs("db", "status", "--db", str(db))
    assert code == 4 and "schema version '1'" in err and "migrates it in place" in err and "--rebuild" not in err

    code, _, err = hs("db", "import", str(FIX / "epss_scores-2023-03-20.csv"), "--db", str(db))
    assert code == 0, err
    assert _tables(db) == set(R.TABLES)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT value FROM hs_meta WHERE key='schema_version'").fetchone() == (R.SCHEMA_VERSION,)
    code, out, err = hs("db", "status", "--db", str(db), "--json")
    assert code == 0, err
    st = json.loads(out)
    # the alpine rows imported before the migration are kept: migrating is not rebuilding
    assert st["ecosystems"] == ["Alpine:v3.19"] and st["counts"]["hs_epss"] == 3


def test_unknown_older_version_still_needs_a_rebuild(tmp_path: Path, hs) -> None:
    db = tmp_path / "db.sqlite"
    assert hs("db", "import", str(FIX / "alpine-v3.19-main.json"), "--db", str(db))[0] == 0
    with sqlite3.connect(db) as c:
        c.execute("UPDATE hs_meta SET value='0' WHERE key='schema_version'")
    code, _, err = hs("db", "import", str(FIX / "epss_scores-2023-03-20.csv"), "--db", str(db))
    assert code == 4 and "--rebuild" in err
