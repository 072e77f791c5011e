"""Strict user files (issue 20): the policy, Trivy's ignore files and VEX documents are checked against
their schemas; each reproduction of the issue ends in exit 2 and the one line written out below by hand
(file, key path, what was expected, the nearest key for a typo), never a traceback and never a wider
exception than the file says. Trivy's own ignore files (tests/policy/testdata/trivy, PROVENANCE.md) load."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from hullscan.errors import InputError
from hullscan.model.inventory import Package
from hullscan.policy.licenses import license_violations
from hullscan.policy.load import load_policy, load_trivyignore
from hullscan.policy.model import LicenseRule
from hullscan.policy.vex import load_vex
from testsupport import REPO

IMAGE = str(REPO / "examples" / "alpine-3.10-django")
TRIVY = REPO / "tests/policy/testdata/trivy"
SCHEMAS = ("policy", "trivyignore", "secret-config")


def refusal(tmp_path: Path, name: str, content: str | bytes, load=None) -> str:
    """The InputError line for this file, without the `path: ` it starts with."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    loader = load or (load_policy if name.endswith("policy.yaml") else load_vex if name.endswith(".json") else load_trivyignore)
    with pytest.raises(InputError) as err:
        loader(str(path))
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: ") or line.startswith(f"{path}:"), line
    return line[len(str(path)):].removeprefix(": ")


