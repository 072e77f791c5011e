"""Requirement strings -> OSV events; each expectation worked out by hand from the requirement semantics
(Cargo: ^1.2.3 = [1.2.3, 2.0.0), ^0.2.3 = [0.2.3, 0.3.0), ~1.2 = [1.2.0, 1.3.0); RubyGems: ~> 7.0.8 =
[7.0.8, 7.1), ~> 2.2 = [2.2, 3))."""

from __future__ import annotations

import pytest

from hullscan.vulndb.feeds._requirements import to_events, to_range

I, F = "introduced", "fixed"  # noqa: E741  (short names keep the event tables below readable)


@pytest.mark.parametrize("patched,unaffected,dialect,events", [
    ([">= 0.14.10"], [], "semver", [{I: "0"}, {F: "0.14.10"}]),
    (["^0.9.1", ">= 1.0.2"], ["< 0.3.0"], "semver", [{I: "0.3.0"}, {F: "0.9.1"}, {I: "0.10.0"}, {F: "1.0.2"}]),
    (["^1.2.3"], [], "semver", [{I: "0"}, {F: "1.2.3"}, {I: "2.0.0"}]),
    (["~1.2"], [], "semver", [{I: "0"}, {F: "1.2.0"}, {I: "1.3.0"}]),
    (["0.0.3"], [], "semver", [{I: "0"}, {F: "0.0.3"}, {I: "0.0.4"}]),  # bare = caret
    ([], [], "semver", [{I: "0"}]),
    ([">= 2.0.0", ">= 1.0.0, < 1.5.0"], [], "semver", [{I: "0"}, {F: "1.0.0"}, {I: "1.5.0"}, {F: "2.0.0"}]),
    ([">= 1.0.0, < 3.0.0", ">= 2.0.0"], [], "semver", [{I: "0"}, {F: "1.0.0"}]),  # overlapping merge
    (["~> 1.15.6", ">= 1.16.2"], [], "gem", [{I: "0"}, {F: "1.15.6"}, {I: "1.16"}, {F: "1.16.2"}]),
    (["~> 2.2"], [], "gem", [{I: "0"}, {F: "2.2"}, {I: "3"}]),
    ([">= 8.1.2.1"], ["< 8.1.0"], "gem", [{I: "8.1.0"}, {F: "8.1.2.1"}]),
    ([">= 1.0.0.rc1"], [], "gem", [{I: "0"}, {F: "1.0.0.rc1"}]),
])
def test_exact_events(patched: list[str], unaffected: list[str], dialect: str, events: list[dict]) -> None:
    assert to_events(patched, unaffected, dialect) == events


@pytest.mark.parametrize("patched,dialect", [
    (["> 1.27.0"], "semver"), (["<= 1.0"], "semver"), (["= 1.2.3"], "semver"),
    (["1.2.3"], "gem"), (["!= 1.0"], "gem"), (["> 2.0"], "gem"), (["garbage!!"], "semver"),
])
def test_inexact_keeps_raw_strings(patched: list[str], dialect: str) -> None:
    assert to_events(patched, [], dialect) is None
    r = to_range(patched, ["< 0.1"], dialect, "ECOSYSTEM")
    assert r == {"type": "ECOSYSTEM", "requirements": {"patched": patched, "unaffected": ["< 0.1"]}, "dialect": dialect}
