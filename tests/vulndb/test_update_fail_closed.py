"""`db update` fails closed (issue 20): an update in which every feed failed leaves the previous DB exactly
as it was, or no DB where there was none, and ends in one line (exit 3 for the network, 2 when every
download arrived but none could be read); a partial failure keeps the feeds that worked; a scan against
a DB that holds no advisories is exit 4. Against a real HTTP server on 127.0.0.1 serving the real feed
files of tests/vulndb/testdata (conftest.py `server`), a closed port, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from vulndb_testdata import KEV_COUNT

from hullscan.errors import FetchError, InputError
from hullscan.http import RetryPolicy
from hullscan.vulndb.download import Downloader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB
from hullscan.vulndb.update import update

Feeds = Any  # the local feed server's state (tests/vulndb/conftest.py)
IMAGE = Path(__file__).resolve().parents[1] / "image/testdata/alpine-3.10.docker-save.tar.gz"
#: alpine-secdb/v3.10/main.yaml's first entry, read by hand: ansible fixed CVE-2019-10206 in 2.8.4-r0
ANSIBLE = ("Alpine:v3.10", "ansible")


def _closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dl() -> Downloader:
    return Downloader(policy=RetryPolicy(attempts=2, backoff=0.01, jitter=0), sleep=lambda s: None, timeout=5)


def _urls(base: str) -> dict[str, list[str]]:
    return {"kev": [f"{base}/kev.json"],
            "alpine": [f"{base}/alpine/v3.10/main.yaml", f"{base}/alpine/v3.10/community.yaml"]}


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home / "xdg-cache"), "XDG_DATA_HOME": str(home / "xdg-data"),
           "HULLSCAN_HTTP_BACKOFF": "0.01"}
    env.pop("HULLSCAN_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "hullscan", *args], capture_output=True, text=True, timeout=300, env=env)


def _update_args(db: str, urls: dict[str, list[str]]) -> list[str]:
    args = ["db", "update", "--db", db]
    for feed, lst in urls.items():
        args += ["--feed", feed] + [a for u in lst for a in ("--feed-url", f"{feed}={u}")]
    return args


def _ansible(v: Any) -> set[tuple[str, str]]:
    """CVE-2019-10206 of ansible in the Alpine v3.10 rows, with its fixed version."""
    return {(r.advisory_id, f) for r in v.affected_for([ANSIBLE])[ANSIBLE] if r.advisory_id == "CVE-2019-10206"
            for f in r.fixed_versions}


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("hullscan: error:")]


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_ino


# ------------------------------------------------------------------------------------------ SQLite


def test_no_network_leaves_no_db_and_scans_still_refuse(tmp_path: Path) -> None:
    """The issue's reproduction: before, an empty DB was left and the next scan passed with "Total: 0"."""
    db = tmp_path / "data" / "db.sqlite"
    base = f"http://127.0.0.1:{_closed_port()}"
    run = _cli(*_update_args(str(db), _urls(base)), home=tmp_path)
    assert run.returncode == 3, run.stderr
    errors = _error_lines(run.stderr)
    assert len(errors) == 1 and "every feed" in errors[0] and "no DB was created" in errors[0], run.stderr
    assert "Traceback" not in run.stderr
    assert not db.exists() and not list(db.parent.glob(".db.sqlite.update-*"))  # no DB, no staging file
    scan = _cli("image", str(IMAGE), "--db", str(db), "--no-cache", home=tmp_path)
    assert scan.returncode == 4 and "no vulnerability DB" in scan.stderr, scan.stderr


@pytest.mark.parametrize("failure", ["500", "garbage"])
def test_every_feed_failing_keeps_the_previous_db_byte_for_byte(server: tuple[str, Feeds], tmp_path: Path,
                                                                  failure: str) -> None:
    base, feeds = server
    db = tmp_path / "db.sqlite"
    first = _cli(*_update_args(str(db), _urls(base)), home=tmp_path)
    assert first.returncode == 0, first.stderr
    before = _fingerprint(db)
    feeds.etag = '"v2"'  # upstream changed: every feed downloads again, and every download fails
    for path in ("/kev.json", "/alpine/v3.10/main.yaml", "/alpine/v3.10/community.yaml"):
        if failure == "500":
            feeds.script[path] = ["500"] * 10
        else:
            feeds.files[path] = b"<html>\x00\x01 this is not a feed </html>\n" * 10
    run = _cli(*_update_args(str(db), _urls(base)), home=tmp_path)
    # the network failed: 3; every download arrived but none could be read (an unreadable feed): 2
    assert run.returncode == (3 if failure == "500" else 2), run.stderr
    errors = _error_lines(run.stderr)
    assert len(errors) == 1 and f"the DB at {db} is unchanged" in errors[0], run.stderr
    assert _fingerprint(db) == before  # not a byte, not a timestamp, not the inode
    assert not list(tmp_path.glob(".db.sqlite.update-*"))
    with open_reader(db) as v:
        assert v.feed("kev").last_error is None and v.feed("kev").records == KEV_COUNT


