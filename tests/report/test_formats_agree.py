"""Every format rendered from the same scan of a real multi-layer image (tests/report/formats_scan.py: the
example alpine + Django image plus a secrets layer and a deleting layer) agrees on the number of findings."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import jsonschema
import pytest
from formats_scan import REPO, load, render
from lxml import etree
from spdx_tools.spdx.parser.parse_anything import parse_file

CDX = {"c": "http://cyclonedx.org/schema/bom/1.6"}


def counts(which: str) -> dict[str, tuple[int, int]]:
    """format → (vulnerabilities shown, all findings shown) as each document states them."""
    out: dict[str, tuple[int, int]] = {}
    rep = json.loads(render(which, "json"))
    out["json"] = (len(rep["vulnerabilities"]), len(rep["vulnerabilities"]) + len(rep["secrets"]) + len(rep["misconfigurations"]))

    sarif = json.loads(render(which, "sarif"))["runs"][0]["results"]
    live = [r for r in sarif if not r.get("suppressions")]
    out["sarif"] = (sum(1 for r in live if r["properties"]["kind"] == "vulnerability"), len(live))

    junit = etree.fromstring(render(which, "junit"))
    cases = [c for c in junit.iter("testcase") if c.find("skipped") is None and not c.get("classname").endswith(".policy")]
    vulns = [c for c in cases if ".vulnerabilities." in c.get("classname")]
    out["junit"] = (len(vulns), len(cases))

    html = render(which, "html").decode()
    data = json.loads(re.search(r'<script type="application/json" id="hullscan-data">(.*?)</script>', html, re.S).group(1))
    out["html"] = (sum(1 for r in data["findings"] if r["kind"] == "vulnerability"), len(data["findings"]))

    bom = json.loads(render(which, "cyclonedx"))
    live_v = [v for v in bom.get("vulnerabilities", []) if not any(p["name"] == "hullscan:suppressed_by" for p in v.get("properties", []))]
    out["cyclonedx"] = (len(live_v), -1)
    xml = etree.fromstring(render(which, "cyclonedx-xml"))
    suppressed = xml.xpath("count(c:vulnerabilities/c:vulnerability[c:properties/c:property[@name='hullscan:suppressed_by']])",
                           namespaces=CDX)
    out["cyclonedx-xml"] = (len(xml.findall("c:vulnerabilities/c:vulnerability", CDX)) - int(suppressed), -1)

    for fmt, suffix in (("spdx-json", ".spdx.json"), ("spdx", ".spdx")):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"doc{suffix}"
            path.write_bytes(render(which, fmt))
            doc = parse_file(str(path))
        # SPDX refers to advisories per package: a finding of several copies of a package names each copy
        n = sum(1 for p in doc.packages for r in p.external_references if r.reference_type == "advisory")
        out[fmt] = (n - sum(len(v.get("locations") or [1]) - 1 for v in load(which)["vulnerabilities"]), -1)
    return out


@pytest.mark.parametrize("which", ["plain", "judged"])
def test_all_formats_count_the_same_findings(which: str) -> None:
    report = load(which)
    expected = (len(report["vulnerabilities"]), len(report["vulnerabilities"]) + len(report["secrets"]) + len(report["misconfigurations"]))
    # by hand: the example image's lockfile and dist-info give ≥ 40 PyPI findings (django 2.2 is in both:
    # one finding each, with two locations); 3 planted secrets; no USER
    assert expected[0] >= 40 and len(report["secrets"]) == 3 and len(report["misconfigurations"]) == 1
    got = counts(which)
    for fmt, (vulns, total) in got.items():
        assert vulns == expected[0], (fmt, got)
        if total >= 0:  # SBOM formats carry no secrets
            assert total == expected[1], (fmt, got)


def test_openvex_states_what_was_suppressed() -> None:
    report = load("judged")
    vex = json.loads(render("judged", "openvex"))
    schema = json.loads((REPO / "tests" / "policy" / "testdata" / "openvex-schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(vex)
    assert len(vex["statements"]) == len(report["suppressed"]) == 2
    bom = json.loads(render("judged", "cyclonedx"))
    decided = {v["id"] for v in bom["vulnerabilities"] if (v.get("analysis") or {}).get("state") == "not_affected"}
    assert {s["vulnerability"]["name"] for s in vex["statements"]} == decided
