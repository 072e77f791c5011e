"""`hullscan rescan` on real data (docs/rescan.md): images built here are stored against the OLDER slice of
the real PyPA advisory database (2023-06-05), the NEWER slice (2023-06-30) is imported, and the rescan must
say what changed — derived here from the record files alone (PyYAML + `packaging`, never hullscan's
matcher) — and agree with a fresh full scan. SQLite and PostgreSQL state stores.

The derivation (`_affected`): a record affects version v when v is in its `versions` list or in one of its
ECOSYSTEM ranges (`introduced` <= v < `fixed`, events in order), and it is not withdrawn. Worked by hand
on these slices it gives, per package of the images (conftest.py):
- redis 4.5.4: PYSEC-2023-73 (CVE-2023-31655) affects it in the old slice (4.5.4 is in `versions`); the new
  one withdraws it -> `withdrawn`. PYSEC-2023-45 (fixed 4.5.3) and -46 (fixed 4.5.4) never do.
- sqlparse 0.4.3: PYSEC-2023-87 (CVE-2023-30608, introduced 0.1.15, fixed 0.4.4) is new -> `new`.
- starlette 0.26.1: PYSEC-2023-83 (CVE-2023-29159, introduced 0.13.5, fixed 0.27.0) is new -> `new`.
- django 3.1.14: PYSEC-2023-61 (CVE-2023-31047) lists it in the old slice's `versions`; the new one lists
  only 4.x and ranges 4.0-4.1.9, 4.2-4.2.1 -> `no_longer_affected`.
- django 4.2: PYSEC-2023-61's new range 4.2-4.2.1 -> `new` (the old ranges end at 4.1.9).
- idna 3.6: no record names idna -> the image is untouched by the change.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version
from rescan_support import NEW, OLD, PACKAGES, Images, as_json, hullscan

from testsupport import REPO

SCHEMA = REPO / "src" / "hullscan" / "schemas" / "rescan.schema.json"
sys.path.insert(0, str(REPO / "tests" / "notify"))
from notify_support import Receiver  # noqa: E402

# ------------------------------------------------------------------ the expectation, from the records alone


def _records(root: Path) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for p in sorted(root.rglob("*.yaml")) for d in [yaml.safe_load(p.read_text())]}


def _affected(rec: dict[str, Any], name: str, version: str) -> bool:
    if rec.get("withdrawn"):
        return False
    v = Version(version)
    for a in rec["affected"]:
        if canonicalize_name(a["package"]["name"]) != canonicalize_name(name):
            continue
        if version in (a.get("versions") or []):
            return True
        for r in a.get("ranges") or []:
            if r["type"] != "ECOSYSTEM":
                continue
            inside = False
            for ev in r["events"]:
                if "introduced" in ev and (ev["introduced"] == "0" or Version(ev["introduced"]) <= v):
                    inside = True
                elif "fixed" in ev and Version(ev["fixed"]) <= v:
                    inside = False
            if inside:
                return True
    return False


def _ids(root: Path, name: str, version: str) -> set[str]:
    """The CVE each affecting record names (a finding goes by its CVE: docs/matching.md)."""
    return {next(a for a in rec["aliases"] if a.startswith("CVE-")) for rec in _records(root).values()
            if _affected(rec, name, version)}


def _expected(image: str) -> set[tuple[str, str, str]]:
    """(category, package, id) the rescan must report for an image, from the two slices."""
    withdrawn = {next(a for a in r["aliases"] if a.startswith("CVE-")) for r in _records(NEW).values() if r.get("withdrawn")}
    out = set()
    for name, version in PACKAGES[image]:
        old, new = _ids(OLD, name, version), _ids(NEW, name, version)
        out |= {("new", name, i) for i in new - old}
        out |= {("withdrawn" if i in withdrawn else "no_longer_affected", name, i) for i in old - new}
    return out


def test_the_derivation_gives_what_the_docstring_says() -> None:
    assert _expected("one") == {("withdrawn", "redis", "CVE-2023-31655"), ("new", "sqlparse", "CVE-2023-30608"),
                                ("new", "starlette", "CVE-2023-29159"), ("no_longer_affected", "django", "CVE-2023-31047")}
    assert _expected("two") == {("withdrawn", "redis", "CVE-2023-31655"), ("new", "sqlparse", "CVE-2023-30608"),
                                ("new", "starlette", "CVE-2023-29159"), ("new", "django", "CVE-2023-31047")}
    assert _expected("three") == set()


# ------------------------------------------------------------------ helpers


def _db(tmp_path: Path, env: dict[str, str], *slices: Path) -> str:
    db = str(tmp_path / "vuln.db")
    for s in slices:
        p = hullscan(env, "db", "import", str(s), "--db", db)
        assert p.returncode == 0, p.stderr
    return db


def _scan(env: dict[str, str], target: str, db: str, *extra: str) -> dict[str, Any]:
    return as_json(hullscan(env, "image", target, "--db", db, "-f", "json", *extra))


def _key(report: dict[str, Any]) -> str:
    return report["target"]["manifest_digest"] or report["target"]["config_digest"]


def _got(image: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(c["category"], c["package"]["name"], c["id"]) for c in image["changes"]}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    from hullscan.state.store import open_state

    if request.param == "sqlite":
        st = open_state(str(tmp_path / "state.sqlite"))
    else:
        url, schema = request.getfixturevalue("pg_schema")
        st = open_state(url, schema=schema)
    try:
        yield st
    finally:
        st.close()


def _rescan(store: Any, db: str, **kw: Any) -> dict[str, Any]:
    from hullscan.rescan.document import to_dict
    from hullscan.rescan.run import rescan
    from hullscan.vulndb.read import open_reader

    with open_reader(db) as reader:
        return to_dict(rescan(store, reader, **kw), "2027-01-01T00:00:00Z")


# ------------------------------------------------------------------ tests


def test_rescan_after_a_db_update(store: Any, images: Images, run_env: dict[str, str], tmp_path: Path) -> None:
    """(a) the delta derived from the records; (b) `new` == a fresh full scan's findings minus the first's."""
    from hullscan.report.load import load_report
    from hullscan.state.inventories import store_report

    db = _db(tmp_path, run_env, OLD)
    first = {n: _scan(run_env, getattr(images, n), db) for n in ("one", "two", "three")}
    for doc in first.values():
        store_report(store, load_report(doc))
    baseline = _rescan(store, db)  # the first rescan: the stored scans' findings against the same DB
    assert {i["action"] for i in baseline["images"]} == {"rematched"} and not any(i["changes"] for i in baseline["images"])
    _db(tmp_path, run_env, NEW)
    doc = _rescan(store, db)
    assert doc["mode"] == "incremental" and doc["summary"]["untouched"] == 1  # three: idna is in no record
    by_key = {i["key"]: i for i in doc["images"]}
    assert set(by_key) == {_key(first["one"]), _key(first["two"])}
    for name in ("one", "two"):
        image = by_key[_key(first[name])]
        assert image["action"] == "rematched" and image["reason"] == "changed"
        assert _got(image) == _expected(name)
        # (b) consistency: what is new is what a fresh scan finds that the first did not
        fresh = _scan(run_env, getattr(images, name), db)
        before = {(v["package"]["name"], v["id"]) for v in first[name]["vulnerabilities"]}
        after = {(v["package"]["name"], v["id"]) for v in fresh["vulnerabilities"]}
        assert {(p, i) for c, p, i in _got(image) if c == "new"} == after - before
        assert {(p, i) for c, p, i in _got(image) if c in ("withdrawn", "no_longer_affected")} == before - after
        assert image["notification_id"]
    # nothing changed since: every image is at the DB's generation; --full re-matches and finds the same
    again = _rescan(store, db)
    assert again["images"] == [] and again["summary"]["untouched"] == 3
    full = _rescan(store, db, full=True)
    assert full["mode"] == "full" and len(full["images"]) == 3 and not any(i["changes"] for i in full["images"])
    with store.read() as conn:  # one notification per changed image and DB change
        rows = conn.exec_driver_sql("SELECT image_digest, count(*) FROM notification GROUP BY image_digest").all()
    assert sorted(rows) == sorted((_key(first[n]), 1) for n in ("one", "two"))


POLICY = """\
fail_on:
  severity: UNKNOWN