def test_partial_failure_keeps_the_feeds_that_worked(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    db = tmp_path / "db.sqlite"
    update(str(db), ["kev"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    feeds.etag = '"v2"'
    feeds.script["/kev.json"] = ["500"] * 10
    r = update(str(db), ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    assert [o.status for o in r.outcomes] == ["failed", "updated"]
    with open_reader(db) as v:
        kev = v.feed("kev")
        assert kev.records == KEV_COUNT and kev.last_error and "HTTP 500" in kev.last_error  # kept, error recorded
        assert _ansible(v) == {("CVE-2019-10206", "2.8.4-r0")}  # the feed that worked is in


def test_every_feed_failing_raises_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    base = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(FetchError, match="every feed"):
        update(str(db), ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    assert not db.exists()


def test_rebuild_with_every_feed_failing_keeps_the_old_db(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    db = tmp_path / "db.sqlite"
    update(str(db), ["kev"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    before = _fingerprint(db)
    feeds.files["/kev.json"] = b"{not json"
    with pytest.raises(InputError, match="unchanged"):
        update(str(db), ["kev"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c", rebuild=True)
    assert _fingerprint(db) == before


def test_a_db_without_advisories_is_exit_4_for_a_scan(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    VulnDB.open(db, create=True).close()  # a valid DB of this schema, holding nothing
    scan = _cli("image", str(IMAGE), "--db", str(db), "--no-cache", home=tmp_path)
    assert scan.returncode == 4, scan.stderr
    lines = scan.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds no advisories" in lines[0] and "hullscan db update" in lines[0], scan.stderr
    status = _cli("db", "status", "--db", str(db), home=tmp_path)  # `db status` still shows it
    assert status.returncode == 0 and "(empty)" in status.stdout, status.stderr
    # the scanners that need no DB are not refused
    lic = _cli("image", str(IMAGE), "--db", str(db), "--no-cache", "--scanners", "license", "--quiet", home=tmp_path)
    assert lic.returncode == 0, lic.stderr


# -------------------------------------------------------------------------------------- PostgreSQL


def _pg_tables(url: str) -> set[str]:
    import psycopg

    base, _, _ = url.partition("?")
    schema = url.rsplit("%3D", 1)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        return {r[0] for r in rows}


def _pg_state(url: str) -> tuple[dict[str, int], list[tuple[Any, ...]], str]:
    with open_reader(url) as v:
        return v.counts(), [astuple(f) for f in v.feeds()], str(v.built_at)


@pytest.mark.postgres
def test_pg_no_db_left_when_every_feed_fails(pg_url: str, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(FetchError, match="no DB was created"):
        update(pg_url, ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    assert _pg_tables(pg_url) == set()  # the tables created for the update were rolled back with it


@pytest.mark.postgres
@pytest.mark.parametrize("rebuild", [False, True])
def test_pg_previous_db_untouched_when_every_feed_fails(server: tuple[str, Feeds], pg_url: str, tmp_path: Path,
                                                        rebuild: bool) -> None:
    base, feeds = server
    update(pg_url, ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    before = _pg_state(pg_url)
    assert before[0]["hs_kev"] == KEV_COUNT
    feeds.etag = '"v2"'
    for path in ("/kev.json", "/alpine/v3.10/main.yaml", "/alpine/v3.10/community.yaml"):
        feeds.script[path] = ["500"] * 10
    with pytest.raises(FetchError, match="unchanged"):
        update(pg_url, ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c", rebuild=rebuild)
    assert _pg_state(pg_url) == before  # rows, feed states (no error recorded) and built_at


@pytest.mark.postgres
def test_pg_partial_failure_keeps_the_feeds_that_worked(server: tuple[str, Feeds], pg_url: str, tmp_path: Path) -> None:
    base, feeds = server
    update(pg_url, ["kev"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    feeds.etag = '"v2"'
    feeds.files["/kev.json"] = b"garbage"
    r = update(pg_url, ["kev", "alpine"], urls=_urls(base), downloader=_dl(), cache=tmp_path / "c")
    assert [o.status for o in r.outcomes] == ["failed", "updated"]
    with open_reader(pg_url) as v:
        kev = v.feed("kev")
        assert kev.records == KEV_COUNT and kev.last_error
        assert _ansible(v) == {("CVE-2019-10206", "2.8.4-r0")}


@pytest.mark.postgres
def test_pg_db_without_advisories_is_exit_4_for_a_scan(pg_url: str, tmp_path: Path) -> None:
    VulnDB.open(pg_url, create=True).close()
    scan = _cli("image", str(IMAGE), "--db", pg_url, "--no-cache", home=tmp_path)
    assert scan.returncode == 4, scan.stderr
    lines = scan.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds no advisories" in lines[0] and "hullscan db update" in lines[0], scan.stderr
