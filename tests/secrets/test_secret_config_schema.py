"""`--secret-config` files are checked against docs/secret-config.schema.json (issue 20): every Trivy config
in the repository (Trivy's scanner, analyzer, cache and integration test configs, and the samples of Trivy's
docs/guide/scanner/secret.md; tests/secrets/testdata/PROVENANCE.md) loads, our own rule fields are
accepted, and a misspelt key or a wrong type is exit 2 with one line, written out here by hand."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from hullscan.errors import InputError
from hullscan.secrets import build_ruleset, load_config, scan_bytes
from hullscan.secrets.engine import path_allowed
from testsupport import REPO

TESTDATA = REPO / "tests/secrets/testdata"
SCHEMA = json.loads((REPO / "docs/secret-config.schema.json").read_text())
GHP = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"  # format-valid, fabricated (as in test_secrets_engine.py)


def _trivy_configs() -> list[Path]:
    cases = json.loads((TESTDATA / "trivy-scanner.expected-findings.derived.json").read_text())["cases"]
    scanner = {TESTDATA / "trivy-scanner" / c["config"].removeprefix("testdata/") for c in cases if c.get("config")}
    return sorted(scanner) + sorted((TESTDATA / "trivy-analyzer").glob("*.yaml")) + sorted((TESTDATA / "trivy-docs").glob("*.yaml")) + [
        TESTDATA / "trivy-integration/fixtures/repo/secrets/trivy-secret.yaml"]


def test_the_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", _trivy_configs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_trivy_config_loads(path):
    config = load_config(path)
    assert config == (yaml.safe_load(path.read_text()) or {})  # read as written: nothing dropped or renamed
    build_ruleset(config)


def test_there_are_trivy_configs_of_every_origin():
    origins = {p.parent.name for p in _trivy_configs()}
    assert origins == {"trivy-scanner", "trivy-analyzer", "trivy-docs", "secrets"} and len(_trivy_configs()) == 21 + 6 + 8 + 1


def test_the_builtin_rules_fit_the_schema():
    """Our own rules use every field of ours the schema lists: the file users extend and the shipped rules agree."""
    builtin = yaml.safe_load(resources.files("hullscan.secrets").joinpath("rules.yaml").read_text("utf-8"))
    user_part = {k: v for k, v in builtin.items() if k != "generic-allow"}  # the placeholder list is not configurable
    jsonschema.Draft202012Validator(SCHEMA).validate(user_part)


def test_the_documented_config_loads(tmp_path):
    block = re.search(r"## `--secret-config FILE`.*?```yaml\n(.*?)```", (REPO / "docs/secrets.md").read_text(), re.S)
    assert block
    (tmp_path / "c.yaml").write_text(block.group(1))
    rs = build_ruleset(load_config(tmp_path / "c.yaml"))
    assert {r.id for r in rs.rules} == {"github-pat", "aws-access-key-id", "acme-token"}


REFUSALS = [
    ("disable-rule: [github-pat]\n", "unknown key 'disable-rule' (did you mean 'disable-rules'?)"),
    ("rules:\n  - id: r\n    regex: tok\n    severty: HIGH\n", "rules[0]: unknown key 'severty' (did you mean 'severity'?)"),
    ("rules:\n  - id: r\n    regex: tok\n    allow-rules: [{id: a, pth: x}]\n",
     "rules[0].allow-rules[0]: unknown key 'pth' (did you mean 'path'?)"),
    ("allow-rules:\n  - id: everything\n", "allow-rules[0]: needs one of regex, path or value"),
    ("rules: 5\n", "rules: expected a list of mappings, got an integer"),
    ("rules:\n  - id: r\n", "rules[0]: regex is required"),
    ("rules:\n  - id: r\n    regex: tok\n    keywords: tok\n", "rules[0].keywords: expected a list of strings, got a string"),
    ("enable-builtin-rules: github-pat\n", "enable-builtin-rules: expected a list of strings, got a string"),
    ("exclude-block: ['--- a ---']\n", "exclude-block: expected a mapping, got a list"),
    ("exclude-block: {regex: ['x']}\n", "exclude-block: unknown key 'regex' (did you mean 'regexes'?)"),
    ("skip-patterns: '**/vendor/**'\n", "skip-patterns: expected a list of strings, got a string"),
    ("rules:\n  - id: r\n    regex: tok\n    window: big\n", "rules[0].window: expected an integer, got a string"),
    ("- rules\n", "expected a mapping, got a list"),
    ("rules:" + " [" * 200, "nested deeper than 64 levels"),
    (b"rules: []\n# \xc3\n", "not valid UTF-8 (line 2, byte 12)"),
]


@pytest.mark.parametrize(("content", "expected"), REFUSALS, ids=[e[:40] for _, e in REFUSALS])
def test_config_mistakes_are_one_line(tmp_path, content, expected):
    path = tmp_path / "secret.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: {expected}"


def test_skip_patterns_skip_those_paths():
    """Trivy's analyzer fixture: `**/vendor/**`, `**/custom.lock`, `**/*.xyz` are not scanned; other paths are."""
    rs = build_ruleset(load_config(TESTDATA / "trivy-analyzer/custom-skip-config.yaml"))
    data = f"token={GHP}\n".encode()
    for path in ("/app/vendor/lib/x.go", "/vendor/a", "/srv/custom.lock", "/a/b/c.xyz", "/c.xyz"):
        assert path_allowed(rs, path) and scan_bytes(path, data, rs) == [], path
    for path in ("/app/vendors/x.go", "/srv/custom.lock.bak", "/a/b.xyzz", "/app/main.go"):
        assert [f.rule_id for f in scan_bytes(path, data, rs)] == ["github-pat"], path


def test_skip_patterns_we_cannot_read_are_refused():
    with pytest.raises(InputError, match=r"^secret config skip-patterns\[0\]: '\*\*/\*\.\{a,b\}': brace and bracket globs"):
        build_ruleset({"skip-patterns": ["**/*.{a,b}"]})
    with pytest.raises(InputError, match=r"^secret config skip-patterns\[1\]: glob '/a/b\*\*': empty segment, or \*\* not a segment"):
        build_ruleset({"skip-patterns": ["x/**", "a/b**"]})


def test_cli_exits_2_with_one_line(tmp_path):
    (tmp_path / "secret.yaml").write_text("disable-rule: [github-pat]\n")
    r = subprocess.run([sys.executable, "-m", "hullscan", "image", str(REPO / "examples/alpine-3.10-django"), "-q",
                        "--scanners", "secret", "--no-cache", "--secret-config", "secret.yaml"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert (r.returncode, r.stderr, r.stdout) == (
        2, "hullscan: error: secret.yaml: unknown key 'disable-rule' (did you mean 'disable-rules'?)\n", "")