exceptions:
  - id: CVE-2023-31655
    justification: "redis cluster mode unused"
    expires: 2027-12-31
  - id: CVE-2023-31047
    justification: "no FileField uploads"
    expires: 2027-01-10
"""


def test_exception_expired_and_pass_to_fail(store: Any, images: Images, run_env: dict[str, str], tmp_path: Path) -> None:
    """Image one's two findings at the old slice, both accepted by exceptions; the day after one expires
    (an injected day, no DB change) the rescan says `exception_expired` and the verdict goes pass -> fail."""
    from hullscan.policy.load import load_policy
    from hullscan.report.load import load_report
    from hullscan.state.inventories import store_report

    db = _db(tmp_path, run_env, OLD)
    (tmp_path / "policy.yaml").write_text(POLICY)
    policy = load_policy(str(tmp_path / "policy.yaml"))
    doc = _scan(run_env, images.one, db)
    assert {v["id"] for v in doc["vulnerabilities"]} == {"CVE-2023-31655", "CVE-2023-31047"}
    store_report(store, load_report(doc), policy, now=datetime(2027, 1, 5, tzinfo=UTC))
    start = _rescan(store, db, today=date(2027, 1, 6))
    assert start["images"][0]["verdict_change"] == "unchanged" and not start["images"][0]["changes"]
    assert _rescan(store, db, today=date(2027, 1, 9))["images"] == []  # nothing expired yet
    later = _rescan(store, db, today=date(2027, 1, 11))
    [image] = later["images"]
    assert image["action"] == "rejudged" and image["verdict_change"] == "pass_to_fail"
    assert _got(image) == {("exception_expired", "django", "CVE-2023-31047")}
    assert image["changes"][0]["moved"] == [{"field": "suppressed", "old": "exception", "new": ""}]


def test_cli_json_schema_gate_and_table(images: Images, run_env: dict[str, str], tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    db = _db(tmp_path, run_env, OLD)
    state = str(tmp_path / "state.sqlite")
    for name in ("one", "two", "three"):
        _scan(run_env, getattr(images, name), db, "--store", "--state", state)
    _db(tmp_path, run_env, NEW)
    p = hullscan(run_env, "rescan", "--all", "--db", db, "--state", state, "-f", "json", "--exit-code", "9",
                 "--severity", "UNKNOWN", "--no-notify")
    assert p.returncode == 9, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["summary"]["changes"]["new"] == 5 and doc["summary"]["changes"]["withdrawn"] == 2
    assert len(doc["gate"]["failed"]) == 5  # the new findings, at or above UNKNOWN
    assert (REPO / "docs" / "rescan.schema.json").resolve() == SCHEMA.resolve()
    # nothing new now: the gate passes; the table fits 80 columns
    p = hullscan({**run_env, "COLUMNS": "80"}, "rescan", "--all", "--full", "--db", db, "--state", state, "-f", "table",
                 "--exit-code", "9")
    assert p.returncode == 0, p.stderr
    assert "Gate passed" in p.stdout and max(len(line) for line in p.stdout.splitlines()) <= 80
    assert hullscan(run_env, "rescan", "--db", db, "--state", state).returncode == 2  # nothing selected


# ------------------------------------------------------------------ interrupted and concurrent rescans

_KILLER = textwrap.dedent("""
    import os, signal, sys
    from hullscan.rescan import run
    from hullscan.state.store import open_state
    from hullscan.vulndb.read import open_reader

    batch = run._batch
    def one_then_die(*args, **kw):
        out = batch(*args, **kw)          # the first batch's state and notification committed
        os.kill(os.getpid(), signal.SIGKILL)
    run._batch = one_then_die
    with open_state(sys.argv[1]) as store, open_reader(sys.argv[2]) as db:
        run.rescan(store, db, batch=1)
