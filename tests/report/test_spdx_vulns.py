"""SPDX 2.3 security external references from a real scan, validated by spdx-tools (JSON and tag-value)."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_scan import load, render
from spdx_tools.spdx.model import ExternalPackageRefCategory
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document


@pytest.mark.parametrize("fmt,suffix", [("spdx-json", ".spdx.json"), ("spdx", ".spdx")])
def test_security_refs_validate_and_match_the_findings(fmt: str, suffix: str, tmp_path: Path) -> None:
    report = load("judged")
    path = tmp_path / f"report{suffix}"
    path.write_bytes(render("judged", fmt))
    doc = parse_file(str(path))
    assert [m.validation_message for m in validate_full_spdx_document(doc)] == []
    advisories = []
    kinds = set()
    for pkg in doc.packages:
        for ref in pkg.external_references:
            if ref.category == ExternalPackageRefCategory.SECURITY:
                kinds.add(ref.reference_type)
                assert ref.locator.startswith(("https://", "http://"))
                if ref.reference_type == "advisory":
                    advisories.append((ref.comment.split(":")[0], pkg.name, pkg.version))
    # a finding of several copies of a package (django 2.2: dist-info and Pipfile.lock) names each copy
    expected = sorted((v["id"], v["package"]["name"], v["package"]["version"])
                      for v in report["vulnerabilities"] for _ in v.get("locations") or [1])
    assert sorted(advisories) == expected
    assert kinds == {"advisory", "fix", "url"}
    urllib3 = [p for p in doc.packages if p.name == "urllib3"][0]
    locators = {r.locator for r in urllib3.external_references}
    assert "https://nvd.nist.gov/vuln/detail/CVE-2023-43804" in locators
    fixes = {r.locator for r in urllib3.external_references if r.reference_type == "fix"}
    assert "https://github.com/urllib3/urllib3/commit/644124ecd0b6e417c527191f866daa05a5a2056d" in fixes
