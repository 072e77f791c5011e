"""`hullscan diff OLD NEW` end to end: two real OCI images built here (tests/image/builders.py) and a DB
of the demo feeds (examples/feeds). The expected delta is derived by hand from how the layers are built
and from the advisory records, never from hullscan's output.

Images (the same base layer, its base named by the OCI base annotations):
    old  layer 0 /etc/motd                       (base example/python:3.11-a, digest sha256:aaaa…)
         layer 1 sqlparse 0.4.1 (dist-info) + /app/.env holding Trivy's fake GitHub token (testdata/)
    new  layer 0 the same
         layer 1 sqlparse 0.4.4 (dist-info)       (base example/python:3.11-b, digest sha256:bbbb…)
         layer 2 idna 3.6 (dist-info)
Records (examples/feeds):
    PYSEC-2021-333  sqlparse [0.4.0, 0.4.2)   aliases CVE-2021-32839; no GHSA record in the feeds, no
                    severity → UNKNOWN. 0.4.1 affected, 0.4.4 not.
    PYSEC-2023-87 + GHSA-rrm6-wvj7-cwh2  sqlparse [0.1.15, 0.4.4)  CVE-2023-30608, GHSA word MODERATE →
                    MEDIUM. 0.4.1 affected, 0.4.4 not (the fix itself).
    PYSEC-2024-60 + GHSA-jjg7-2v4v-x38h  idna [0.1 | 0, 3.7)  CVE-2024-3651, GHSA MODERATE → MEDIUM, fix 3.7.
So old → new: sqlparse upgraded 0.4.1 → 0.4.4 (new layer 1), idna 3.6 added (layer 2), nothing removed
or unchanged; CVE-2021-32839 and CVE-2023-30608 fixed, CVE-2024-3651 introduced (MEDIUM, fix 3.7);
the secret (github-fine-grained-pat, CRITICAL, /app/.env line 1) removed; the base image changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from builders import f, layer, oci_image
from referencing import Registry, Resource

from testsupport import REPO

HULLSCAN = [sys.executable, "-m", "hullscan"]
FEEDS = REPO / "examples" / "feeds"
TOKEN = Path(__file__).parent / "testdata" / "github-token.txt"
SITE = "usr/lib/python3.11/site-packages"
BASE = "org.opencontainers.image.base"


def _dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("diff")
    base = layer([f("etc/motd", "welcome\n")], created_by="ADD base.tar /")
    old_app = layer([_dist("sqlparse", "0.4.1"), f("app/.env", TOKEN.read_bytes())], created_by="RUN pip install sqlparse")
    upgrade = layer([_dist("sqlparse", "0.4.4")], created_by="RUN pip install -U sqlparse")
    idna = layer([_dist("idna", "3.6")], created_by="RUN pip install idna")
    old = oci_image(root / "old", [base, old_app],
                    annotations={f"{BASE}.name": "example/python:3.11-a", f"{BASE}.digest": "sha256:" + "a" * 64})
    new = oci_image(root / "new", [base, upgrade, idna],
                    annotations={f"{BASE}.name": "example/python:3.11-b", f"{BASE}.digest": "sha256:" + "b" * 64})
    run_env = {**os.environ, "XDG_DATA_HOME": str(root / "data"), "XDG_CACHE_HOME": str(root / "cache")}
    for k in ("HULLSCAN_STATE_URL", "HULLSCAN_DB_URL", "NO_COLOR"):
        run_env.pop(k, None)
    db = root / "vuln.db"
    p = subprocess.run([*HULLSCAN, "db", "import", str(FEEDS), "--db", str(db)], capture_output=True, text=True,
                       env=run_env, timeout=300)
    assert p.returncode == 0, p.stderr
    policy = root / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  ids: [CVE-2024-3651]\n")
    return {"old": str(old), "new": str(new), "db": str(db), "env": run_env, "policy": str(policy),
            "layers": {"base": base.diff_id, "upgrade": upgrade.diff_id, "idna": idna.diff_id, "old_app": old_app.diff_id}}


def _diff(env: dict[str, Any], *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, "diff", *args, "--db", env["db"], "-q"], capture_output=True, text=True,
                          env={**env["env"], "COLUMNS": str(columns)}, timeout=300)


def _validator() -> jsonschema.Draft202012Validator:
    schemas = [json.loads((REPO / "docs" / name).read_text()) for name in ("diff.schema.json", "report.schema.json")]
    jsonschema.Draft202012Validator.check_schema(schemas[0])
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return jsonschema.Draft202012Validator(schemas[0], registry=registry)


def test_json_delta_by_hand(env: dict[str, Any]) -> None:
    r = _diff(env, env["old"], env["new"], "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    _validator().validate(doc)
    pk = doc["packages"]
    (up,) = pk["upgraded"]
    assert (up["type"], up["name"], up["old_version"], up["new_version"], up["downgrade"]) == (
        "pypi", "sqlparse", "0.4.1", "0.4.4", False)
    assert up["new"]["layer"]["index"] == 1 and up["new"]["layer"]["diff_id"] == env["layers"]["upgrade"]
    assert up["old"]["layer"]["diff_id"] == env["layers"]["old_app"]
    (added,) = pk["added"]
    assert (added["name"], added["version"], added["layer"]["index"], added["layer"]["diff_id"]) == (
        "idna", "3.6", 2, env["layers"]["idna"])
    assert pk["removed"] == [] and doc["summary"]["packages"]["unchanged"] == 0

    v = doc["vulnerabilities"]
    assert [(e["id"], e["severity"], e["finding"]["fixed_version"], e["finding"]["package"]["name"])
            for e in v["introduced"]] == [("CVE-2024-3651", "MEDIUM", "3.7", "idna")]
    assert sorted((e["id"], e["severity"]) for e in v["fixed"]) == [("CVE-2021-32839", "UNKNOWN"),
                                                                     ("CVE-2023-30608", "MEDIUM")]
    assert v["changed"] == [] and doc["summary"]["vulnerabilities"]["unchanged"] == 0

    assert doc["secrets"]["added"] == []
    (gone,) = doc["secrets"]["removed"]
    assert (gone["rule_id"], gone["severity"], gone["path"], gone["line"]["start"]) == (
        "github-fine-grained-pat", "CRITICAL", "/app/.env", 1)
    secret = TOKEN.read_text().strip().partition("=")[2]
    assert secret[8:] not in r.stdout  # masked: never the raw secret

    b = doc["base_image"]
    assert b["changed"] is True
    assert (b["old"]["name"], b["old"]["digest"]) == ("example/python:3.11-a", "sha256:" + "a" * 64)
    assert (b["new"]["name"], b["new"]["digest"]) == ("example/python:3.11-b", "sha256:" + "b" * 64)
    assert doc["verdict"]["change"] == "none"
    assert doc["gate"] == {"severity": None, "failed": True, "reasons": ["CVE-2024-3651 (idna 3.6)"]}


def test_schema_catches_a_wrong_shape(env: dict[str, Any]) -> None:
    """The referred report shapes are enforced (the registry resolves report.schema.json)."""
    doc = json.loads(_diff(env, env["old"], env["new"], "-f", "json").stdout)
    doc["packages"]["added"][0]["layer"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(doc)


def test_reverse_is_the_mirror(env: dict[str, Any]) -> None:
    doc = json.loads(_diff(env, env["new"], env["old"], "-f", "json").stdout)
    (down,) = doc["packages"]["upgraded"]
    assert (down["old_version"], down["new_version"], down["downgrade"]) == ("0.4.4", "0.4.1", True)
    assert [p["name"] for p in doc["packages"]["removed"]] == ["idna"]
    assert sorted(e["id"] for e in doc["vulnerabilities"]["introduced"]) == ["CVE-2021-32839", "CVE-2023-30608"]
    assert [e["id"] for e in doc["vulnerabilities"]["fixed"]] == ["CVE-2024-3651"]
    assert [s["rule_id"] for s in doc["secrets"]["added"]] == ["github-fine-grained-pat"]


@pytest.mark.parametrize(("order", "args", "code"), [
    ("forward", ["--exit-code", "9"], 9),  # CVE-2024-3651 (MEDIUM) is new: any severity counts
    ("forward", ["--exit-code", "9", "--severity", "MEDIUM"], 9),
    ("forward", ["--exit-code", "9", "--severity", "high"], 0),  # nothing new at HIGH or above (the secret went)
    ("forward", ["--exit-code", "9", "--severity", "HIGH,CRITICAL"], 0),  # Trivy's list: its lowest, HIGH
    ("forward", ["--severity", "MEDIUM"], 0),  # no --exit-code: never fails
    ("reverse", ["--exit-code", "9", "--severity", "CRITICAL"], 9),  # the secret comes back: CRITICAL
    ("reverse", ["--exit-code", "9", "--severity", "MEDIUM", "--scanners", "vuln"], 9),  # CVE-2023-30608
    ("reverse", ["--exit-code", "9", "--severity", "HIGH", "--scanners", "vuln"], 0),
])
def test_exit_code_threshold(env: dict[str, Any], order: str, args: list[str], code: int) -> None:
    targets = [env["old"], env["new"]] if order == "forward" else [env["new"], env["old"]]
    r = _diff(env, *targets, "-f", "json", *args)
    assert r.returncode == code, r.stderr
    assert json.loads(r.stdout)["gate"]["failed"] is (code != 0 or "--exit-code" not in args)


def test_policy_verdict_pass_to_fail(env: dict[str, Any]) -> None:
    """fail_on.ids [CVE-2024-3651]: old has no such finding (passes), new has it (fails)."""
    r = _diff(env, env["old"], env["new"], "-f", "json", "--policy", env["policy"], "--exit-code", "9",
              "--severity", "CRITICAL")
    assert r.returncode == 9, r.stderr  # nothing new at CRITICAL, but the verdict went from pass to fail
    doc = json.loads(r.stdout)
    assert doc["verdict"]["change"] == "pass_to_fail" and doc["summary"]["verdict"] == "pass_to_fail"
    assert doc["verdict"]["old"]["passed"] is True and doc["verdict"]["new"]["passed"] is False
    assert doc["gate"]["reasons"] == ["verdict: passed -> failed"]
    table = _diff(env, env["old"], env["new"], "-f", "table", "--policy", env["policy"])
    assert table.returncode == 0, table.stderr
    assert "verdict: passed -> FAILED" in table.stdout


def _width(line: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("columns", [80, 120])
def test_table_fits_and_keeps_ids(env: dict[str, Any], columns: int) -> None:
    r = _diff(env, env["old"], env["new"], "-f", "table", "--exit-code", "9", columns=columns)
    assert r.returncode == 9, r.stderr
    lines = r.stdout.splitlines()
    assert max(_width(x) for x in lines) <= columns, r.stdout
    assert "\x1b" not in r.stdout
    for vid in ("CVE-2024-3651", "CVE-2023-30608", "CVE-2021-32839", "github-fine-grained-pat"):
        assert vid in r.stdout
    assert "Packages: 1 added, 0 removed, 1 upgraded, 0 unchanged" in lines
    assert "Vulnerabilities: 1 introduced, 2 fixed, 0 changed, 0 unchanged" in lines
    assert "base image changed: example/python:3.11-a -> example/python:3.11-b" in lines
    assert any(line.startswith("Gate failed: CVE-2024-3651 (idna 3.6)") for line in lines)


def test_the_result_cache_serves_the_second_run(env: dict[str, Any], tmp_path: Path) -> None:
    """Each side goes through the scan service as `hullscan image` does: a second diff is served from the
    whole-result cache, which `hullscan image` then finds too (the same key)."""
    cache = tmp_path / "cache"
    first = _diff(env, env["old"], env["new"], "-f", "json", "--cache-dir", str(cache))
    second = _diff(env, env["old"], env["new"], "-f", "json", "--cache-dir", str(cache))
    assert first.returncode == second.returncode == 0, second.stderr

    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        for side in ("old", "new"):
            doc[side].pop("created_at")
        return doc

    assert strip(json.loads(first.stdout)) == strip(json.loads(second.stdout))
    image = subprocess.run([*HULLSCAN, "image", env["new"], "--db", env["db"], "-q", "-f", "json", "--cache-dir",
                            str(cache)], capture_output=True, text=True, env=env["env"], timeout=300)
    assert image.returncode == 0, image.stderr
    assert json.loads(image.stdout)["stats"]["result_cached"] is True


@pytest.mark.parametrize("bad", ["./no-such-image.tar", "oci:/no/such/layout"])
def test_bad_target_is_exit_2(env: dict[str, Any], bad: str) -> None:
    for targets in ([bad, env["new"]], [env["old"], bad]):
        r = _diff(env, *targets)
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_usage_errors_are_exit_2(env: dict[str, Any]) -> None:
    assert _diff(env, env["old"]).returncode == 2  # NEW missing
    r = _diff(env, env["old"], env["new"], "--severity", "SEVERE")
    assert r.returncode == 2 and "--severity" in r.stderr
    assert _diff(env, env["old"], env["new"], "-f", "sarif").returncode == 2