# --- the schemas themselves ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMAS)
def test_shipped_schemas_are_valid_and_docs_link_to_the_package_copy(name):
    doc = REPO / "docs" / f"{name}.schema.json"
    assert doc.is_symlink(), "one copy: docs/ links to the package data"
    assert doc.resolve() == (REPO / "src/hullscan/schemas" / f"{name}.schema.json").resolve()
    schema = json.loads(doc.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _objects(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_mapping_a_user_writes_refuses_unknown_keys(name):
    schema = json.loads((REPO / "docs" / f"{name}.schema.json").read_text())
    with_keys = [o for o in _objects(schema) if "properties" in o]
    assert with_keys and all(o.get("additionalProperties") is False for o in with_keys)


# --- policy files ---------------------------------------------------------------------------------------------

EXCEPTION = "exceptions:\n  - id: CVE-2024-3651\n    justification: not reachable\n    expires: 2027-01-01\n"

POLICY_REFUSALS = [
    # Fails open today: each of these was accepted and passed (issue 20)
    ("fail_on: {ids: CVE-2024-3651}\n", "fail_on.ids: expected a list of strings, got a string"),
    ("fail_on: {licenses: {deny: GPL-2.0-only}}\n", "fail_on.licenses.deny: expected a list of strings, got a string"),
    (EXCEPTION + "    packge: not-idna\n", "exceptions[0]: unknown key 'packge' (did you mean 'package'?)"),
    ("exceptions:\n  - id: CVE-1\n    justfication: ok\n    expires: 2027-01-01\n",
     "exceptions[0]: unknown key 'justfication' (did you mean 'justification'?)"),
    ("settings: {allow_permanent_exception: true}\n",
     "settings: unknown key 'allow_permanent_exception' (did you mean 'allow_permanent_exceptions'?)"),
    ("version: 2\n", "version: expected 1, got 2"),
    ('fail_on: {licenses: {deny: ["((((", "MIT AND"]}}\n',
     "fail_on.licenses.deny[0]: '((((' is not an SPDX licence id (Invalid expression)"),
    ('fail_on: {licenses: {deny: [MIT, "MIT AND"]}}\n',
     "fail_on.licenses.deny[1]: 'MIT AND' is not an SPDX licence id (AND requires two or more licenses as in: MIT AND BSD)"),
    ("fail_on: {licenses: {allow: [GPLv3]}}\n",
     "fail_on.licenses.allow[0]: 'GPLv3' is not an SPDX licence id (Unknown license key(s): GPLv3)"),
    ("fail_on: {licenses: {deny: [MIT OR Apache-2.0]}}\n",
     "fail_on.licenses.deny[0]: 'MIT OR Apache-2.0' is not one SPDX licence (give one licence per entry, optionally WITH an exception)"),
    # Crashed today (ValueError, RecursionError, TypeError…)
    (EXCEPTION.replace("2027-01-01", "2026-13-45"), "exceptions[0].expires: '2026-13-45' is not a valid date (expected YYYY-MM-DD)"),
    (EXCEPTION.replace("2027-01-01", "2027-02-30"), "exceptions[0].expires: '2027-02-30' is not a valid date (expected YYYY-MM-DD)"),
    (EXCEPTION.replace("2027-01-01", '"2027-02-30"'), "exceptions[0].expires: '2027-02-30' is not a valid date (expected YYYY-MM-DD)"),
    (EXCEPTION.replace("2027-01-01", "!!timestamp 2026-13-45"), "invalid YAML value (ValueError: month must be in 1..12)"),
    ("[" * 100_000, "nested deeper than 64 levels"),
    ("".join(" " * i + "a:\n" for i in range(200)), "nested deeper than 64 levels"),
    ("vex: 5\n", "vex: expected a list of strings, got an integer"),
    ('settings: {warn_expiring_within_days: "14}"}\n', "settings.warn_expiring_within_days: expected an integer, got a string"),
    ('settings: "x"\n', "settings: expected a mapping, got a string"),
    # and the rest of what a schema says
    ("fail_on: {severity: SEVERE}\n", "fail_on.severity: expected one of CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN, got 'SEVERE'"),
    ("fail_on: {epss_above: 5}\n", "fail_on.epss_above: expected a number from 0 to 1, got 5"),
    ("fail_on: {kev: sometimes}\n", "fail_on.kev: expected true or false, got a string"),
    ("exceptions:\n  - justification: ok\n    expires: 2027-01-01\n", "exceptions[0]: needs one of id, fingerprint or rule_id"),
    ("exceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n", "exceptions[0]: justification is required"),
    ("exceptions:\n  - id: CVE-1\n    justification: ''\n    expires: 2027-01-01\n",
     "exceptions[0].justification: expected a non-empty string"),
    ("exceptions:\n  - id: CVE-1\n    justification: '  '\n    expires: 2027-01-01\n",
     "exceptions[0].justification: expected a non-empty string"),
    ("exceptions:\n  - id: CVE-1\n    justification: ok\n",
     "exceptions[0]: expires is required (or set settings.allow_permanent_exceptions)"),
    (EXCEPTION + "    vex_status: notaffected\n",
     "exceptions[0].vex_status: expected one of not_affected, affected, fixed or under_investigation, got 'notaffected'"),
    ("exceptions: {id: CVE-1}\n", "exceptions: expected a list of mappings, got a mapping"),
    ("- fail_on\n", "expected a mapping, got a list"),
    ("foo: 1\n", "unknown key 'foo' (known keys: base_images, exceptions, fail_on, os, runtime, settings, version, vex)"),
    ("fail_on: {severity: HIGH\n", "invalid YAML at line 2, column 1 (expected ',' or '}', but got '<stream end>')"),
    ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)),
     "more than 200000 values (YAML aliases expanding?)"),
    (b"fail_on: {severity: HIGH}\n# caf\xe9\n", "not valid UTF-8 (line 2, byte 31)"),
]


@pytest.mark.parametrize(("content", "expected"), POLICY_REFUSALS, ids=[e[:40] for _, e in POLICY_REFUSALS])
def test_policy_mistakes_are_one_line(tmp_path, content, expected):
    assert refusal(tmp_path, "policy.yaml", content) == expected


def test_a_missing_policy_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"nope.yaml: policy file not found$"):
        load_policy(str(tmp_path / "nope.yaml"))


