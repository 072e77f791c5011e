"""Trivy's secret-scanner inputs and the expected findings derived from its test table
(../shared/fixtures/secrets/trivy-scanner.expected-findings.derived.json).

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
from testsupport import SHARED

from hullscan.secrets import build_ruleset, load_config, scan_bytes

FIXTURES = SHARED / "fixtures" / "secrets"


def _cases() -> list[dict]:
    f = FIXTURES / "trivy-scanner.expected-findings.derived.json"
    if not f.exists():
        return []
    return json.loads(f.read_text())["cases"]


def _category(c: str | None) -> str:
    return (c or "").removeprefix("secret.Category")


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['case']}" for i, c in enumerate(CASES)])
def test_trivy_case(case: dict, shared: Path) -> None:
    base = shared / "fixtures" / "secrets" / "trivy-scanner"
    inp = base / case["input"].removeprefix("testdata/")
    if not inp.exists():
        pytest.skip(f"{case['input']} was not copied into the shared fixtures (it is code)")
    config = load_config(base / case["config"].removeprefix("testdata/"))
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


def test_masked_everywhere(shared: Path) -> None:
    """No finding carries the secret: the match line has it starred (fixture secrets checked)."""
    base = shared / "fixtures" / "secrets" / "trivy-scanner"
    rs = build_ruleset({"disable-allow-rules": ["tests"]})
    for f in sorted(base.glob("*.txt")):
        data = f.read_bytes()
        for finding in scan_bytes("testdata/" + f.name, data, rs):
            secret = data[finding.offset :].split(b"\n", 1)[0]
            blob = json.dumps(finding.to_dict())
            assert "****" in finding.match
            # the 12 characters after the visible prefix never appear in the output
            tail = secret[4:16].decode("utf-8", "replace")
            assert len(tail) < 8 or tail not in blob, (f.name, finding.match)


def test_trivy_integration_golden(shared: Path) -> None:
    """trivy-integration: a custom `mysecret` rule plus `disable-rules: [github-pat]`. The input
    (deploy.sh) was not copied; it is rebuilt from the golden's shown lines (line 3 masked there,
    so any AWS key id of the right shape stands in)."""
    golden = json.loads((shared / "fixtures/secrets/trivy-integration/secrets.json.golden").read_text())
    want = {(s["RuleID"], s["StartLine"]) for r in golden["Results"] for s in r["Secrets"]}
    lines = [
        "#!/bin/sh",
        "",
        "export AWS_ACCESS_KEY_ID=AKIA0123456789ABCDEF",
        "",
        "export GITHUB_PAT=ghp_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "",
        "echo mysecret",
        "",
    ]
    cfg = load_config(shared / "fixtures/secrets/trivy-integration/fixtures/repo/secrets/trivy-secret.yaml")
    found = scan_bytes("deploy.sh", "\n".join(lines).encode(), build_ruleset(cfg))
    assert {(f.rule_id, f.start_line) for f in found} == want
    assert {f.match for f in found} == {"export AWS_ACCESS_KEY_ID=AKIA****************", "echo ********"}
