"""Warm scans through the CLI: a blob verified in a file that has not changed since is not re-hashed
(image/identity.py), and a whole result is reused only while the image, the options, the secret
rules, the DB and hullscan's code are the same (scan_cache.py). Expected findings come from a
`--no-cache` scan of the same image, never from the cache under test."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from imagehelp import FEEDS, REPO, example_db, modules_loaded, run_cli, settle, validate_report

EXAMPLE = REPO / "examples" / "alpine-3.10-django"


def _scan(target: Path, db: Path, cache: Path | None, *extra: str):
    args = ["image", str(target), "--format", "json", "--quiet", "--db", str(db)]
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    run = run_cli(*args, *extra)
    assert "Traceback" not in run.stderr, run.stderr
    if run.code in (0, 1):
        validate_report(run.report)
    return run


def _findings(report: dict) -> list:
    return sorted((v["id"], v["package"]["name"], v["package"]["version"], v["status"], v.get("fixed_version"))
                  for v in report["vulnerabilities"])


def _blob_files(cache: Path) -> int:
    with sqlite3.connect(cache / "layers.db") as db:
        return db.execute("SELECT COUNT(*) FROM blob_locations").fetchone()[0]


@pytest.fixture()
def setup(tmp_path):
    image = tmp_path / "image"
    shutil.copytree(EXAMPLE, image)
    return image, example_db(tmp_path / "vuln.db"), tmp_path / "cache"


def test_warm_scan_reuses_the_result_and_rehashes_nothing(setup):
    image, db, cache = setup
    expected = _scan(image, db, None)
    assert expected.code == 0, expected.stderr
    assert _findings(expected.report), "the example image has findings (Django 2.2 and its lockfile)"
    cold = _scan(image, db, cache)
    assert cold.report["stats"]["walked"] == 2 and not cold.report["stats"].get("result_cached")
    assert _blob_files(cache) == 2  # both layers verified while walked, their files remembered
    warm = _scan(image, db, cache)
    assert warm.code == 0, warm.stderr
    assert warm.report["stats"]["result_cached"] is True and warm.report["stats"]["walked"] == 0
    for key in ("packages", "vulnerabilities", "secrets", "history", "os", "layers", "base_image", "warnings", "verdict"):
        assert warm.report[key] == expected.report[key], key
    assert warm.report["target"] == expected.report["target"]


def test_a_rewritten_blob_is_rehashed_and_refused_even_with_its_mtime_put_back(setup):
    image, db, cache = setup
    assert _scan(image, db, cache).code == 0
    assert _scan(image, db, cache).report["stats"]["result_cached"] is True
    index = json.loads((image / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((image / "blobs" / "sha256" / manifest_digest).read_text())
    blob = image / "blobs" / "sha256" / manifest["layers"][-1]["digest"].split(":")[1]
    st = blob.stat()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    blob.write_bytes(bytes(data))
    os.utime(blob, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r`: only ctime tells
    run = _scan(image, db, cache)
    assert run.code == 2, (run.code, run.stdout[:300])
    assert "digest" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_another_db_gives_new_findings_not_the_cached_ones(setup, tmp_path):
    image, _db, cache = setup
    db = tmp_path / "alpine-only.db"
    r = run_cli("db", "import", str(FEEDS / "alpine-secdb"), str(FEEDS / "kev"), "--db", str(db))
    assert r.code == 0, r.stderr
    settle()
    first = _scan(image, db, cache)
    assert _scan(image, db, cache).report["stats"]["result_cached"] is True
    assert not any(v["package"]["ecosystem"] == "PyPI" for v in first.report["vulnerabilities"])
    r = run_cli("db", "import", str(FEEDS / "osv-pypi"), "--db", str(db))  # the same file, updated in place
    assert r.code == 0, r.stderr
    after = _scan(image, db, cache)
    assert not after.report["stats"].get("result_cached")
    assert any(v["package"]["ecosystem"] == "PyPI" for v in after.report["vulnerabilities"])
    assert _findings(after.report) == _findings(_scan(image, db, None).report)


@pytest.mark.parametrize("extra", [("--scanners", "vuln"), ("--pkg-types", "os"), ("--scanners", "secret,config")])
def test_options_that_change_findings_are_part_of_the_key(setup, extra):
    image, db, cache = setup
    _scan(image, db, cache)  # the default options' result is cached
    settle()
    first = _scan(image, db, cache, *extra)
    assert not first.report["stats"].get("result_cached")
    again = _scan(image, db, cache, *extra)
    assert again.report["stats"]["result_cached"] is True
    expected = _scan(image, db, None, *extra).report
    for key in ("vulnerabilities", "secrets", "misconfigurations", "scanners"):
        assert first.report[key] == again.report[key] == expected[key], key


def test_a_changed_secret_rules_file_is_part_of_the_key(setup, tmp_path):
    image, db, cache = setup
    rules = tmp_path / "secret.yaml"
    rules.write_text("disable-rules: []\n")
    assert _scan(image, db, cache, "--secret-config", str(rules)).code == 0
    assert _scan(image, db, cache, "--secret-config", str(rules)).report["stats"]["result_cached"] is True
    rules.write_text("disable-rules: [aws-access-key-id]\n")
    assert not _scan(image, db, cache, "--secret-config", str(rules)).report["stats"].get("result_cached")


def test_policy_and_display_filters_apply_to_a_cached_result(setup, tmp_path):
    image, db, cache = setup
    _scan(image, db, cache)
    policy = tmp_path / "policy.yaml"
    policy.write_text("fail_on: {severity: LOW}\n")
    assert _scan(image, db, None, "--policy", str(policy)).code == 1  # what a fresh scan decides
    run = _scan(image, db, cache, "--policy", str(policy))
    assert run.report["stats"]["result_cached"] is True
    assert run.code == 1 and run.report["verdict"]["passed"] is False
    shown = _scan(image, db, cache, "--severity", "CRITICAL")
    assert shown.report["stats"]["result_cached"] is True
    assert {v["severity"] for v in shown.report["vulnerabilities"]} <= {"CRITICAL"}


def test_a_damaged_cached_result_is_a_miss_not_an_error(setup):
    image, db, cache = setup
    expected = _scan(image, db, None)
    _scan(image, db, cache)
    with sqlite3.connect(cache / "layers.db") as conn:
        assert conn.execute("UPDATE results SET data = ?", (b"\x78\x01garbage",)).rowcount == 1
    run = _scan(image, db, cache)
    assert run.code == 0 and not run.report["stats"].get("result_cached")
    assert _findings(run.report) == _findings(expected.report)
    assert _scan(image, db, cache).report["stats"]["result_cached"] is True  # stored again


def test_a_touched_blob_is_hashed_again_and_the_result_reused(setup):
    image, db, cache = setup
    _scan(image, db, cache)
    assert _scan(image, db, cache).report["stats"]["result_cached"] is True
    blob = max((image / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    os.utime(blob)  # new mtime and ctime, same bytes
    settle()
    again = _scan(image, db, cache)  # its identity changed: hashed again, then the same result
    assert again.code == 0 and again.report["stats"]["result_cached"] is True
    assert _blob_files(cache) == 2  # one row per blob location: the new identity replaced the old
    assert _findings(again.report) == _findings(_scan(image, db, None).report)


def test_a_warm_scan_loads_no_heavy_module(setup):
    """What a warm scan costs is mostly imports (bench/README.md "Full scan"): printed as a table or as
    JSON it loads no orjson (which brings dataclasses, inspect, ast and uuid along: the JSON writer splices
    the cached packages' bytes into the stdlib's rendering of the rest), no dataclasses, no OpenSSL, no
    pathlib, no typing."""
    image, db, cache = setup
    assert _scan(image, db, cache).code == 0
    heavy = {"dataclasses", "inspect", "ast", "uuid", "orjson", "hashlib", "_hashlib", "pathlib", "typing", "tempfile",
             "shutil", "yaml", "rich", "sqlalchemy", "httpx", "packageurl", "hullscan.walk.walker", "hullscan.vulndb.reader"}
    for fmt in ("table", "json"):
        loaded = modules_loaded("image", str(image), "--format", fmt, "--quiet", "--db", str(db), "--cache-dir", str(cache),
                                "--output", str(cache / f"report.{fmt}"))
        assert "hullscan.scan.result_cache" in loaded, "the module list was read"
        assert heavy & loaded == set(), (fmt, sorted(heavy & loaded))
    assert json.loads((cache / "report.json").read_text())["stats"]["result_cached"] is True


def _without_moment(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if not any(f'"{k}":' in line for k in ("created_at", "seconds", "walked", "cached", "result_cached", "age_days"))]


def test_warm_json_output_is_the_cold_output_byte_for_byte(setup):
    """A warm scan printed as JSON passes the cached packages through as rendered JSON
    (json_report.PackagesJSON): the file must be the one a cold scan writes, indentation included,
    but for what belongs to the moment."""
    image, db, cache = setup
    for name in ("cold", "warm"):
        run = run_cli("image", str(image), "--format", "json", "--quiet", "--db", str(db), "--cache-dir", str(cache),
                      "--output", str(cache.parent / f"{name}.json"))
        assert run.code == 0 and not run.stderr, run.stderr
    warm_text = (cache.parent / "warm.json").read_text()
    assert json.loads(warm_text)["stats"]["result_cached"] is True
    assert _without_moment(warm_text) == _without_moment((cache.parent / "cold.json").read_text())
    assert '"packages": [\n    {\n      "id": "pkg-' in warm_text


def test_a_licence_rule_judges_the_cached_packages(setup):
    """With a licence rule the gate reads the packages, so a warm scan unpacks them as a list."""
    image, db, cache = setup
    policy = cache.parent / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  licenses:\n    deny: [GPL-2.0-only]\n")
    runs = [_scan(image, db, cache, "--policy", str(policy)) for _ in range(2)]
    assert [r.report["stats"].get("result_cached", False) for r in runs] == [False, True]
    for run in runs:
        assert run.code == 1, run.stderr
        failed = {rule["rule"]: rule["findings"] for rule in run.report["verdict"]["failed_rules"]}
        assert any("alpine-baselayout" in f for f in failed["fail_on.licenses"]), failed
    assert runs[0].report["verdict"] == runs[1].report["verdict"]
