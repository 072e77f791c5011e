"""The standing width rule (DESIGN.md "Tables"): every command that prints a table fits COLUMNS — at 80
no line is wider than 80 — and never cuts an advisory id. Run over the example image, the report tests'
findings-heavy image (68 findings, secrets, a config finding, a failed policy), a directory, an SBOM and
a converted report, at 80 and 120 columns. A command that joins the tables joins this list.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from formats_scan import EXAMPLE, HULLSCAN, REPO, scanned

PIPFILE = REPO / "tests" / "inventory" / "lang" / "testdata" / "python" / "pipenv" / "trivy-parser" / "Pipfile_django.lock"
PRIVATE_KEY = REPO / "tests" / "secrets" / "testdata" / "trivy-scanner" / "asymmetric-private-key.txt"
COLUMNS = (80, 120)


def _run(args: list[str], columns: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["COLUMNS"] = str(columns)
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, timeout=600, env=env)


def _width(line: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _commands(tmp: Path) -> dict[str, list[str]]:
    """name → the command printing a table; its JSON twin (`-f json` for `-f table`) names the ids."""
    s = scanned()
    db = ["--db", str(s["db"])]
    tree = tmp / "tree"
    if not tree.exists():
        (tree / "app").mkdir(parents=True)
        shutil.copyfile(PIPFILE, tree / "app" / "Pipfile.lock")
        shutil.copyfile(PRIVATE_KEY, tree / "app" / "key.txt")
    sbom = tmp / "example.cdx.json"
    if not sbom.exists():
        made = _run(["image", str(EXAMPLE), *db, "--no-cache", "-q", "-f", "cyclonedx", "-o", str(sbom)], 80)
        assert made.returncode == 0, made.stderr
    policy = str(s["policy_dir"] / "policy.yaml")
    return {
        "image-example": ["image", str(EXAMPLE), *db, "--no-cache", "-q", "--scanners", "vuln,secret,config,license"],
        "image-heavy": ["image", str(s["image"]), *db, "--no-cache", "-q", "--scanners", "vuln,secret,config",
                        "--policy", policy],
        "fs": ["fs", str(tree), *db, "-q"],
        "sbom": ["sbom", str(sbom), *db, "-q"],
        "convert": ["convert", str(s["judged"])],
    }


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return _commands(tmp_path_factory.mktemp("tables"))


@pytest.mark.parametrize("columns", COLUMNS)
@pytest.mark.parametrize("name", ["image-example", "image-heavy", "fs", "sbom", "convert"])
def test_the_table_fits_and_keeps_every_id_whole(commands: dict[str, list[str]], name: str, columns: int) -> None:
    table = _run([*commands[name], "-f", "table"], columns)
    assert table.returncode in (0, 1), table.stderr  # 1: the heavy image's policy fails
    lines = table.stdout.splitlines()
    assert len(lines) > 5 and "\x1b" not in table.stdout
    widest = max(lines, key=_width)
    assert _width(widest) <= columns, widest
    doc = json.loads(_run([*commands[name], "-f", "json"], columns).stdout)
    ids = {v["id"] for v in doc["vulnerabilities"]}
    assert ids, "every command here finds vulnerabilities"
    for vid in ids:
        assert re.search(rf"(?<![\w-]){re.escape(vid)}(?![\w-])", table.stdout), vid


@pytest.mark.parametrize("columns", [80, 120])
def test_db_status_fits(columns: int) -> None:
    r = _run(["db", "status", "--db", str(scanned()["db"])], columns)
    assert r.returncode == 0, r.stderr
    assert max(_width(line) for line in r.stdout.splitlines()) <= columns, r.stdout


@pytest.mark.parametrize("columns", COLUMNS)
@pytest.mark.parametrize("command", ["plan", "image --plan"])
def test_the_fix_plan_fits(command: str, columns: int) -> None:
    """`hullscan plan` and the report's plan section (docs/plan.md) over the findings-heavy image."""
    s = scanned()
    r = _run([*command.split(), str(s["image"]), "--db", str(s["db"]), "--no-cache", "-q", "-f", "table"], columns)
    assert r.returncode == 0, r.stderr
    assert "Fix plan:" in r.stdout and "\x1b" not in r.stdout
    widest = max(r.stdout.splitlines(), key=_width)
    assert _width(widest) <= columns, widest