""")


def _notified(state: str) -> list[tuple[str, int]]:
    with sqlite3.connect(state) as conn:
        return conn.execute("SELECT image_digest, count(*) FROM notification GROUP BY image_digest").fetchall()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


def _prepared(images: Images, env: dict[str, str], tmp_path: Path, receiver: Receiver) -> tuple[str, str, set[str]]:
    db = _db(tmp_path, env, OLD)
    state = str(tmp_path / "state.sqlite")
    keys = {_key(_scan(env, getattr(images, n), db, "--store", "--state", state)) for n in ("one", "two", "three")}
    p = hullscan(env, "rescan", "--all", "--db", db, "--state", state, "-f", "json")  # the baseline
    assert p.returncode == 0, p.stderr
    p = hullscan(env, "notify", "add", receiver.url, "--state", state)
    assert p.returncode == 0, p.stderr
    _db(tmp_path, env, NEW)
    return db, state, keys


def test_killed_rescan_restarted_notifies_once(images: Images, run_env: dict[str, str], tmp_path: Path,
                                               receiver: Receiver) -> None:
    db, state, keys = _prepared(images, run_env, tmp_path, receiver)
    p = subprocess.run([sys.executable, "-c", _KILLER, state, db], env=run_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert len(_notified(state)) == 1  # the first image's batch committed, nothing after it
    doc = as_json(hullscan(run_env, "rescan", "--all", "--db", db, "--state", state, "-f", "json"))
    assert {i["action"] for i in doc["images"]} == {"rematched"} and len(doc["images"]) == 1  # only the one left
    assert sorted(n for _, n in _notified(state)) == [1, 1]  # each changed image once
    ids = [r.headers["x-hullscan-notification"] for r in receiver.got]
    assert len(ids) == len(set(ids)) == 2
    with sqlite3.connect(state) as conn:  # consistent: every image at the DB's generation
        gens = {g for (g,) in conn.execute("SELECT generation FROM rescan_state")}
    assert len(gens) == 1 and None not in gens
    assert as_json(hullscan(run_env, "rescan", "--all", "--db", db, "--state", state, "-f", "json"))["images"] == []
    assert len(keys) == 3


def test_two_rescans_at_once_notify_once(images: Images, run_env: dict[str, str], tmp_path: Path,
                                         receiver: Receiver) -> None:
    db, state, _keys = _prepared(images, run_env, tmp_path, receiver)
    args = [sys.executable, "-m", "hullscan", "rescan", "--all", "--db", db, "--state", state, "-f", "json"]
    procs = [subprocess.Popen(args, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    docs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        docs.append(json.loads(out))
    recorded = [i for d in docs for i in d["images"] if i["action"] == "rematched" and i["changes"]]
    assert len(recorded) == 2  # each changed image recorded by one of the two
    assert sorted(n for _, n in _notified(state)) == [1, 1]
    ids = [r.headers["x-hullscan-notification"] for r in receiver.got]
    assert len(ids) == len(set(ids)) == 2
    assert os.path.exists(state)
