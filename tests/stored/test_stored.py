"""Stored inventories end to end: `hullscan image --store`, `hullscan stored list|show|rm|prune`, `stored:`
targets, on SQLite (through the CLI) and PostgreSQL (through state/inventories.py). Images and what the
tests expect of them: conftest.py.

Expected findings (examples/feeds records, derived by hand as tests/delta/test_diff_cli.py does):
    app1   sqlparse 0.4.1: PYSEC-2021-333 [0.4.0, 0.4.2) → CVE-2021-32839; PYSEC-2023-87/GHSA-rrm6-wvj7-cwh2
           [0.1.15, 0.4.4) → CVE-2023-30608. Base A (real Alpine 3.10.4 DB) has musl 1.1.22-r3, openssl
           1.1.1d-r2, busybox 1.30.1-r3…: every secfix of alpine-secdb v3.10 main is at or below them.
    other  musl 1.1.22-r2 in base B: alpine-secdb v3.10 main `musl: 1.1.22-r3: [CVE-2019-14697]` → affected
           (musl and musl-utils, both of origin musl); sqlparse 0.4.4 is past both sqlparse fixes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from storedhelp import HULLSCAN, TOKEN, Images, as_json, hullscan

from testsupport import REPO

SCHEMA = json.loads((REPO / "docs" / "stored.schema.json").read_text())


def _validate(doc: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


@pytest.fixture(scope="module")
def scanned(images: Images, run_env: dict[str, str], vulndb: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each image scanned once with --store into a fresh SQLite store; the JSON reports by name."""
    root = tmp_path_factory.mktemp("scanned")
    state = str(root / "state.sqlite")
    reports = {}
    for name in ("app1", "app2", "other", "app2b"):
        out = root / f"{name}.json"
        p = hullscan(run_env, "image", getattr(images, name), "--db", vulndb, "--store", "--state", state,
                     "-f", "json", "-o", str(out))
        assert p.returncode == 0, p.stderr
        assert "stored inventory stored:sha256:" in p.stderr
        reports[name] = json.loads(out.read_text())
    return {"state": state, "reports": reports}


