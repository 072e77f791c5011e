"""The gate through the CLI on the example image: ./.hullscan.yaml and ./.trivyignore are found in the
working directory, the policy decides the exit code, --severity only changes what is shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = str(REPO / "examples" / "alpine-3.10-django")
# the demo's CRITICAL vulnerabilities: `database_specific.severity: CRITICAL` in their GitHub advisories
# (examples/feeds/ghsa-pypi: django GHSA-6r97, -vfq6, -hmr4, -2gwj, -w24h; pyyaml GHSA-8q59, -6757), read by hand
CRITICAL = ["CVE-2019-14234", "CVE-2019-19844", "CVE-2020-14343", "CVE-2020-1747", "CVE-2020-7471",
            "CVE-2022-28346", "CVE-2022-28347"]


def hullscan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hullscan", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("db") / "vuln.db")
    r = hullscan("db", "import", str(REPO / "examples" / "feeds"), "--db", path, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return path


def scan(cwd: Path, db: str, *extra: str) -> tuple[int, dict]:
    r = hullscan("image", IMAGE, "--db", db, "-f", "json", "-q", "--no-cache", *extra, cwd=cwd)
    assert r.returncode in (0, 1, 9), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_default_policy_file_and_trivyignore_in_the_working_directory(tmp_path, db):
    code, report = scan(tmp_path, db)
    assert code == 0 and report["verdict"]["gate"] is False
    critical = sorted({v["id"] for v in report["vulnerabilities"] if v["severity"] == "CRITICAL"})
    assert critical == CRITICAL

    (tmp_path / ".hullscan.yaml").write_text("fail_on: {severity: CRITICAL}\n")
    code, report = scan(tmp_path, db)
    assert code == 1 and report["verdict"]["passed"] is False
    failed = report["verdict"]["failed_rules"][0]
    assert failed["rule"] == "fail_on.severity" and {f.split()[0] for f in failed["findings"]} == set(CRITICAL)

    # --severity hides findings but does not change the verdict
    code, shown = scan(tmp_path, db, "--severity", "LOW")
    assert code == 1 and shown["vulnerabilities"] == []
    assert code == 1 and shown["verdict"]["passed"] is False
    code, _ = scan(tmp_path, db, "--exit-code", "9")
    assert code == 9

    # a .trivyignore beside it accepts them all (by CVE id), one of them only until an expired date
    (tmp_path / ".trivyignore").write_text("".join(f"{c}\n" for c in CRITICAL[1:]) + f"{CRITICAL[0]} exp:2020-01-01\n")
    code, report = scan(tmp_path, db)
    assert code == 1
    assert sorted({s["finding"]["id"] for s in report["suppressed"]}) == CRITICAL[1:]
    assert [e["id"] for e in report["verdict"]["exceptions"]["expired"]] == [CRITICAL[0]]
    assert any("expired on 2020-01-01" in w["message"] for w in report["warnings"])
    (tmp_path / ".trivyignore").write_text("".join(f"{c}\n" for c in CRITICAL))
    code, report = scan(tmp_path, db)
    assert code == 0 and report["verdict"]["passed"] is True


def test_bad_policy_is_one_line_and_exit_2(tmp_path, db):
    bad = tmp_path / "p.yaml"
    bad.write_text("fail_on: {severity: HIGH\n")
    r = hullscan("image", IMAGE, "--db", db, "--policy", str(bad), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "invalid YAML" in r.stderr