def test_a_full_policy_loads_with_what_it_says(tmp_path):
    p = tmp_path / "policy.yaml"
    p.write_text(
        "version: 1\n"
        "fail_on:\n  severity: high\n  fixable_only: true\n  kev: true\n  epss_above: 1\n  ids: [CVE-2021-44228]\n"
        "  secrets: HIGH\n  misconfigurations: MEDIUM\n"
        "  licenses: {deny: [GPL-3.0-only, 'GPL-2.0-only WITH Classpath-exception-2.0'], allow: [MIT, GPL-2.0]}\n"
        "  db_older_than_days: 7\n"
        "exceptions:\n"
        "  - {id: CVE-1, package: idna, justification: ' why ', expires: 2027-01-01, vex_status: fixed}\n"
        "  - {rule_id: aws-access-key-id, path: /app, justification: test keys, expires: !!timestamp 2027-02-01}\n"
        "  - {fingerprint: abc, justification: rotated, owner: sec@example.com}\n"
        "vex: [vex/a.json, /abs/b.json]\n"
        "settings: {warn_expiring_within_days: 30, allow_permanent_exceptions: true}\n")
    pol = load_policy(str(p))
    r = pol.rules
    assert (r.severity, r.fixable_only, r.kev, r.epss_above, r.ids, r.secrets, r.misconfigurations, r.db_older_than_days) == (
        "HIGH", True, True, 1.0, ("CVE-2021-44228",), "HIGH", "MEDIUM", 7.0)
    assert r.licenses == LicenseRule(("GPL-3.0-only", "GPL-2.0-only WITH Classpath-exception-2.0"), ("MIT", "GPL-2.0"))
    assert [(e.id, e.rule_id, e.fingerprint, e.package, e.path, e.justification, e.expires, e.vex_status) for e in pol.exceptions] == [
        ("CVE-1", "", "", "idna", "", "why", date(2027, 1, 1), "fixed"),
        ("", "aws-access-key-id", "", "", "/app", "test keys", date(2027, 2, 1), "not_affected"),
        ("", "", "abc", "", "", "rotated", None, "not_affected"),
    ]
    assert pol.vex == [str(tmp_path / "vex/a.json"), "/abs/b.json"]
    assert (pol.warn_expiring_within_days, pol.allow_permanent_exceptions, pol.gate) == (30, True, True)


def test_empty_sections_and_an_empty_file_load(tmp_path):
    p = tmp_path / "policy.yaml"
    p.write_text("version: 1\nfail_on:\nexceptions:\nvex:\nsettings:\n")
    assert load_policy(str(p)).gate
    p.write_text("")
    assert load_policy(str(p)).exceptions == []


@pytest.mark.parametrize("doc", ["docs/policy.md", "src/hullscan/policy/model.py"])
def test_the_documented_example_policy_loads(tmp_path, doc):
    text = (REPO / doc).read_text()
    block = re.search(r"```yaml\n(version: 1\n.*?)```", text, re.S) or re.search(r'\n(    version: 1\n.*?)"""', text, re.S)
    assert block, f"{doc} shows a policy"
    lines = block.group(1).splitlines()
    indent = len(lines[0]) - len(lines[0].lstrip())
    (tmp_path / "policy.yaml").write_text("\n".join(line[indent:] for line in lines) + "\n")
    policy = load_policy(str(tmp_path / "policy.yaml"))
    assert policy.rules.severity == "HIGH" and policy.exceptions[0].id == "CVE-2023-1234"


def _pkg(name: str, licence: str) -> Package:
    return Package(type="pypi", name=name, version="1", ecosystem="PyPI", purl=f"pkg:pypi/{name}@1", analyzer="python",
                   licenses=(licence,))


def test_licence_rule_entries_are_read_as_spdx_names():
    """`GPL-2.0` in a deny list is the licence SPDX now calls `GPL-2.0-only`: both spellings in a package are
    caught (compared as text, the alias matched neither, and the rule failed open)."""
    pkgs = [_pkg("a", "GPL-2.0"), _pkg("b", "GPL-2.0-only"), _pkg("c", "MIT"), _pkg("d", "GPL-2.0-or-later")]
    assert [p.name for p, _, _ in license_violations(pkgs, LicenseRule(deny=("GPL-2.0",)))] == ["a", "b"]
    assert [p.name for p, _, _ in license_violations(pkgs, LicenseRule(allow=("gpl-2.0", "MIT")))] == ["d"]


