"""The EOL table (vulndb/eol.py): lookups in the built-in table and in real endoflife.date responses, the
`eol` feed imported and fetched by `db update` from a local server replaying real responses, and bad
responses skipped and counted. Every expected date is read by hand from the files named in
tests/vulndb/testdata/eol/PROVENANCE.md (quoted beside each assertion), never from the code under test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hullscan.model.inventory import EndOfLife, OSInfo
from hullscan.vulndb import importer
from hullscan.vulndb.eol import PRODUCTS, builtin, db_table, judge, parse_cycles, product_of_file
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.sources import DEFAULT_FEEDS, EOL_PRODUCTS, SOURCES
from hullscan.vulndb.store import VulnDB
from hullscan.vulndb.update import update

EOL = Path(__file__).resolve().parent / "testdata" / "eol"
TODAY = "2026-12-07"


def _os(family: str, release: str, version: str = "", name: str = "", ecosystem: str = "") -> OSInfo:
    return OSInfo(family, name or f"{family} {release}", version or release, release, ecosystem=ecosystem)


def test_products_are_the_sources() -> None:
    assert set(EOL_PRODUCTS) == set(PRODUCTS.values())
    assert [u for u, _ in SOURCES["eol"]] == [f"https://endoflife.date/api/{p}.json" for p in EOL_PRODUCTS]
    assert "eol" in DEFAULT_FEEDS


def test_builtin_table_agrees_with_the_real_responses() -> None:
    """The built-in table (transcribed from the endoflife.date repository) against the live API's answers
    that reached this repository by other routes."""
    table = builtin()
    assert table.date == "2026-08-22"
    rhel = json.loads((EOL / "rhel.json").read_text())  # Linuxfabrik's copy of api/rhel.json, 2026-08-18
    for item in rhel:
        got = table.cycles[("rhel", item["cycle"])]
        assert (got.eol, got.support, got.extended) == (item["eol"], item["support"], item["extendedSupport"])
    for item in json.loads((EOL / "fedora.json").read_text()):
        if item["cycle"] in ("38", "39", "40", "41", "42"):
            assert table.cycles[("fedora", item["cycle"])].eol == item["eol"]
    # vunnel's v1 records (fetched 2026-03-12): debian@8 "eolFrom": "2018-06-17", "eoesFrom": "2020-06-30";
    # rhel@7 "eolFrom": "2024-06-30", "eoesFrom": "2029-05-31"
    for name, product, cycle in (("debian@8", "debian", "8"), ("rhel@7", "rhel", "7")):
        item = json.loads((EOL / "vunnel" / f"{name}.json").read_text())["item"]
        got = table.cycles[(product, cycle)]
        assert (got.eol, got.extended) == (item["eolFrom"], item["eoesFrom"])
    # rhel@9: "eolFrom": "2032-05-31" holds; its ELS end moved since March ("eoesFrom": "2035-05-31" then,
    # "extendedSupport": "2036-05-31" in August's api/rhel.json above): a table is as of its date
    item = json.loads((EOL / "vunnel" / "rhel@9.json").read_text())["item"]
    assert (table.cycles[("rhel", "9")].eol, item["eoesFrom"]) == (item["eolFrom"], "2035-05-31")


def test_lookups() -> None:
    table = builtin()
    # Debian: LTS is free and the tracker carries it, so support ends with LTS: 10 "extendedSupport": "2024-06-30"
    life = table.lifecycle(_os("debian", "10"))
    assert life == EndOfLife("2024-06-30", "https://endoflife.date/debian", "2026-08-22", "")
    # RHEL 7: "eol": "2024-06-30", ELS (sold) until "extendedSupport": "2029-05-31"
    assert table.lifecycle(_os("rhel", "7")) == EndOfLife("2024-06-30", "https://endoflife.date/rhel", "2026-08-22",
                                                          "2029-05-31")
    # Ubuntu 20.04: "eol": "2025-05-31", ESM "extendedSupport": "2030-04-02"; an image with ESM enabled gets ESM's
    assert table.lifecycle(_os("ubuntu", "20.04")).extended == "2030-04-02"  # type: ignore[union-attr]
    esm = table.lifecycle(_os("ubuntu", "20.04", ecosystem="Ubuntu:Pro:20.04:LTS"))
    assert esm is not None and (esm.date, esm.extended) == ("2030-04-02", "")
    # Alpine's branch v3.19 is cycle "3.19": "eol": "2025-11-01"
    assert table.lifecycle(_os("alpine", "v3.19")).date == "2025-11-01"  # type: ignore[union-attr]
    # Amazon Linux 1 is release "1" of VERSION_ID 2018.03: cycle "2018.03", "eol": "2023-12-31"
    assert table.lifecycle(_os("amazon", "1", version="2018.03")).date == "2023-12-31"  # type: ignore[union-attr]
    # unknown: a release the table lacks, a rolling distro, a family endoflife.date does not list
    assert table.lifecycle(_os("debian", "99")) is None
    assert table.lifecycle(OSInfo("wolfi", "Wolfi", "20230201", "", ecosystem="Wolfi")) is None
    assert table.lifecycle(_os("azurelinux", "3.0")) is None


def test_judge_on_a_day() -> None:
    table = builtin()
    old = judge(_os("debian", "10"), table, TODAY)
    assert old is not None and old.eol is not None and old.eol.date == "2024-06-30" and old.support is None
    current = judge(_os("debian", "13"), table, TODAY)  # trixie: LTS until "2030-06-30"
    assert current is not None and current.eol is None and current.support is not None
    assert current.support.date == "2030-06-30"
    assert judge(_os("debian", "12"), table, "2028-06-29").eol is None  # type: ignore[union-attr]
    assert judge(_os("debian", "12"), table, "2028-06-30").eol is not None  # type: ignore[union-attr]  # the day itself


def test_feed_import_and_db_table(tmp_path: Path) -> None:
    summary = importer.read([EOL / "rhel.json"])
    batch = summary.batches["eol"]
    assert sorted(c for _, c in batch.eol) == ["10", "4", "5", "6", "7", "8", "9"] and not batch.skipped
    reader = MemoryReader(summary.batches.values())
    table = db_table(reader.eol_cycles(), "2026-12-01T10:00:00Z")
    assert table is not None and table.date == "2026-12-01"
    rhel7 = judge(_os("rhel", "7"), table, TODAY)
    assert rhel7 is not None and rhel7.eol == EndOfLife("2024-06-30", "https://endoflife.date/rhel", "2026-12-01",
                                                         "2029-05-31")
    db = tmp_path / "db.sqlite"
    with VulnDB.open(db, create=True) as store:
        importer.write(store, importer.read([EOL / "rhel.json", EOL / "fedora.json"]))
        importer.write(store, importer.read([EOL / "rhel.json"]))  # one product again: the other stays
    with open_reader(db) as r:
        cycles = r.eol_cycles()
        assert {c.product for c in cycles} == {"rhel", "fedora"} and len(cycles) == 7 + 44
        state = r.feed("eol")
        assert state is not None and state.records == 51


def test_malformed_cycles_are_skipped_and_counted() -> None:
    reasons: list[str] = []
    doc = [{"cycle": "9", "eol": "2032-05-31"}, {"eol": "2020-01-01"}, {"cycle": "8", "eol": "soon"},
           "text", {"cycle": "7", "eol": True}, {"cycle": 6, "eol": "2020-11-30", "extendedSupport": False}]
    got = parse_cycles("rhel", doc, lambda where, why: reasons.append(f"{where}: {why}"))
    assert [(c.cycle, c.eol, c.extended) for c in got] == [("9", "2032-05-31", None), ("6", "2020-11-30", None)]
    assert len(reasons) == 4
    with pytest.raises(ValueError):
        parse_cycles("rhel", {"cycle": "9"}, lambda *a: None)
    assert product_of_file("eol-0-rhel.json") == "rhel" and product_of_file("api/debian.json") == "debian"
    assert product_of_file("eol-nodejs.json") is None


class _Server:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []


@pytest.fixture
def eol_server() -> Iterator[tuple[str, _Server]]:
    state = _Server({"/api/rhel.json": (EOL / "rhel.json").read_bytes(),
                     "/api/fedora.json": (EOL / "fedora.json").read_bytes(),
                     "/api/debian.json": b'[{"cycle": "10", "eol": "not a date"}, {"cycle": "12", "eol": "2026-07-11",'
                                         b' "extendedSupport": "2028-06-30"}]'})

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.asked.append(self.path)
            body = state.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_db_update_fetches_the_eol_feed(eol_server: tuple[str, _Server], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = eol_server
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    db = tmp_path / "db.sqlite"
    urls = {"eol": [f"{base}/api/{p}.json" for p in ("rhel", "fedora", "debian")]}
    result = update(str(db), ["eol"], urls=urls)
    [outcome] = result.outcomes
    assert outcome.status == "updated", outcome.message
    assert outcome.batch is not None and outcome.batch.skipped == 1  # debian 10's "not a date"
    assert sorted(state.asked) == ["/api/debian.json", "/api/fedora.json", "/api/rhel.json"]
    with open_reader(db) as r:
        cycles = {(c.product, c.cycle): c for c in r.eol_cycles()}
        assert len(cycles) == 7 + 44 + 1
        assert cycles[("debian", "12")].extended == "2028-06-30"
        state_row = r.feed("eol")
        assert state_row is not None and state_row.fetched_at is not None
        table = db_table(list(cycles.values()), state_row.fetched_at)
    assert table is not None
    fedora = judge(_os("fedora", "40"), table, TODAY)  # "cycle": "40", "eol": "2025-05-13"
    assert fedora is not None and fedora.eol is not None and fedora.eol.date == "2025-05-13"
