"""`--format sarif` validated by Microsoft's SARIF Multitool (SARIF rules + GitHub ingestion rules) and by
the SARIF 2.1.0 JSON schema it ships; then checked against the scan: one result per finding at the
package's or file's path in the image, the layers and secrets planted by tests/report/formats_scan.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from formats_scan import GITHUB_TOKEN, REPO, load, render

from testsupport import missing

TOOLS = REPO / "tests" / "node_modules"
MULTITOOL = TOOLS / ".bin" / "sarif-multitool"
SCHEMA = TOOLS / "@microsoft" / "sarif-multitool-linux" / "sarif-2.1.0.json"


def _multitool() -> Path:
    if not MULTITOOL.exists():
        missing("SARIF Multitool not installed: `cd tests && npm install` (scripts/test does it)")
    return MULTITOOL


def multitool_errors(docs: dict[str, bytes], tmp: Path) -> dict[str, list[str]]:
    """Run `sarif-multitool validate` once over several documents with the SARIF and GitHub (Gh) rule sets;
    it exits 0 even when it finds errors, so read its output log: the results of level error, per document."""
    out = tmp / "validation.sarif"
    out.unlink(missing_ok=True)
    paths = {}
    for name, doc in docs.items():
        paths[name] = tmp / f"{name}.sarif"
        paths[name].write_bytes(doc)
    # the npm wrapper runs the binary through a shell: quote the ';' list
    proc = subprocess.run([str(_multitool()), "validate", *map(str, paths.values()), "-o", str(out),
                           "--rule-kind", '"Sarif;Gh"'], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    run = log["runs"][0]
    notes = [n for inv in run.get("invocations") or [] for n in inv.get("toolExecutionNotifications") or []]
    assert not [n for n in notes if n.get("level") == "error"], notes
    errors: dict[str, list[str]] = {name: [] for name in docs}
    for r in run.get("results") or []:
        if r.get("level") != "error":
            continue
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        name = next(n for n, p in paths.items() if uri.endswith("/" + p.name))
        errors[name].append(f"{r['ruleId']}: {r['message'].get('arguments')}")
    return errors


@pytest.fixture(scope="module")
def sarifs() -> dict[str, dict[str, Any]]:
    return {w: json.loads(render(w, "sarif")) for w in ("plain", "judged")}


def test_multitool_and_schema_accept_both_reports(sarifs: dict, tmp_path: Path) -> None:
    """Both reports pass; a control copy (leading-slash uri, a rule without help) must be rejected, which
    proves the multitool really read our documents (it reports nothing for a log it cannot deserialize)."""
    control = json.loads(json.dumps(sarifs["plain"]))
    control["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "/app/Pipfile.lock"
    del control["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    docs = {name: json.dumps(doc).encode() for name, doc in sarifs.items()}
    errors = multitool_errors({**docs, "control": json.dumps(control).encode()}, tmp_path)
    assert errors["plain"] == [] and errors["judged"] == [], errors
    assert any(e.startswith("SARIF1004") for e in errors["control"]), errors
    assert any(e.startswith("GH2012") for e in errors["control"]), errors
    if SCHEMA.exists():  # the SARIF 2.1.0 schema the multitool ships
        schema = json.loads(SCHEMA.read_text(encoding="utf-8-sig"))
        for doc in sarifs.values():
            jsonschema.Draft7Validator(schema).validate(doc)


def test_one_result_per_finding_located_in_the_image(sarifs: dict) -> None:
    report = load("plain")
    run = sarifs["plain"]["runs"][0]
    results = run["results"]
    expected = len(report["vulnerabilities"]) + len(report["secrets"]) + len(report["misconfigurations"])
    assert len(results) == expected and expected >= 44  # django 2.2's findings once, with two locations
    django = [r for r in results if "in django 2.2" in r["message"]["text"]]
    assert django and all([loc["physicalLocation"]["artifactLocation"]["uri"] for loc in r["locations"]]
                          == ["usr/lib/python3.7/site-packages/Django-2.2.dist-info", "app/Pipfile.lock"] for r in django)
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(dict.fromkeys(r["ruleId"] for r in results))  # one rule per id
    for r in results:
        rule = rules[r["ruleIndex"]]
        assert rule["id"] == r["ruleId"]
        assert rule["help"]["markdown"] and rule["help"]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
        assert "security" in rule["properties"]["tags"]
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "://" not in uri
        assert r["partialFingerprints"]["hullscanFinding/v1"]
    # the package paths of the JSON report, without their leading slash
    vuln_uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results
                 if r["properties"]["kind"] == "vulnerability"}
    assert vuln_uris == {v["package"]["paths"][0].lstrip("/") for v in report["vulnerabilities"]}
    # CVE-2023-37920: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N (7.5) and HIGH in GitHub's record
    # (examples/feeds/ghsa-pypi/certifi/GHSA-xqr8-7jwr-rhp7.json) → security-severity 7.5, level error
    cve = next(r for r in results if r["ruleId"] == "CVE-2023-37920")
    assert cve["level"] == "error" and rules[cve["ruleIndex"]]["properties"]["security-severity"] == "7.5"
    assert cve["properties"]["package.name"] == "certifi" and cve["properties"]["layer.index"] == 1
    assert rules[cve["ruleIndex"]]["helpUri"].startswith("https://")


def test_secrets_and_config_results(sarifs: dict) -> None:
    results = sarifs["plain"]["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results if r["properties"]["kind"] != "vulnerability"}
    pat = by_rule["github-pat"]  # planted in /app/.env by layer 2, deleted by layer 3
    loc = pat["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "app/.env" and loc["region"]["startLine"] == 2
    assert pat["properties"]["layer.index"] == 2 and pat["properties"]["removed_in"] == 3
    aws = by_rule["aws-access-key-id"]
    assert aws["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "root/.aws/credentials"
    assert aws["level"] == "error"
    root = by_rule["config-user-root"]  # the image config sets no USER
    assert root["properties"]["kind"] == "misconfiguration" and "layer.index" not in root["properties"]
    assert GITHUB_TOKEN not in json.dumps(sarifs)


def test_suppressed_findings_carry_suppressions(sarifs: dict) -> None:
    judged = load("judged")
    results = sarifs["judged"]["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == len(judged["suppressed"]) == 2
    assert {r["ruleId"] for r in suppressed} == {"CVE-2019-11236", "CVE-2024-3651"}  # VEX not_affected, exception
    assert len(results) - len(suppressed) == len(judged["vulnerabilities"]) + len(judged["secrets"]) + len(judged["misconfigurations"])
