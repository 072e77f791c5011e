"""Reachability where the user reads it: the SARIF, CycloneDX, HTML and table outputs, the risk score
and its weight, and the policy's `fail_on.reachable_only` — on the JSON reports of two scans of the image
of _reach_image.py with `--import-reachability`, re-rendered and re-judged by `hullscan convert`.

By the application's text (test_import_cli.py):
- `python3 main.py`: certifi (CVE-2024-39689) `not_imported`; minimist (CVE-2021-44906) `unknown` (not a
  Node program);
- `node cli.js`: minimist `reachable`; certifi `unknown` (not a Python program).

Risk by policy/risk.py's formula, by hand from the records (no EPSS or KEV in the DB; the image has no
identified base, so `inherited` is null and adds nothing):
- certifi: CVSS 3.1 AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N = 7.5 → 5.5 × 7.5 = 41.25, + 5 (fixed in
  2024.07.04) = 46.25; `not_imported` × 0.5 = 23.125 → 23.1; `unknown` keeps 46.25 → 46.2 (one decimal,
  the tie to even);
- minimist: C:H/I:H/A:H = 9.8 → 53.9 + 5 = 58.9, `reachable` and `unknown` alike.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _reach_image import CLI, FLAG, image_layers, import_db, scan

CERTIFI, MINIMIST = "CVE-2024-39689", "CVE-2021-44906"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("reach-reports")
    layers, db = image_layers(), import_db(tmp / "db.sqlite")
    out = {}
    for name, cmd in (("python", ["python3", "main.py"]), ("node", ["node", "cli.js"])):
        out[name] = tmp / f"{name}.json"
        out[name].write_text(json.dumps(scan(tmp, layers, db, cmd, FLAG)))
    return out


def _convert(report: Path, fmt: str, *extra: str, ok: tuple[int, ...] = (0,)) -> str:
    run = subprocess.run([*CLI, "convert", str(report), "-f", fmt, *extra], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "COLUMNS": "260"})
    assert run.returncode in ok, run.stderr
    return run.stdout


def test_json_risk_weight(reports: dict[str, Path]) -> None:
    py = {v["id"]: v for v in json.loads(reports["python"].read_text())["vulnerabilities"]}
    node = {v["id"]: v for v in json.loads(reports["node"].read_text())["vulnerabilities"]}
    assert py[CERTIFI]["reachability"]["level"] == "not_imported" and py[CERTIFI]["inherited"] is None
    assert py[CERTIFI]["risk"] == {"score": 23.1, "reason": "CVSS 7.5 · fix 2024.07.04 · not imported ×0.5"}
    assert node[CERTIFI]["reachability"]["level"] == "unknown"
    assert node[CERTIFI]["risk"] == {"score": 46.2, "reason": "CVSS 7.5 · fix 2024.07.04"}
    assert node[MINIMIST]["risk"] == {"score": 58.9, "reason": "CVSS 9.8 · fix 1.2.6 · reachable"}
    assert py[MINIMIST]["risk"] == {"score": 58.9, "reason": "CVSS 9.8 · fix 1.2.6"}


def test_sarif_result_properties(reports: dict[str, Path]) -> None:
    doc = json.loads(_convert(reports["python"], "sarif"))
    props = {r["ruleId"]: r["properties"] for r in doc["runs"][0]["results"]}
    assert props[CERTIFI]["reachability"] == "not_imported"
    assert props[CERTIFI]["reachability.method"] == "python-imports"
    assert props[CERTIFI]["reachability.evidence"][0] == "not imported from /app/main.py"
    assert props[CERTIFI]["risk.score"] == 23.1
    assert (props[MINIMIST]["reachability"], props[MINIMIST]["reachability.method"],
            props[MINIMIST]["reachability.evidence"]) == ("unknown", "node-imports",
                                                          ["the entrypoint is not a Node program"])


def test_cyclonedx_vulnerability_properties(reports: dict[str, Path]) -> None:
    doc = json.loads(_convert(reports["node"], "cyclonedx"))
    props = {v["id"]: {p["name"]: p["value"] for p in v.get("properties", [])} for v in doc["vulnerabilities"]}
    assert props[MINIMIST]["hullscan:reachability"] == "reachable"
    assert props[MINIMIST]["hullscan:reachability:method"] == "node-imports"
    assert props[MINIMIST]["hullscan:reachability:evidence"] == "/app/cli.js; /app/node_modules/minimist"
    assert props[CERTIFI]["hullscan:reachability"] == "unknown"
    assert props[CERTIFI]["hullscan:risk:score"] == "46.2"


def _html_rows(html: str) -> dict[str, dict[str, Any]]:
    data = re.search(r'<script type="application/json" id="hullscan-data">(.*?)</script>', html, re.S)
    assert data is not None
    return {row["id"]: row for row in json.loads(data.group(1))["findings"] if row["kind"] == "vulnerability"}


def test_html_row_explanation(reports: dict[str, Path]) -> None:
    rows = _html_rows(_convert(reports["python"], "html"))
    assert rows[CERTIFI]["reason"] == "CVSS 7.5 · fix 2024.07.04 · not imported ×0.5 · reachability: not_imported"
    assert rows[CERTIFI]["risk"] == 23.1
    assert rows[MINIMIST]["reason"] == "CVSS 9.8 · fix 1.2.6 · reachability: unknown"


def test_table_secondary_line(reports: dict[str, Path]) -> None:
    def row(text: str, vuln: str) -> list[str]:
        (line,) = [ln for ln in text.splitlines() if vuln in ln]
        return [c.strip() for c in line.strip("│ ").split("│")]

    py, node = _convert(reports["python"], "table"), _convert(reports["node"], "table")
    # columns: Package, Installed, Vulnerability, Severity, Status, Fixed in, Layer, Risk, Title
    certifi = row(py, CERTIFI)
    assert certifi[7] == "23.1" and certifi[8].endswith("· not imported ×0.5")
    minimist = row(node, MINIMIST)
    assert minimist[7] == "58.9" and minimist[8].endswith("· reachable")
    assert row(py, MINIMIST)[8].endswith("· fix 1.2.6")  # unknown: no marker


def _verdict(tmp: Path, report: Path, policy: str) -> tuple[int, dict[str, Any]]:
    path = tmp / "policy.yaml"
    path.write_text(policy)
    run = subprocess.run([*CLI, "convert", str(report), "-f", "json", "--policy", str(path), "--exit-code", "1"],
                         capture_output=True, text=True, timeout=120)
    verdict: dict[str, Any] = json.loads(run.stdout)["verdict"]
    return run.returncode, verdict


def test_policy_reachable_only(reports: dict[str, Path], tmp_path: Path) -> None:
    report = reports["python"]  # certifi not_imported, minimist unknown
    # alone: any finding that may be reachable fails — the unknown one does, the unreachable one does not
    code, v = _verdict(tmp_path, report, "version: 1\nfail_on:\n  reachable_only: true\n")
    assert code == 1 and [(r["rule"], r["findings"]) for r in v["failed_rules"]] == [
        ("fail_on.reachable_only", [f"{MINIMIST} (minimist 1.2.5)"])]
    # with a rule: it counts only the findings that may be reachable
    code, v = _verdict(tmp_path, report, "version: 1\nfail_on:\n  severity: HIGH\n  reachable_only: true\n")
    assert code == 1 and [(r["rule"], r["findings"]) for r in v["failed_rules"]] == [
        ("fail_on.severity", [f"{MINIMIST} (minimist 1.2.5)"])]
    code, v = _verdict(tmp_path, report, f"version: 1\nfail_on:\n  ids: [{CERTIFI}]\n  reachable_only: true\n")
    assert code == 0 and v["passed"] is True and v["failed_rules"] == []
    code, v = _verdict(tmp_path, report, f"version: 1\nfail_on:\n  ids: [{CERTIFI}]\n")
    assert code == 1 and v["failed_rules"][0]["findings"] == [f"{CERTIFI} (certifi 2024.2.2)"]
    # the node image: certifi unknown now, so the same rule fails
    code, _ = _verdict(tmp_path, reports["node"], f"version: 1\nfail_on:\n  ids: [{CERTIFI}]\n  reachable_only: true\n")
    assert code == 1
