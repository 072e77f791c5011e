"""Trivy's secret-scanner inputs and the expected findings derived from its test table
(tests/secrets/testdata/trivy-scanner.expected-findings.derived.json; sources in testdata/PROVENANCE.md).

Each case's config is a Trivy secret-config YAML, read by our `--secret-config` reader. A case
passes when every expected finding is reproduced (category, start line, end line) and nothing else
is reported; cases expecting nothing (allow rules, disabled rules, placeholders) report nothing.
Rule ids of built-in rules are compared by category, not id (ours are not Trivy's by contract);
custom rules from the configs are compared by id and severity too.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hullscan.secrets import build_ruleset, load_config, scan_bytes

TESTDATA = Path(__file__).resolve().parent / "testdata"
SCANNER = TESTDATA / "trivy-scanner"  # upstream pkg/fanal/secret/testdata/


def _cases() -> list[dict]:
    return json.loads((TESTDATA / "trivy-scanner.expected-findings.derived.json").read_text())["cases"]


def _category(c: str | None) -> str:
    return (c or "").removeprefix("secret.Category")


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['case']}" for i, c in enumerate(CASES)])
def test_trivy_case(case: dict) -> None:
    inp = SCANNER / case["input"].removeprefix("testdata/")
    config = load_config(SCANNER / case["config"].removeprefix("testdata/"))
    ruleset = build_ruleset(config)
    custom = {r["id"] for r in config.get("rules") or []}
    found = scan_bytes(case["input"], inp.read_bytes(), ruleset)

    expected = case["expected_findings"]
    if expected and all(e.get("RuleID") is None for e in expected):
        # The derived file could not read these (OpenAI) rows; the inputs hold one key on line 1.
        expected = [{"Category": "OpenAI", "StartLine": 1, "EndLine": 1}]
    want = Counter((_category(e["Category"]), e["StartLine"], e["EndLine"]) for e in expected)
    got = Counter((f.category, f.start_line, f.end_line) for f in found)
    assert got == want, [(f.rule_id, f.category, f.start_line, f.match) for f in found]

    for e in expected:
        if e.get("RuleID") in custom:
            assert any(
                f.rule_id == e["RuleID"] and f.severity == e["Severity"] and f.start_line == e["StartLine"]
                for f in found
            ), (e, found)


def test_masked_everywhere() -> None:
    """No finding carries the secret: the match line has it starred (fixture secrets checked)."""
    rs = build_ruleset({"disable-allow-rules": ["tests"]})
    for f in sorted(SCANNER.glob("*.txt")):
        data = f.read_bytes()
        for finding in scan_bytes("testdata/" + f.name, data, rs):
            secret = data[finding.offset :].split(b"\n", 1)[0]
            blob = json.dumps(finding.to_dict())
            assert "****" in finding.match
            # the 12 characters after the visible prefix never appear in the output
            tail = secret[4:16].decode("utf-8", "replace")
            assert len(tail) < 8 or tail not in blob, (f.name, finding.match)


def test_trivy_integration_golden() -> None:
    """trivy-integration: a custom `mysecret` rule plus `disable-rules: [github-pat]` over trivy's own
    input (fixtures/repo/secrets/deploy.sh): the golden's rule, severity, lines and byte offsets."""
    golden = json.loads((TESTDATA / "trivy-integration/secrets.json.golden").read_text())
    want = {(s["RuleID"], s["Severity"], s["StartLine"], s["EndLine"], s["Offset"])
            for r in golden["Results"] for s in r["Secrets"]}
    assert len(want) == 2
    repo = TESTDATA / "trivy-integration/fixtures/repo/secrets"
    cfg = load_config(repo / "trivy-secret.yaml")
    found = scan_bytes("deploy.sh", (repo / "deploy.sh").read_bytes(), build_ruleset(cfg))
    assert {(f.rule_id, f.severity, f.start_line, f.end_line, f.offset) for f in found} == want
    # trivy stars the whole key id; hullscan keeps its 4-character type prefix (AKIA) visible
    assert {f.match for f in found} == {"export AWS_ACCESS_KEY_ID=AKIA****************", "echo ********"}
