"""The verdict — each failed rule and the findings behind it — is in every output format (issue 11)."""

from __future__ import annotations

import pytest
from formats_scan import load, render


@pytest.mark.parametrize("fmt", ["json", "table", "sarif", "junit", "html", "cyclonedx", "cyclonedx-xml", "spdx-json", "spdx"])
def test_failed_rules_and_their_findings_are_in_every_format(fmt: str) -> None:
    verdict = load("judged")["verdict"]
    assert verdict["gate"] and not verdict["passed"]
    text = render("judged", fmt).decode()
    for rule in verdict["failed_rules"]:
        assert rule["rule"] in text, (fmt, rule["rule"])
        label = rule["findings"][0]
        assert label.split(" ")[0] in text, (fmt, label)
