"""The whole pipeline through the CLI: secrets in deleted files and the image config, an SBOM read
back and matched to the same findings, and the gate's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "image"))
import builders as B  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
# Values in the published formats of AWS and GitHub, made up for this test.
AWS_ID = "AKIAZ5ZQ7XN4H2LTQ3VD"
GH_TOKEN = "ghp_R8mT2vQ9xK4nB7cL1pZ6wY3hJ5fD0sA8gE2u"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("db") / "vuln.db")
    r = run("db", "import", str(REPO / "examples" / "feeds"), "--db", db)
    assert r.returncode == 0, r.stderr
    return db


def test_secret_in_a_deleted_file_and_in_the_config_are_reported_with_their_layers(tmp_path):
    base = B.layer([B.f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"), B.f("app/.env", f"AWS_ACCESS_KEY_ID={AWS_ID}\n")],
                   created_by="COPY . /app")
    cleanup = B.layer([B.wh("app/.env")], created_by="RUN rm /app/.env")
    layout = B.oci_image(tmp_path / "img", [base, cleanup],
                         config={"architecture": "amd64", "os": "linux",
                                 "config": {"Env": ["PATH=/bin", f"GITHUB_TOKEN={GH_TOKEN}"]},
                                 "rootfs": {"type": "layers", "diff_ids": [base.diff_id, cleanup.diff_id]},
                                 "history": [{"created_by": "COPY . /app"}, {"created_by": "RUN rm /app/.env"}]})
    r = run("image", str(layout), "--scanners", "secret,config", "-f", "json", "--no-cache")
    assert r.returncode == 0, r.stderr
    assert AWS_ID not in r.stdout and GH_TOKEN not in r.stdout and AWS_ID not in r.stderr  # masked everywhere
    report = json.loads(r.stdout)
    env = [s for s in report["secrets"] if s["path"] == "/app/.env"]
    assert env and env[0]["layer"]["index"] == 0 and env[0]["removed_in"]["index"] == 1
    assert env[0]["removed_in"]["created_by"] == "RUN rm /app/.env"
    assert any(s["path"] == "config:Env" for s in report["secrets"])
    assert "config-user-root" in {m["rule_id"] for m in report["misconfigurations"]}
    # a policy failing on secrets turns this into exit 1; an exception by fingerprint clears it
    policy = tmp_path / "policy.yaml"
    policy.write_text("fail_on: {secrets: HIGH}\n")
    assert run("image", str(layout), "--scanners", "secret", "--no-cache", "-q", "-f", "json", "--policy", str(policy)).returncode == 1
    lines = ["fail_on: {secrets: HIGH}", "exceptions:"] + [
        f"  - {{fingerprint: '{s['fingerprint']}', justification: rotated and revoked, expires: 2099-01-01}}" for s in report["secrets"]
    ]
    policy.write_text("\n".join(lines) + "\n")
    ok = run("image", str(layout), "--scanners", "secret", "--no-cache", "-q", "-f", "json", "--policy", str(policy))
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert json.loads(ok.stdout)["verdict"]["passed"] is True


def test_sbom_written_by_hullscan_reads_back_to_the_same_findings(tmp_path, demo_db):
    image = str(REPO / "examples" / "alpine-3.10-django")
    direct = run("image", image, "--db", demo_db, "-f", "json", "-q", "--no-cache")
    assert direct.returncode == 0, direct.stderr
    for fmt in ("cyclonedx", "spdx-json"):
        sbom = tmp_path / f"sbom.{fmt}"
        r = run("image", image, "--db", demo_db, "-f", fmt, "-o", str(sbom), "-q", "--no-cache")
        assert r.returncode == 0, r.stderr
        back = run("sbom", str(sbom), "--db", demo_db, "-f", "json", "-q")
        assert back.returncode == 0, back.stderr
        want = {(v["package"]["name"], v["package"]["version"], v["id"]) for v in json.loads(direct.stdout)["vulnerabilities"]}
        got = {(v["package"]["name"], v["package"]["version"], v["id"]) for v in json.loads(back.stdout)["vulnerabilities"]}
        assert got == want and len(want) > 40


def test_demo_findings_and_exit_codes(tmp_path, demo_db):
    image = str(REPO / "examples" / "alpine-3.10-django")
    r = run("image", image, "--db", demo_db, "-f", "json", "-q", "--no-cache")
    report = json.loads(r.stdout)
    assert r.returncode == 0
    assert report["os"]["ecosystem"] == "Alpine:v3.10"
    django = {v["id"] for v in report["vulnerabilities"] if v["package"]["name"] == "django"}
    assert "CVE-2019-12308" in django
    assert all(v["layer"]["index"] == 1 and v["layer"]["base"] is False for v in report["vulnerabilities"])
    # --exit-code without a policy: findings left after the display filters fail the gate
    assert run("image", image, "--db", demo_db, "-q", "-f", "json", "--no-cache", "--exit-code", "9").returncode == 9
    assert run("image", image, "--db", demo_db, "-q", "-f", "json", "--no-cache", "--exit-code", "9",
               "--severity", "LOW").returncode == 0  # no LOW findings
    # a missing DB is exit 4, a bad target exit 2, with one line
    missing = run("image", image, "--db", str(tmp_path / "none.db"), "-q")
    assert missing.returncode == 4 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    bad = run("image", str(tmp_path / "nope.tar"), "--db", demo_db)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