# --- Trivy's ignore files ------------------------------------------------------------------------------------

IGNORE_REFUSALS = [
    ("vulnerabilities: 5\n", "vulnerabilities: expected a list of mappings, got an integer"),
    ("vulnerabilities:\n  - id: CVE-1\n    paths: 7\n", "vulnerabilities[0].paths: expected a list of strings, got an integer"),
    ("vulnerabilities:\n  - id: CVE-1\n    pths: [usr/lib]\n", "vulnerabilities[0]: unknown key 'pths' (did you mean 'paths'?)"),
    ("secrets:\n  - id: aws-access-key-id\n    expired_at: 2027-13-01\n",
     "secrets[0].expired_at: '2027-13-01' is not a valid date (expected YYYY-MM-DD)"),
    ("licenses:\n  - paths: [x]\n", "licenses[0]: id is required"),
    ("vulnerability:\n  - id: CVE-1\n", "unknown key 'vulnerability' (did you mean 'vulnerabilities'?)"),
    ("vulnerabilities:\n  - id: CVE-1\n    purls: pkg:npm/x\n", "vulnerabilities[0].purls: expected a list of strings, got a string"),
]


@pytest.mark.parametrize(("content", "expected"), IGNORE_REFUSALS, ids=[e[:40] for _, e in IGNORE_REFUSALS])
def test_trivyignore_yaml_mistakes_are_one_line(tmp_path, content, expected):
    assert refusal(tmp_path, ".trivyignore.yaml", content) == expected


def test_plain_trivyignore_refusals(tmp_path):
    assert refusal(tmp_path, ".trivyignore", b"CVE-2019-1547\nCVE-\xff\xfe\n") == "not valid UTF-8 (line 2, byte 18)"
    assert refusal(tmp_path, ".trivyignore", "CVE-1\nCVE-2 exp:2027-02-30\n") == (
        ":2: exp: '2027-02-30' is not a valid date (expected YYYY-MM-DD)")
    assert refusal(tmp_path, ".trivyignore", "CVE-1 exp:2027-1-1\n") == ":1: exp: '2027-1-1' is not a valid date (expected YYYY-MM-DD)"


def test_trivys_own_ignore_files_load():
    """Trivy's test fixtures and documentation samples, read as Trivy reads them (pkg/result/ignore.go): in
    the plain format the first field is the id and other fields but `exp:` are notes; a licence expression
    stays whole."""
    def read(name):
        return [(e.id or e.rule_id, e.path, e.purl, e.expires) for e in load_trivyignore(str(TRIVY / name))]

    plain = read("result.trivyignore")
    assert [i for i, *_ in plain] == ["CVE-2019-0001", "CVE-2019-0002", "CVE-2019-0004", "CVE-2019-0005", "CVE-2019-0006",
                                      "ID300", "AVD-ID400", "generic-unwanted-rule", "GPL-3.0"]
    assert plain[2][3] == date(2020, 1, 1) and plain[4][3] == date(9999, 1, 1)  # `exp:9999-01-01 key2:value2`
    docs = read("docs-filtering.trivyignore")
    assert [i for i, *_ in docs][-2:] == ["GPL-3.0", "Apache-2.0 WITH LLVM-exception"] and docs[1][3] == date(2023, 1, 1)

    fixture = read("result.trivyignore.yaml")
    assert len(fixture) == 20  # 7 vulnerabilities (the last with 2 purls), 4 misconfigurations, 3 secrets, 5 licences
    assert ("CVE-2019-0001", "**/*-lock.json", "", None) in fixture
    assert ("CVE-2019-0006", "", "", date(2020, 1, 1)) in fixture
    assert ("CVE-2019-0007", "", "pkg:golang/github.com/aquasecurity/bar", None) in fixture
    assert ("Apache-2.0 WITH LLVM-exception", "", "", None) in fixture
    sample = load_trivyignore(str(TRIVY / "docs-filtering.trivyignore.yaml"))
    assert len(sample) == 13
    assert [(e.id, e.justification, e.path) for e in sample[:1]] == [
        ("CVE-2022-40897", "Accept the risk", "usr/local/lib/python3.9/site-packages/setuptools-58.1.0.dist-info/METADATA")]
    assert [(e.id, e.purl) for e in sample if e.purl] == [("CVE-2023-3817", "pkg:deb/debian/libssl1.1")]
    assert [(e.rule_id, e.justification) for e in sample if e.rule_id == "AVD-DS-0002"] == [
        ("AVD-DS-0002", "The image needs root privileges")]


