"""The read interface the matchers use (`read.open_reader`), on a DB imported from real feed files; a
missing, corrupt or foreign DB refused by the writer (`VulnDB.open`) as by the reader.

Expected values are read off the feed files by hand (quoted in comments), never computed by the importer.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from vulndb_testdata import DLA_COUNT, DSA_COUNT, KEV_COUNT

from hullscan.errors import DatabaseError
from hullscan.vulndb.model import AffectedRecord
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB


def _by_id(recs: list[AffectedRecord], adv_id: str) -> list[AffectedRecord]:
    return [r for r in recs if r.advisory_id == adv_id]


def test_debian_dsa_fixed_version_by_source_package_and_release(subset_db: Path) -> None:
    # DSA/list: "[14 May 2020] DSA-4685-1 apt - security update / {CVE-2020-3810} /
    #            [stretch] - apt 1.4.10 / [buster] - apt 1.8.2.1"
    with open_reader(subset_db) as db:
        got = db.affected_for([("Debian:10", "apt"), ("Debian:9", "apt")])
        (b,) = _by_id(got[("Debian:10", "apt")], "DSA-4685-1")
        (s,) = _by_id(got[("Debian:9", "apt")], "DSA-4685-1")
        adv = db.advisories(["DSA-4685-1"])["DSA-4685-1"]
    assert (b.status, b.fixed_versions, b.feed) == ("fixed", ["1.8.2.1"], "debian")
    assert b.ranges == [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.8.2.1"}]}]
    assert s.fixed_versions == ["1.4.10"]
    assert adv.aliases == ["CVE-2020-3810"] and adv.published == "2020-05-14"
    assert adv.summary == "apt - security update"


def test_debian_list_statuses(subset_db: Path) -> None:
    # DSA/list: "[lenny] - vlc <not-affected> (Vulnerable code not present)" and
    #           "[jessie] - virtualbox <end-of-life>"
    with open_reader(subset_db) as db:
        vlc = db.affected_for([("Debian:5", "vlc")])[("Debian:5", "vlc")]
        vb = db.affected_for([("Debian:8", "virtualbox")])[("Debian:8", "virtualbox")]
    assert "not_affected" in {r.status for r in vlc}
    assert "end_of_life" in {r.status for r in vb}


def test_alpine_secdb_origin_package_per_branch(subset_db: Path) -> None:
    # alpine-secdb/v3.10/main.yaml: openssl secfixes 1.1.1d-r0: [CVE-2019-1547, CVE-2019-1549, CVE-2019-1563]
    with open_reader(subset_db) as db:
        recs = db.affected_for([("Alpine:v3.10", "openssl")])[("Alpine:v3.10", "openssl")]
        assert db.affected_for([("Alpine:v3.9", "openssl")])[("Alpine:v3.9", "openssl")] == []
    for cve in ("CVE-2019-1547", "CVE-2019-1549", "CVE-2019-1563"):
        (r,) = _by_id(recs, cve)
        assert r.fixed_versions == ["1.1.1d-r0"] and r.status == "fixed" and r.feed == "alpine"


def test_pypi_names_are_pep503_and_ranges_kept(subset_db: Path) -> None:
    # osv-pypi/sample/vulns/django/PYSEC-2024-69.yaml: events introduced 5.0, fixed 5.0.8, introduced 4.2,
    # fixed 4.2.15; 23 explicit versions starting "4.2", 4.2.1, 4.2.10
    with open_reader(subset_db) as db:
        got = db.affected_for([("PyPI", "Django"), ("pypi", "DJANGO")])
        adv = db.advisories(["PYSEC-2024-69"])["PYSEC-2024-69"]
    assert got[("PyPI", "Django")] == got[("pypi", "DJANGO")]
    (r,) = _by_id(got[("PyPI", "Django")], "PYSEC-2024-69")
    assert r.package == "django" and r.ecosystem == "PyPI"
    assert r.ranges[0]["events"] == [{"introduced": "5.0"}, {"fixed": "5.0.8"}, {"introduced": "4.2"}, {"fixed": "4.2.15"}]
    assert r.fixed_versions == ["5.0.8", "4.2.15"]
    assert len(r.versions) == 23 and r.versions[:3] == ["4.2", "4.2.1", "4.2.10"]
    assert adv.aliases == ["CVE-2024-41991"] and adv.published == "2024-08-07T15:15:00Z"


def test_rustsec_requirements_become_events(subset_db: Path) -> None:
    # RUSTSEC-2021-0124 (tokio): patched [">= 1.8.4, < 1.9.0", ">= 1.13.1"], unaffected ["< 0.1.14"]
    # -> affected from 0.1.14 until 1.8.4, and from 1.9.0 until 1.13.1
    with open_reader(subset_db) as db:
        (r,) = _by_id(db.affected_for([("crates.io", "tokio")])[("crates.io", "tokio")], "RUSTSEC-2021-0124")
        adv = db.advisories(["RUSTSEC-2021-0124"])["RUSTSEC-2021-0124"]
    assert r.ranges == [{"type": "SEMVER", "events": [
        {"introduced": "0.1.14"}, {"fixed": "1.8.4"}, {"introduced": "1.9.0"}, {"fixed": "1.13.1"}]}]
    assert sorted(adv.aliases) == ["CVE-2021-45710", "GHSA-fg7r-2g4j-5cgr"]
    assert adv.summary == "Data race when sending and receiving after closing a `oneshot` channel"


def test_rubysec_gem_requirements(subset_db: Path) -> None:
    # rubysec/sample/gems/nokogiri/GHSA-xc9x-jj77-9p9j.yml: ghsa xc9x-jj77-9p9j (no cve: key),
    # patched ["~> 1.15.6", ">= 1.16.2"], related.cve [2024-25062]
    with open_reader(subset_db) as db:
        recs = db.affected_for([("RubyGems", "nokogiri")])[("RubyGems", "nokogiri")]
        aliases = db.aliases_of(["CVE-2024-25062"])
    (r,) = _by_id(recs, "GHSA-xc9x-jj77-9p9j")
    assert r.ranges == [{"type": "ECOSYSTEM", "events": [
        {"introduced": "0"}, {"fixed": "1.15.6"}, {"introduced": "1.16"}, {"fixed": "1.16.2"}]}]
    assert "GHSA-xc9x-jj77-9p9j" in aliases["CVE-2024-25062"]


def test_kev_entry(subset_db: Path) -> None:
    # kev: CVE-2021-44228 Apache Log4j2, dateAdded 2021-12-10, dueDate 2021-12-24, ransomware "Known"
    with open_reader(subset_db) as db:
        k = db.kev(["CVE-2021-44228", "CVE-1999-9999"])
    assert set(k) == {"CVE-2021-44228"}
    e = k["CVE-2021-44228"]
    assert (e.vendor, e.product, e.date_added, e.due_date, e.ransomware) == (
        "Apache", "Log4j2", "2021-12-10", "2021-12-24", True)


def test_ecosystems_feeds_and_age(subset_db: Path) -> None:
    with open_reader(subset_db) as db:
        ecos = db.ecosystems()
        feeds = {f.feed: f for f in db.feeds()}
        assert db.built_at is not None and db.age is not None and db.age.total_seconds() >= 0
    assert {"Debian:10", "Debian:9", "Alpine:v3.10", "PyPI", "Go", "crates.io", "RubyGems"} <= ecos
    # DSA/list holds 5,406 DSAs and DLA/list 3,534 DLAs; the KEV file 131 CVEs (vulndb_testdata.py)
    assert feeds["debian"].advisories == DSA_COUNT + DLA_COUNT
    assert feeds["kev"].records == KEV_COUNT


def test_go_osv_record(subset_db: Path) -> None:
    # osv-go/sample/GO-2020-0001.json: github.com/gin-gonic/gin, fixed 1.6.0 (SEMVER)
    with open_reader(subset_db) as db:
        recs = db.affected_for([("Go", "github.com/gin-gonic/gin")])[("Go", "github.com/gin-gonic/gin")]
    (r,) = _by_id(recs, "GO-2020-0001")
    assert r.fixed_versions == ["1.6.0"] and r.ranges[0]["type"] == "SEMVER"


# ----------------------------------------------------------------- missing / corrupt / foreign DBs


def test_missing_db_is_database_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no vulnerability DB"):
        VulnDB.open(tmp_path / "none.sqlite")


def test_garbage_file_is_database_error(tmp_path: Path) -> None:
    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"this is not a database\n" * 10)
    with pytest.raises(DatabaseError, match="rebuild"):
        VulnDB.open(p)


def test_foreign_sqlite_is_database_error(tmp_path: Path) -> None:
    p = tmp_path / "other.sqlite"
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(DatabaseError, match="foreign"):
        VulnDB.open(p)
    with pytest.raises(DatabaseError, match="foreign"):
        VulnDB.open(p, create=True)  # never writes into someone else's DB
    VulnDB.open(p, create=True, rebuild=True).close()  # --rebuild replaces it
    VulnDB.open(p).close()


def test_other_schema_version_is_database_error(tmp_path: Path) -> None:
    p = tmp_path / "old.sqlite"
    VulnDB.open(p, create=True).close()
    with sqlite3.connect(p) as c:
        c.execute("UPDATE hs_meta SET value='0' WHERE key='schema_version'")
    with pytest.raises(DatabaseError, match="schema version"):
        VulnDB.open(p)


def test_truncated_db_file_is_database_error(subset_db: Path, tmp_path: Path) -> None:
    p = tmp_path / "cut.sqlite"
    p.write_bytes(subset_db.read_bytes()[:8192])
    with pytest.raises(DatabaseError):
        with open_reader(p) as db:
            db.affected_for([("Debian:10", "apt")])
    with pytest.raises(DatabaseError):
        VulnDB.open(p, create=True)  # nor does the writer write into it


def test_cli_exit_4_with_rebuild_hint(tmp_path: Path) -> None:
    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"\x00garbage" * 100)
    r = subprocess.run([sys.executable, "-m", "hullscan", "db", "status", "--db", str(p)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 4, r.stderr
    assert "rebuild" in r.stderr and "Traceback" not in r.stderr


def test_release_spellings_and_duplicate_pairs(subset_db: Path) -> None:
    # os-release says VERSION_ID=3.10.4 for Alpine; secdb rows live in Alpine:v3.10
    with open_reader(subset_db) as db:
        got = db.affected_for([("Alpine:3.10.4", "openssl"), ("Alpine:v3.10", "openssl"), ("Alpine:v3.10", "openssl")])
    assert got[("Alpine:3.10.4", "openssl")] == got[("Alpine:v3.10", "openssl")]
    ids = [r.advisory_id for r in got[("Alpine:v3.10", "openssl")]]
    assert "CVE-2019-1547" in ids and len(ids) == len({(r.advisory_id, str(r.ranges)) for r in got[("Alpine:v3.10", "openssl")]})
