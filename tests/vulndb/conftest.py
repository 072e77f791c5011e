"""Fixtures for the vulnerability DB tests: a SQLite DB built from the real feed files in
tests/vulndb/testdata, and a throwaway PostgreSQL schema (dropped afterwards) on 127.0.0.1:5432 db `test`."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vulndb_testdata import ALPINE, KEV, TESTDATA, VUNNEL, debian_list_text, dsa_list_cut  # noqa: E402

from testsupport import (  # noqa: E402
    PG_BASE,  # noqa: E402
    missing,
    require_module,
)

#: Real feed files the unit tests import (tests/vulndb/testdata; the benchmark imports all of it).
SUBSET = (
    "debian-tracker/data/DSA/list.gz",
    "debian-tracker/data/DLA/list.gz",
    "alpine-secdb/v3.10",
    "osv-pypi/sample",
    "osv-go/sample",
    "rustsec/sample/crates",
    "rubysec/sample",
    "kev/known_exploited_vulnerabilities.json",
)


def subset_paths() -> list[Path]:
    return [TESTDATA / p for p in SUBSET]


@pytest.fixture(scope="session")
def subset() -> list[Path]:
    """The SUBSET paths."""
    return subset_paths()


@pytest.fixture(scope="session")
def subset_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite DB file holding SUBSET (built once per session; tests open it read-only)."""
    from hullscan.vulndb import importer
    from hullscan.vulndb.store import VulnDB

    path = tmp_path_factory.mktemp("vulndb") / "subset.sqlite"
    summary = importer.read(subset_paths())
    with VulnDB.open(path, create=True) as db:
        importer.write(db, summary)
    return path


@pytest.fixture(scope="session")
def reader_feeds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Real feed files of every kind (DSA/list cut after DSA-4685-1 to keep PostgreSQL quick), the
    vunnel NVD records (enrichment: advisories merged over feeds) and an EPSS file."""
    tmp = tmp_path_factory.mktemp("readerfeeds")
    dsa_list_cut(tmp)
    v = TESTDATA
    return [tmp / "DSA/list", ALPINE / "v3.10", v / "osv-pypi/sample", v / "osv-go/sample",
            v / "rustsec/sample/crates", v / "rubysec/sample", VUNNEL, KEV,
            Path(__file__).resolve().parent / "fixtures/epss_scores-2023-03-20.csv"]


@pytest.fixture(scope="session")
def lite(reader_feeds: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite DB holding `reader_feeds` (tests open it read-only)."""
    from hullscan.vulndb import importer
    from hullscan.vulndb.store import VulnDB

    path = tmp_path_factory.mktemp("reader") / "feeds.sqlite"
    with VulnDB.open(path, create=True) as db:
        importer.write(db, importer.read(reader_feeds))
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of an empty PostgreSQL schema unique to this test; dropped afterwards."""
    psycopg = require_module("psycopg")
    schema = f"hs_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        missing(f"PostgreSQL not reachable at {PG_BASE}: {err}")
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ----------------------------------------------------------------- local feed server


class Feeds:
    """Files served (the bytes upstream publishes), and per path a queue of misbehaviours to play
    before serving normally."""

    def __init__(self) -> None:
        v = TESTDATA
        self.files: dict[str, bytes] = {
            "/kev.json": (v / "kev/known_exploited_vulnerabilities.json").read_bytes(),
            "/alpine/v3.10/main.yaml": (v / "alpine-secdb/v3.10/main.yaml").read_bytes(),
            "/alpine/v3.10/community.yaml": (v / "alpine-secdb/v3.10/community.yaml").read_bytes(),
            # stored gzip-compressed in the repository; the tracker serves the plain text
            "/debian/DSA/list": debian_list_text(v / "debian-tracker/data/DSA/list.gz").encode(),
            "/go/golang-vulndb-osv.tar.gz": (v / "osv-go/golang-vulndb-osv.tar.gz").read_bytes(),
        }
        self.script: dict[str, list[str]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        self.etag = '"v1"'
        self.nvd_pages: dict[int, bytes] = {}  # startIndex -> NVD API 2.0 page


def _handler(feeds: Feeds) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            feeds.log.append((self.path, dict(self.headers)))
            todo = feeds.script.get(self.path) or []
            action = todo.pop(0) if todo else "ok"
            if action == "500":
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if action.startswith("429:"):
                self.send_response(429)
                self.send_header("Retry-After", action.split(":", 1)[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/nvd?"):
                from urllib.parse import parse_qs, urlsplit

                start = int(parse_qs(urlsplit(self.path).query)["startIndex"][0])
                body = feeds.nvd_pages[start]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body = feeds.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == feeds.etag:
                self.send_response(304)
                self.send_header("ETag", feeds.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", feeds.etag)
            self.send_header("Last-Modified", "Mon, 25 Aug 2025 00:00:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if action == "truncate":
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return H


@pytest.fixture
def server() -> Iterator[tuple[str, Feeds]]:
    feeds = Feeds()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(feeds))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", feeds
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def hs(capsys: pytest.CaptureFixture[str]):
    """Run `hullscan ARGS...` in-process through the real entry point: (exit code, stdout, stderr)."""
    import sys

    from hullscan.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        old = sys.argv
        sys.argv = ["hullscan", *args]
        code = 0
        try:
            main()
        except SystemExit as ex:
            code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
        finally:
            sys.argv = old
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