# --- VEX ------------------------------------------------------------------------------------------------------

OPENVEX = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "me", "timestamp": "2026-01-01T00:00:00Z", "version": 1}
CDX = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}
CSAF = {"document": {"category": "csaf_vex", "title": "t"}}

VEX_REFUSALS = [
    ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "JSON nested too deeply"),
    (json.dumps({**OPENVEX, "statements": [1]}), "statements[0]: expected a mapping, got an integer"),
    (json.dumps({**OPENVEX, "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "not_affected", "products": "pkg:x"}]}),
     "statements[0].products: expected a list of mappings, got a string"),
    (json.dumps({**OPENVEX, "statements": [{"vulnerability": {"name": 5}, "status": "fixed"}]}),
     "statements[0].vulnerability.name: expected a string, got an integer"),
    (json.dumps({**CDX, "components": [{"bom-ref": ["a"], "name": "x"}]}), "components[0].bom-ref: expected a string, got a list"),
    (json.dumps({**CDX, "vulnerabilities": [{"id": "CVE-1", "affects": "str", "analysis": {"state": "not_affected"}}]}),
     "vulnerabilities[0].affects: expected a list of mappings, got a string"),
    (json.dumps({**CDX, "components": 5}), "components: expected a list of mappings, got an integer"),
    (json.dumps({**CDX, "metadata": {"component": "app"}}), "metadata.component: expected a mapping, got a string"),
    (json.dumps({**CSAF, "product_tree": 5}), "product_tree: expected a mapping, got an integer"),
    (json.dumps({**CSAF, "vulnerabilities": [{"cve": "CVE-1", "product_status": {"fixed": "p1"}}]}),
     "vulnerabilities[0].product_status.fixed: expected a list of strings, got a string"),
    ("[1]", "not a VEX document (expected a JSON object, got a list)"),
    (b'{"statements": "\xff"}', "not valid UTF-8 (line 1, byte 16)"),
]


@pytest.mark.parametrize(("content", "expected"), VEX_REFUSALS, ids=[e[:40] for _, e in VEX_REFUSALS])
def test_vex_mistakes_are_one_line(tmp_path, content, expected):
    assert refusal(tmp_path, "vex.json", content) == expected


def test_deeply_nested_components_and_branches_are_read_without_recursion(tmp_path):
    """900 levels: within what the JSON parser takes, beyond what a recursive walk of ours would."""
    comp: dict = {"bom-ref": "deep", "purl": "pkg:npm/deep@1.0.0"}
    for i in range(450):
        comp = {"bom-ref": f"c{i}", "components": [comp]}
    cdx = {**CDX, "components": [comp],
           "vulnerabilities": [{"id": "CVE-1", "affects": [{"ref": "deep"}], "analysis": {"state": "not_affected"}}]}
    (tmp_path / "c.json").write_text(json.dumps(cdx))
    assert [(s.vulnerability, s.products, s.status) for s in load_vex(str(tmp_path / "c.json"))] == [
        ("CVE-1", ("pkg:npm/deep@1.0.0",), "not_affected")]
    branch: dict = {"product": {"product_id": "p1", "product_identification_helper": {"purl": "pkg:rpm/redhat/x@1"}}}
    for _ in range(450):
        branch = {"branches": [branch]}
    csaf = {**CSAF, "product_tree": {"branches": [branch]}, "vulnerabilities": [{"cve": "CVE-2", "product_status": {"fixed": ["p1"]}}]}
    (tmp_path / "s.json").write_text(json.dumps(csaf))
    assert [(s.vulnerability, s.products, s.status) for s in load_vex(str(tmp_path / "s.json"))] == [
        ("CVE-2", ("pkg:rpm/redhat/x@1",), "fixed")]


# --- through the CLI: exit 2, one line, no traceback ------------------------------------------------------------

CLI_CASES = [
    ("policy.yaml", "fail_on: {ids: CVE-2024-3651}\n", ("--policy",), "fail_on.ids: expected a list of strings, got a string"),
    ("policy.yaml", EXCEPTION + "    packge: not-idna\n", ("--policy",), "exceptions[0]: unknown key 'packge' (did you mean 'package'?)"),
    ("policy.yaml", EXCEPTION.replace("2027-01-01", "2026-13-45"), ("--policy",),
     "exceptions[0].expires: '2026-13-45' is not a valid date (expected YYYY-MM-DD)"),
    ("policy.yaml", "a: " + "[" * 50_000, ("--policy",), "nested deeper than 64 levels"),
    ("policy.yaml", "vex: 5\n", ("--policy",), "vex: expected a list of strings, got an integer"),
    (".trivyignore", b"CVE-1\n\xff\n", ("--ignorefile",), "not valid UTF-8 (line 2, byte 6)"),
    (".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-1\n    pths: [a]\n", ("--ignorefile",),
     "vulnerabilities[0]: unknown key 'pths' (did you mean 'paths'?)"),
    ("vex.json", json.dumps({**OPENVEX, "statements": [1]}), ("--scanners", "secret", "--no-cache", "--vex"),
     "statements[0]: expected a mapping, got an integer"),
]


@pytest.mark.parametrize(("name", "content", "option", "expected"), CLI_CASES, ids=[c[3][:40] for c in CLI_CASES])
def test_cli_exits_2_with_one_line(tmp_path, name, content, option, expected):
    (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    r = subprocess.run([sys.executable, "-m", "hullscan", "image", IMAGE, "-q", *option, name],
                       capture_output=True, text=True, cwd=tmp_path)
    assert (r.returncode, r.stderr) == (2, f"hullscan: error: {name}: {expected}\n")
    assert r.stdout == ""


def test_a_policy_that_passed_is_not_checked_again_and_a_bad_one_always_is(tmp_path):
    """The schema check imports jsonschema (~100 ms, a warm scan's whole cost): a document that passed is
    remembered by digest under $XDG_CACHE_HOME/hullscan/checked; a changed or invalid one is checked."""
    import subprocess
    import sys

    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nfail_on:\n  severity: HIGH\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nfail_on:\n  severity: HIGH\n  idz: [CVE-2024-3651]\n")
    probe = ("import sys; from hullscan.errors import InputError; from hullscan.policy.load import load_policy\n"
             "try:\n    load_policy(sys.argv[1]); print('ok', 'jsonschema' in sys.modules)\n"
             "except InputError as e:\n    print('refused', e)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def load(path):
        return subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True,
                              check=True).stdout.strip()

    assert load(good) == "ok True"  # checked, then remembered
    assert len(list((tmp_path / "cache/hullscan/checked").iterdir())) == 1
    assert load(good) == "ok False"  # remembered: jsonschema not even imported
    for _ in range(2):  # an invalid document is never remembered
        assert load(bad).startswith("refused ") and "unknown key 'idz' (did you mean 'ids'?)" in load(bad)
    good.write_text("version: 1\nfail_on:\n  severity: HIGH\n  idz: [CVE-2024-3651]\n")  # the same path, now bad
    assert "unknown key 'idz'" in load(good)
