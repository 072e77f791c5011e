"""`--format junit` validated against the Jenkins xunit plugin's JUnit XSD (tests/report/fixtures, with
PROVENANCE-junit.md); a test case per finding, failed exactly where the policy verdict failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_scan import GITHUB_TOKEN, load, render
from lxml import etree

XSD = Path(__file__).parent / "fixtures" / "junit-10.xsd"


@pytest.fixture(scope="module")
def docs() -> dict[str, etree._Element]:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    out = {}
    for which in ("plain", "judged"):
        raw = render(which, "junit")
        assert GITHUB_TOKEN.encode() not in raw
        doc = etree.fromstring(raw)
        assert schema.validate(doc), (which, schema.error_log)
        out[which] = doc
    return out


def _cases(doc: etree._Element, suite_part: str = "") -> list[etree._Element]:
    return [c for s in doc.iter("testsuite") if suite_part in s.get("name") for c in s.iter("testcase")]


def _label(case: etree._Element) -> str:
    """The gate's label: the test name without the ` [path]` that tells repeated labels apart."""
    return case.get("name").split(" [")[0]


def test_names_are_unique_per_class(docs: dict) -> None:
    for doc in docs.values():
        names = [(c.get("classname"), c.get("name")) for c in doc.iter("testcase")]
        assert len(names) == len(set(names))
    # django 2.2 is found twice (Pipfile.lock and the dist-info): one finding each, with two locations
    names = [c.get("name") for c in docs["plain"].iter("testcase")]
    assert names.count("CVE-2019-12308 (django 2.2)") == 1


def test_without_a_policy_every_finding_fails(docs: dict) -> None:
    report = load("plain")
    cases = _cases(docs["plain"])
    assert len(cases) == len(report["vulnerabilities"]) + len(report["secrets"]) + len(report["misconfigurations"])
    assert all(c.find("failure") is not None for c in cases)
    assert docs["plain"].get("tests") == str(len(cases)) == docs["plain"].get("failures")
    for suite in docs["plain"].iter("testsuite"):
        assert suite.get("tests") == str(len(suite.findall("testcase")))
    names = {s.get("name").split(" · ")[1] for s in docs["plain"].iter("testsuite")}
    assert names == {"vulnerabilities.PyPI", "secrets", "misconfigurations"}


def test_with_a_policy_failures_are_the_verdicts(docs: dict) -> None:
    report = load("judged")
    cases = _cases(docs["judged"])
    failed = {_label(c) for c in cases if c.find("failure") is not None}
    skipped = {_label(c) for c in cases if c.find("skipped") is not None}
    verdict_labels = {x for r in report["verdict"]["failed_rules"] for x in r["findings"]}
    assert failed == verdict_labels
    # by hand: the policy fails on HIGH+ vulnerabilities (certifi's CVE-2023-37920, HIGH in GitHub's record; idna's
    # CVE-2024-3651 has an exception) and on HIGH+ secrets (the planted GitHub token and AWS key id)
    assert "CVE-2023-37920 (certifi 2019.3.9)" in failed
    assert any(n.startswith("github-pat (/app/.env") for n in failed)
    assert any(n.startswith("aws-access-key-id (/root/.aws/credentials") for n in failed)
    assert skipped == {"CVE-2024-3651 (idna 2.8)", "CVE-2019-11236 (urllib3 1.24.2)"}
    total = len(report["vulnerabilities"]) + len(report["secrets"]) + len(report["misconfigurations"]) + len(report["suppressed"])
    assert len(cases) == total
    passed = [c for c in cases if c.find("failure") is None and c.find("skipped") is None]
    n_failed = sum(1 for c in cases if c.find("failure") is not None)
    assert len(passed) == total - n_failed - len(skipped)
    assert all(c.find("system-out") is not None for c in passed)