def _rows(state: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(state) as conn:
        return conn.execute(sql, args).fetchall()


def _key(report: dict[str, Any]) -> str:
    return report["target"]["manifest_digest"] or report["target"]["config_digest"]


def test_shared_base_stored_once(scanned: dict[str, Any], images: Images, run_env: dict[str, str], vulndb: str) -> None:
    state = scanned["state"]
    layers = dict(_rows(state, "SELECT diff_id, package_count FROM stored_layer"))
    # five distinct layers (two bases, three app layers) among four images; app2b reuses app2's two
    assert set(layers) == {images.layers[n] for n in ("base_a", "base_b", "app1", "app2", "other")}
    assert layers[images.layers["base_a"]] == len(images.base_a_packages) == 14
    assert layers[images.layers["app1"]] == 1  # sqlparse
    assert _rows(state, "SELECT count(*) FROM stored_image") == [(4,)]
    holders = _rows(state, "SELECT count(*) FROM stored_image_layer i JOIN stored_layer l ON l.id = i.layer_id "
                            "WHERE l.diff_id = ?", images.layers["base_a"])
    assert holders == [(3,)]  # app1, app2, app2b reference one copy
    # the (ecosystem, name) index: every package name and every origin (source) name of base A, once
    names = {p["P"] for p in images.base_a_packages} | {p["o"] for p in images.base_a_packages}
    indexed = _rows(state, "SELECT p.ecosystem, p.name FROM stored_layer_package p JOIN stored_layer l ON l.id = p.layer_id "
                           "WHERE l.diff_id = ?", images.layers["base_a"])
    assert sorted(indexed) == sorted(("Alpine", n) for n in names)  # the ecosystem without its release (index_key)
    # app2b: a docker save without a manifest digest, stored under its config digest, with both tags
    key = _key(scanned["reports"]["app2b"])
    assert key == scanned["reports"]["app2b"]["target"]["config_digest"]
    names_b = _rows(state, "SELECT n.name FROM stored_image_name n JOIN stored_image i ON i.id = n.image_id "
                           "WHERE i.image_key = ? ORDER BY n.name", key)
    assert names_b == [("example/app:2",), ("example/app:two",)]
    # storing the same image again updates it: no new image, layer or index row
    before = _rows(state, "SELECT first_seen, last_seen FROM stored_image WHERE image_key = ?", _key(scanned["reports"]["app1"]))
    counts = [_rows(state, f"SELECT count(*) FROM {t}") for t in ("stored_image", "stored_layer", "stored_layer_package",
                                                                  "stored_image_layer", "stored_image_name")]
    for _ in range(2):  # the second from the result cache (the first fills it: the DB was new at the first scan)
        p = hullscan(run_env, "image", images.app1, "--db", vulndb, "--store", "--state", state, "-f", "json", "-o",
                     str(Path(state).with_name("again.json")))
    assert p.returncode == 0 and "updated stored inventory" in p.stderr, p.stderr
    assert "(0 layers written, 2 shared)" in p.stderr
    # a warm scan (the whole result from the result cache) stores what a cold one did
    assert json.loads(Path(state).with_name("again.json").read_text())["stats"]["result_cached"] is True
    assert [_rows(state, f"SELECT count(*) FROM {t}") for t in ("stored_image", "stored_layer", "stored_layer_package",
                                                                "stored_image_layer", "stored_image_name")] == counts
    after = _rows(state, "SELECT first_seen, last_seen FROM stored_image WHERE image_key = ?", _key(scanned["reports"]["app1"]))
    assert after[0][0] == before[0][0] and after[0][1] >= before[0][1]


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON report without what differs between two scans of one image: time, how it was given, stats —
    and each finding's `reachability`, assessed from the walk's facts, which a stored inventory does not
    keep (a stored scan, like an SBOM's, leaves it unset)."""
    out = {k: v for k, v in doc.items() if k not in ("created_at", "stats")}
    out["target"] = {k: v for k, v in doc["target"].items() if k != "input"}
    out["vulnerabilities"] = [{k: v for k, v in f.items() if k != "reachability"} for f in doc["vulnerabilities"]]
    return out


@pytest.mark.parametrize("name", ["app1", "other", "app2b"])
def test_stored_target_same_findings(scanned: dict[str, Any], run_env: dict[str, str], vulndb: str, name: str) -> None:
    original = scanned["reports"][name]
    key = _key(original)
    again = as_json(hullscan(run_env, "image", f"stored:{key[:19]}", "--db", vulndb, "--state", scanned["state"],
                             "-f", "json"))
    assert again["target"]["input"] == f"stored:{key}"
    assert again["stats"]["walked"] == 0
    assert _comparable(again) == _comparable(original)
    ids = sorted({(v["id"], v["package"]["name"]) for v in again["vulnerabilities"]})
    expected = {"app1": [("CVE-2021-32839", "sqlparse"), ("CVE-2023-30608", "sqlparse")],
                "other": [("CVE-2019-14697", "musl"), ("CVE-2019-14697", "musl-utils")],
                "app2b": [("CVE-2024-3651", "idna")]}[name]
    assert ids == expected


def test_a_secret_is_never_stored_raw(scanned: dict[str, Any]) -> None:
    secret = TOKEN.read_text().strip().partition("=")[2]
    raw = Path(scanned["state"]).read_bytes()
    wal = Path(scanned["state"] + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert secret[8:].encode() not in raw
    # the compressed columns too: inflate every document and layer
    blobs = [r[0] for r in _rows(scanned["state"], "SELECT document FROM stored_image")]
    blobs += [r[0] for r in _rows(scanned["state"], "SELECT packages FROM stored_layer")]
    inflated = b"".join(zlib.decompress(b) for b in blobs)
    assert secret[8:].encode() not in inflated
    assert b"/app/.env" in inflated and b"github-fine-grained-pat" in inflated  # the masked finding is kept


def test_unknown_and_ambiguous_digest(scanned: dict[str, Any], run_env: dict[str, str], vulndb: str) -> None:
    p = hullscan(run_env, "image", "stored:sha256:" + "0" * 64, "--db", vulndb, "--state", scanned["state"])
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no stored image has this digest" in p.stderr
    p = hullscan(run_env, "stored", "show", "nothex", "--state", scanned["state"])
    assert p.returncode == 2 and p.stderr.count("\n") == 1


def test_list_show_json(scanned: dict[str, Any], run_env: dict[str, str], images: Images) -> None:
    state = scanned["state"]
    doc = as_json(hullscan(run_env, "stored", "list", "--state", state, "-f", "json"))
    _validate(doc)
    assert len(doc["images"]) == 4
    assert {i["repository"] for i in doc["images"]} == {"example/app", "example/other"}
    only = as_json(hullscan(run_env, "stored", "list", "--state", state, "-f", "json", "--repo", "example/other"))
    assert [i["digest"] for i in only["images"]] == [_key(scanned["reports"]["other"])]
    show = as_json(hullscan(run_env, "stored", "show", _key(scanned["reports"]["app1"]), "--state", state, "-f", "json"))
    _validate(show)
    img = show["image"]
    assert [(x["diff_id"], x["packages"]) for x in img["layers"]] == [(images.layers["base_a"], 14), (images.layers["app1"], 1)]
    assert img["secrets"] == 1 and img["packages"] == 15 and img["os"] == "alpine 3.10.4"
    table = hullscan(run_env, "stored", "show", _key(scanned["reports"]["app1"])[7:19], "--state", state)
    assert table.returncode == 0 and "example/app:1" in table.stdout


def test_rm_deletes_unshared_layers(images: Images, run_env: dict[str, str], vulndb: str, tmp_path: Path) -> None:
    state = str(tmp_path / "s.sqlite")
    keys = {}
    for name in ("app1", "other"):
        out = tmp_path / f"{name}.json"
        p = hullscan(run_env, "image", getattr(images, name), "--db", vulndb, "--store", "--state", state, "-o", str(out),
                     "-f", "json")
        assert p.returncode == 0, p.stderr
        keys[name] = _key(json.loads(out.read_text()))
    p = hullscan(run_env, "stored", "rm", keys["other"][7:20], "--state", state)
    assert p.returncode == 0 and p.stdout.strip() == f"removed stored:{keys['other']}"
    left = {r[0] for r in _rows(state, "SELECT diff_id FROM stored_layer")}
    assert left == {images.layers["base_a"], images.layers["app1"]}
    indexed = {r[0] for r in _rows(state, "SELECT DISTINCT l.diff_id FROM stored_layer_package p JOIN stored_layer l ON l.id = p.layer_id")}
    assert indexed == left
    p = hullscan(run_env, "stored", "rm", keys["other"], "--state", state)
    assert p.returncode == 2


def test_concurrent_stores(images: Images, run_env: dict[str, str], vulndb: str, tmp_path: Path) -> None:
    """Six scans storing at once (app1 twice) into one SQLite store: serialized writers, no duplicate."""
    state = str(tmp_path / "c.sqlite")
    targets = [images.app1, images.app2, images.other, images.app2b, images.app1, images.app2]
    procs = [subprocess.Popen([*HULLSCAN, "image", t, "--db", vulndb, "--store", "--state", state,
                               "-q", "-f", "json", "-o", str(tmp_path / f"{i}.json")],
                              env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, t in enumerate(targets)]
    for p in procs:
        _out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    assert _rows(state, "SELECT count(*) FROM stored_image") == [(4,)]
    assert _rows(state, "SELECT count(*) FROM stored_layer") == [(5,)]
    assert _rows(state, "SELECT count(*), count(DISTINCT image_id || '/' || idx) FROM stored_image_layer") == [(8, 8)]
    assert _rows(state, "PRAGMA integrity_check") == [("ok",)]


# -- the library on SQLite and PostgreSQL ----------------------------------------------------------------


def _reports(scanned: dict[str, Any]) -> dict[str, Any]:
    from hullscan.report.load import load_report

    return {n: load_report(d) for n, d in scanned["reports"].items()}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    from hullscan.state.store import open_state

    if request.param == "sqlite":
        st = open_state(str(tmp_path / "lib.sqlite"))
    else:
        url, schema = request.getfixturevalue("pg_schema")
        st = open_state(url, schema=schema)
    try:
        yield st
    finally:
        st.close()


def test_library_store_list_rm_prune(store: Any, scanned: dict[str, Any], images: Images) -> None:
    from hullscan.state import inventories as inv

    _check_migrations(store)
    reports = _reports(scanned)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    # example/app: app1 (day 0), app2 (day 1), app2b (day 2); example/other: other (day 0)
    for i, name in enumerate(("app1", "app2", "app2b")):
        assert inv.store_report(store, reports[name], now=day + timedelta(days=i)).new
    assert inv.store_report(store, reports["other"], now=day).new
    assert not inv.store_report(store, reports["app1"], now=day).new  # again: an update
    listed = inv.summaries(store)
    assert [s.key for s in listed][:2] == [_key(scanned["reports"]["app2b"]), _key(scanned["reports"]["app2"])]
    assert len(listed) == 4 and all(s.layer_count == 2 for s in listed)
    assert {s.key for s in inv.summaries(store, repository="example/app")} == {
        _key(scanned["reports"][n]) for n in ("app1", "app2", "app2b")}
    # which images hold a package: by name and by origin (source) name
    assert inv.holding(store, [("PyPI", "sqlparse")]) == {_key(scanned["reports"][n]) for n in ("app1", "other")}
    assert inv.holding(store, [("Alpine:v3.10", "openssl")]) == {_key(r) for r in scanned["reports"].values()}
    assert inv.holding(store, [("PyPI", "nothing")]) == set()
    # a loaded image is its scan's packages exactly (layers and `inherited` included)
    loaded = inv.load(store, _key(scanned["reports"]["other"])).report
    assert list(loaded.packages) == list(reports["other"].packages)
    assert [(p.layer, p.inherited) for p in loaded.packages] == [(p.layer, p.inherited) for p in reports["other"].packages]
    assert loaded.secrets == reports["other"].secrets and loaded.layers == reports["other"].layers
    # keep the last 1 per repository: app2b (example/app) and other (example/other) stay
    gone = inv.prune(store, keep_days=None, keep_last=1, now=day + timedelta(days=3))
    assert {s.key for s in gone} == {_key(scanned["reports"][n]) for n in ("app1", "app2")}
    assert {s.key for s in inv.summaries(store)} == {_key(scanned["reports"][n]) for n in ("app2b", "other")}
    assert inv.holding(store, [("PyPI", "sqlparse")]) == {_key(scanned["reports"]["other"])}  # app1's layer went
    # keep-days: `other` was seen on day 0, app2b on day 2; on day 4 keep 2.5 days: only app2b
    gone = inv.prune(store, keep_days=2.5, keep_last=None, now=day + timedelta(days=4))
    assert [s.key for s in gone] == [_key(scanned["reports"]["other"])]
    assert inv.remove(store, [_key(scanned["reports"]["app2b"])]) == 1
    assert inv.summaries(store) == []
    with store.read() as conn:
        from sqlalchemy import text

        assert [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in (
            "stored_layer", "stored_layer_package", "stored_image_layer", "stored_image_name")] == [0, 0, 0, 0]


def test_shared_layer_written_differently(store: Any, scanned: dict[str, Any]) -> None:
    """An image whose view of a shared layer differs from the stored copy (here: a package removed from its
    report) still loads exactly its own packages: the missing row hidden, nothing duplicated."""
    from hullscan.record import replace
    from hullscan.state import inventories as inv

    full = _reports(scanned)["app2"]
    fewer = replace(full, packages=[p for p in full.packages if p.name != "zlib"],
                    target=replace(full.target, manifest_digest="sha256:" + "1" * 64))
    inv.store_report(store, full)
    done = inv.store_report(store, fewer)
    assert (done.layers_written, done.layers_shared, done.own_packages) == (0, 2, 0)
    assert list(inv.load(store, "sha256:" + "1" * 64).report.packages) == list(fewer.packages)
    # the other order: the smaller view first; the full image then owns what the shared copy lacks
    inv.remove(store, [_key(scanned["reports"]["app2"]), "sha256:" + "1" * 64])
    inv.store_report(store, fewer)
    done = inv.store_report(store, full)
    assert done.own_packages == 1
    assert list(inv.load(store, _key(scanned["reports"]["app2"])).report.packages) == list(full.packages)


def _check_migrations(store: Any) -> None:
    """The models and the migrations describe the same tables (tests/base/test_catalog.py's check)."""
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from hullscan.state.location import HEAD
    from hullscan.state.models import Base
    from hullscan.state.store import MIGRATIONS, current_revision

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD]
    with store.read() as conn:
        assert current_revision(conn) == HEAD
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
