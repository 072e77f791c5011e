"""CycloneDX 1.6 `vulnerabilities` (JSON and XML) from a real scan, checked by cyclonedx-python-lib's strict
JSON and XML validators, and against the scan: ratings, advisories, alias references, affects and the
VEX analysis of the findings the policy suppressed or annotated (tests/report/formats_scan.py)."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from formats_scan import load, render
from lxml import etree

NS = {"c": "http://cyclonedx.org/schema/bom/1.6"}


@pytest.fixture(scope="module")
def boms() -> dict[str, tuple[dict, etree._Element]]:
    out = {}
    for which in ("plain", "judged"):
        j, x = render(which, "cyclonedx").decode(), render(which, "cyclonedx-xml").decode()
        if which == "judged":
            # the strict JSON validator checks every URL with an Earley parser (~0.1 s CPU each): once is enough,
            # the judged report holds everything the plain one does plus the suppressed findings
            assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(j) is None
        assert XmlValidator(SchemaVersion.V1_6).validate_str(x) is None
        out[which] = (json.loads(j), etree.fromstring(x.encode()))
    return out


def test_every_finding_is_a_vulnerability_affecting_its_component(boms: dict) -> None:
    for which, (bom, xml) in boms.items():
        report = load(which)
        expected = len(report["vulnerabilities"]) + len(report.get("suppressed") or [])
        assert len(bom["vulnerabilities"]) == expected == len(xml.findall("c:vulnerabilities/c:vulnerability", NS))
        refs = {c["bom-ref"] for c in bom["components"]}
        pkg_of = {(v["id"], v["package"]["id"]) for v in report["vulnerabilities"]}
        got = {(v["id"], v["affects"][0]["ref"]) for v in bom["vulnerabilities"]
               if not any(p["name"] == "hullscan:suppressed_by" for p in v.get("properties", []))}
        assert got == pkg_of and {r for _, r in got} <= refs


def test_ratings_references_advisories(boms: dict) -> None:
    vulns = {v["id"]: v for v in boms["plain"][0]["vulnerabilities"] if v["affects"][0]["ref"]}
    v = vulns["CVE-2023-43804"]  # GitHub's record (examples/feeds/ghsa-pypi): CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N, 5.9
    assert v["ratings"][0] == {"method": "CVSSv31", "score": 5.9, "severity": "medium", "source": {"name": "osv"},
                               "vector": "AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N"}  # the library drops "CVSS:3.1/"
    assert {r["id"] for r in v["references"]} == {"PYSEC-2023-192", "GHSA-v845-jxx5-vc9f"}
    assert {r["source"]["url"] for r in v["references"]} >= {"https://github.com/advisories/GHSA-v845-jxx5-vc9f"}
    assert v["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-43804"
    assert "https://github.com/urllib3/urllib3/security/advisories/GHSA-v845-jxx5-vc9f" in {a["url"] for a in v["advisories"]}
    assert {"status": "unaffected", "version": "1.26.17"} in v["affects"][0]["versions"]
    no_cvss = vulns["CVE-2021-33503"]  # the PyPA record alone (GitHub's says urllib3 1.25.4 and later)
    assert no_cvss["ratings"] == [{"method": "other", "severity": "unknown"}]
    xml = boms["plain"][1]
    score = xml.find("c:vulnerabilities/c:vulnerability[c:id='CVE-2023-43804']/c:ratings/c:rating/c:score", NS)
    assert score is not None and score.text == "5.9"


def test_vex_analysis(boms: dict) -> None:
    bom, xml = boms["judged"]
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    # OpenVEX not_affected + vulnerable_code_not_in_execute_path (tests/report/formats_scan.py)
    assert vulns["CVE-2019-11236"]["analysis"]["state"] == "not_affected"
    assert vulns["CVE-2019-11236"]["analysis"]["justification"] == "code_not_reachable"
    # the policy exception (default VEX status not_affected), with its justification
    assert vulns["CVE-2024-3651"]["analysis"]["state"] == "not_affected"
    assert "idna only parses our own host names" in vulns["CVE-2024-3651"]["analysis"]["detail"]
    # OpenVEX under_investigation annotates (does not suppress)
    assert vulns["CVE-2023-45803"]["analysis"]["state"] == "in_triage"
    assert "analysis" not in vulns["CVE-2023-43804"]
    states = xml.findall("c:vulnerabilities/c:vulnerability/c:analysis/c:state", NS)
    assert sorted(s.text for s in states) == ["in_triage", "not_affected", "not_affected"]
