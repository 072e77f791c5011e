"""A damaged layer cache fails closed (issue 20): a damaged value in a valid cache file is a cache miss — the
layer is analyzed again, the entry overwritten, the packages those of an uncached scan, one warning — and
a damaged cache file is replaced once, with one warning, and not warned about again. Never a crash.

The image is a real one (testdata/alpine-3.10.docker-save.tar.gz, Trivy's test data); the damage is written
with sqlite3 straight into the cache file a first scan left. Expected packages come from a `--no-cache`
scan of the same image, never from the cache under test."""

from __future__ import annotations

import json
import marshal
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from imagehelp import run_cli, validate_report

IMAGE = Path(__file__).resolve().parent / "testdata/alpine-3.10.docker-save.tar.gz"


def _scan(cache: Path | None) -> dict[str, Any]:
    args = ["image", str(IMAGE), "--format", "json", "--quiet", "--scanners", "license"]  # no DB needed
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    run = run_cli(*args)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    report: dict[str, Any] = run.report
    validate_report(report)
    return report


def _cache_warnings(report: dict[str, Any]) -> list[str]:
    return [w["message"] for w in report["warnings"] if "cache" in w["message"]]


@pytest.fixture(scope="module")
def uncached() -> dict[str, Any]:
    report = _scan(None)
    assert len(report["packages"]) == 14  # `grep -c '^P:' lib/apk/db/installed` of the image's layer
    return report


@pytest.fixture()
def cache(tmp_path: Path, uncached: dict[str, Any]) -> Path:
    """A cache filled by one scan of the image (its packages checked against the uncached scan)."""
    d = tmp_path / "cache"
    first = _scan(d)
    assert first["packages"] == uncached["packages"] and not _cache_warnings(first)
    return d


def _rows(cache: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(cache / "layers.db") as db:
        return db.execute(f"SELECT rowid, data FROM {table}").fetchall()


def _damage(cache: Path, table: str, make: Any) -> int:
    """Replace every value of `table` by `make(old value)`; how many were replaced."""
    db = sqlite3.connect(cache / "layers.db")
    with db:
        rows = db.execute(f"SELECT rowid, data FROM {table}").fetchall()
        for rowid, data in rows:
            db.execute(f"UPDATE {table} SET data=? WHERE rowid=?", (make(data), rowid))
    db.close()
    return len(rows)


#: damaged JSON values (facts and layer metadata are zlib-compressed JSON)
JSON_DAMAGE = {
    "truncated zlib": lambda old: old[: len(old) // 2],
    "zlib of [1]": lambda old: zlib.compress(b"[1]"),
    'zlib of "s"': lambda old: zlib.compress(b'"s"'),
    "wrong shape": lambda old: zlib.compress(b'{"x":1}'),
    "not zlib": lambda old: b"\x00garbage",
}
#: the same kinds of damage for a stored result (zlib-compressed marshal)
RESULT_DAMAGE = {
    "truncated zlib": lambda old: old[: len(old) // 2],
    "zlib of [1]": lambda old: zlib.compress(marshal.dumps([1])),
    'zlib of "s"': lambda old: zlib.compress(marshal.dumps("s")),
    "wrong shape": lambda old: zlib.compress(marshal.dumps((["Report", 1, 2], b"x", None, 3))),
    "not zlib": lambda old: b"\x00garbage",
}


@pytest.mark.parametrize("table", ["facts", "layers"])
@pytest.mark.parametrize("kind", list(JSON_DAMAGE))
def test_a_damaged_entry_is_a_miss_analyzed_again_and_overwritten(cache: Path, uncached: dict[str, Any],
                                                                   table: str, kind: str) -> None:
    assert _damage(cache, table, JSON_DAMAGE[kind]) >= 1
    assert _damage(cache, "results", RESULT_DAMAGE[kind]) == 1  # else the whole result would be served
    second = _scan(cache)
    assert second["packages"] == uncached["packages"]
    assert second["stats"]["walked"] == 1 and second["stats"]["cached"] == 0
    warnings = _cache_warnings(second)
    assert len(warnings) == 1 and "damaged" in warnings[0], second["warnings"]
    assert [w for w in second["warnings"] if w["message"] not in warnings] == uncached["warnings"]
    # the entries were overwritten with good ones
    for _, data in _rows(cache, table):
        value = json.loads(zlib.decompress(data))
        assert isinstance(value, dict) and ("facts" in value if table == "facts" else "written" in value)
    third = _scan(cache)
    assert third["packages"] == uncached["packages"] and not _cache_warnings(third)
    assert third["stats"]["walked"] == 0 and third["stats"].get("result_cached") is True


@pytest.mark.parametrize("kind", list(RESULT_DAMAGE))
def test_a_damaged_result_is_a_miss_and_overwritten(cache: Path, uncached: dict[str, Any], kind: str) -> None:
    assert _damage(cache, "results", RESULT_DAMAGE[kind]) == 1
    second = _scan(cache)
    assert second["packages"] == uncached["packages"] and second["warnings"] == uncached["warnings"]
    assert second["stats"]["walked"] == 0 and not second["stats"].get("result_cached")  # the layer facts were good
    third = _scan(cache)
    assert third["packages"] == uncached["packages"] and third["stats"].get("result_cached") is True


def _garbage(cache: Path) -> None:
    (cache / "layers.db").write_bytes(b"this is not a SQLite file \x00\xff" * 2000)


def _truncated(cache: Path) -> None:
    with (cache / "layers.db").open("r+b") as fh:
        fh.truncate(4096)  # the header page only: every table's pages are gone


def _facts_page(cache: Path) -> None:
    """Garbage over the facts table's one page, after the stored result is dropped: the file opens
    (schema and meta are intact), and only reading the facts finds the damage."""
    db = sqlite3.connect(cache / "layers.db")
    with db:
        db.execute("DELETE FROM results")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name='facts'").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with (cache / "layers.db").open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)


@pytest.mark.parametrize("damage", [_garbage, _truncated, _facts_page], ids=["garbage", "truncated", "damaged page"])
def test_a_damaged_cache_file_is_replaced_once(cache: Path, uncached: dict[str, Any], damage: Any) -> None:
    for name in ("layers.db-wal", "layers.db-shm"):
        assert not (cache / name).exists()  # the first scan's last connection folded the WAL in
    damage(cache)
    second = _scan(cache)
    assert second["packages"] == uncached["packages"]
    warnings = _cache_warnings(second)
    assert len(warnings) == 1 and "damaged" in warnings[0], second["warnings"]
    third = _scan(cache)  # a new cache file: no warning, the packages still the same
    assert third["packages"] == uncached["packages"] and not _cache_warnings(third)
    with sqlite3.connect(cache / "layers.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fourth = _scan(cache)
    assert fourth["stats"].get("result_cached") is True and not _cache_warnings(fourth)
