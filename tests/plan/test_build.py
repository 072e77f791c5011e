"""The planner on hand-built findings (tests/plan/planhelp.py). Package names, versions and fixed versions
are those of real records where the case allows — werkzeug 2.2.2 and PYSEC-2023-57/-58 (both fixed in
2.2.3), requests 2.19.0 and PYSEC-2018-28 (fixed 2.20.0) / PYSEC-2023-74 (fixed 2.31.0), the Debian 12
tags of tests/base/test_advise.py — with risk scores chosen here, so each expectation below is arithmetic."""

from __future__ import annotations

import pytest
from planhelp import advice, finding, pkg

from hullscan.plan.build import build


def _steps(plan):  # noqa: ANN001, ANN202
    return [(s.rank, s.kind, s.name, s.target, [f.id for f in s.removes], s.risk_removed, s.risk_left)
            for s in plan.steps]


def test_two_findings_fixed_by_one_upgrade() -> None:
    w = pkg("werkzeug", "2.2.2")
    plan = build([finding("CVE-2023-23934", w, "2.2.3", 30.0), finding("CVE-2023-25577", w, "2.2.3", 40.0)])
    # one package, one fixed version: one step removing both (30 + 40 = 70), nothing left
    assert _steps(plan) == [(1, "package", "werkzeug", "2.2.3", ["CVE-2023-25577", "CVE-2023-23934"], 70.0, 0.0)]
    assert plan.steps[0].installed == ("2.2.2",) and plan.steps[0].scheme == "pep440"
    assert plan.risk_total == 70.0 and plan.risk_left == 0.0 and plan.unfixed == ()


def test_different_fixes_need_the_greatest() -> None:
    r = pkg("requests", "2.19.0")
    plan = build([finding("CVE-2018-18074", r, "2.20.0", 30.0), finding("CVE-2023-32681", r, "2.31.0", 20.0)])
    # 2.20.0 fixes only the first; 2.31.0 (the greater) fixes both
    assert [s.target for s in plan.steps] == ["2.31.0"]


def test_the_greatest_is_by_the_scheme_not_the_text() -> None:
    # PEP 440: 2.10.0 > 2.9.0, though "2.10.0" < "2.9.0" as text; Debian: ~ sorts before anything,
    # so 1.0-1 > 1.0-1~deb12u1
    p = pkg("lib", "2.8.0")
    assert build([finding("A-1", p, "2.9.0", 10.0), finding("A-2", p, "2.10.0", 10.0)]).steps[0].target == "2.10.0"
    d = pkg("libfoo1", "1.0-0", type_="deb", layer=1, source="foo")
    plan = build([finding("B-1", d, "1.0-1~deb12u1", 10.0), finding("B-2", d, "1.0-1", 10.0)])
    assert (plan.steps[0].target, plan.steps[0].scheme, plan.steps[0].name) == ("1.0-1", "deb", "foo")


def test_a_finding_without_a_fix_is_listed_with_its_status() -> None:
    c = pkg("curl", "7.88.1-10+deb12u4", type_="deb", layer=1, source="curl")
    plan = build([finding("HSTEST-2099-0006", c, "7.88.1-10+deb12u5", 51.2),
                  finding("CVE-2099-0001", c, "", 32.5, status="will_not_fix"),
                  finding("CVE-2099-0002", c, "", 20.0, status="fix_deferred")])
    assert _steps(plan) == [(1, "package", "curl", "7.88.1-10+deb12u5", ["HSTEST-2099-0006"], 51.2, 52.5)]
    # 32.5 + 20.0 left, highest risk first, each with its status
    assert [(f.id, f.status, f.risk) for f in plan.unfixed] == [("CVE-2099-0001", "will_not_fix", 32.5),
                                                                  ("CVE-2099-0002", "fix_deferred", 20.0)]
    assert plan.risk_left == 52.5


def test_ordered_by_risk_removed_with_the_risk_left() -> None:
    a, b, c = pkg("a", "1.0"), pkg("b", "1.0"), pkg("c", "1.0")
    plan = build([finding("A-1", a, "1.1", 10.0), finding("B-1", b, "2.0", 25.0), finding("B-2", b, "1.5", 5.0),
                  finding("C-1", c, "1.2", 20.0), finding("U-1", c, "", 7.5)])
    # total 10 + 25 + 5 + 20 + 7.5 = 67.5; b removes 30 (37.5 left), c 20 (17.5), a 10 (7.5: U-1, no fix)
    assert _steps(plan) == [(1, "package", "b", "2.0", ["B-1", "B-2"], 30.0, 37.5),
                            (2, "package", "c", "1.2", ["C-1"], 20.0, 17.5),
                            (3, "package", "a", "1.1", ["A-1"], 10.0, 7.5)]
    assert plan.risk_total == 67.5 and plan.risk_left == 7.5 and [f.id for f in plan.unfixed] == ["U-1"]


DEBIAN_12_1 = {  # tests/base/test_advise.py: the 12.1 tag's packages and the advisories they match
    "zlib": ("zlib1g", "1:1.2.13.dfsg-1"),
    "glibc": ("libc6", "2.36-9+deb12u3"),
    "openssl": ("libssl3", "3.0.11-1~deb12u1"),
}


def _inherited() -> dict[str, object]:
    pk = {src: pkg(name, ver, type_="deb", layer=0, source=src) for src, (name, ver) in DEBIAN_12_1.items()}
    return {
        "0001": finding("HSTEST-2099-0001", pk["zlib"], "1:1.2.13.dfsg-1+deb12u1", 57.2, severity="CRITICAL"),
        "0002": finding("HSTEST-2099-0002", pk["glibc"], "2.36-9+deb12u4", 46.2),
        "0003": finding("HSTEST-2099-0003", pk["glibc"], "2.36-9+deb12u7", 32.5, severity="MEDIUM"),
        "0004": finding("HSTEST-2099-0004", pk["openssl"], "3.0.13-1~deb12u1", 46.2),
        "glibc-nofix": finding("CVE-2099-1000", pk["glibc"], "", 20.0, status="will_not_fix", severity="LOW"),
    }


def test_a_base_bump_beats_three_package_bumps() -> None:
    inh = _inherited()
    curl = finding("HSTEST-2099-0006", pkg("curl", "7.88.1-10+deb12u4", type_="deb", layer=1, source="curl"),
                   "7.88.1-10+deb12u5", 51.2)
    found = [*inh.values(), curl]
    # 12.3 has none of the inherited findings (the unfixable glibc one included); 12.2 only loses 0001, 0002
    adv = advice(("example/deb:12.3", list(inh.values())), ("example/deb:12.2", [inh["0001"], inh["0002"]]))
    plan = build(found, adv)
    # total 57.2 + 46.2 + 32.5 + 46.2 + 20 + 51.2 = 253.3; the bump removes 202.1 (more than zlib 57.2, glibc
    # 78.7 = 46.2 + 32.5, openssl 46.2 together, plus the unfixable 20), leaving 51.2; then curl, leaving 0
    assert _steps(plan) == [
        (1, "base", "example/deb:12.3", "example/deb:12.3",
         ["HSTEST-2099-0001", "HSTEST-2099-0002", "HSTEST-2099-0004", "HSTEST-2099-0003", "CVE-2099-1000"], 202.1, 51.2),
        (2, "package", "curl", "7.88.1-10+deb12u5", ["HSTEST-2099-0006"], 51.2, 0.0)]
    assert plan.steps[0].covers == ("deb/glibc", "deb/openssl", "deb/zlib")
    assert plan.unfixed == () and plan.risk_left == 0.0 and plan.base_note == ""
    # the layers to change: only curl's (the base's packages are the bump's)
    assert [(g.index, g.created_by, g.steps) for g in plan.layers] == [(1, "RUN apt-get install -y curl", (2,))]


def test_without_the_bump_each_package_is_a_step() -> None:
    inh = _inherited()
    plan = build(list(inh.values()))
    # glibc 78.7 (target the greater fix, u7), zlib 57.2, openssl 46.2; the unfixable glibc finding stays
    assert [(s.name, s.target, s.risk_removed, s.risk_left) for s in plan.steps] == [
        ("glibc", "2.36-9+deb12u7", 78.7, 123.4), ("zlib", "1:1.2.13.dfsg-1+deb12u1", 57.2, 66.2),
        ("openssl", "3.0.13-1~deb12u1", 46.2, 20.0)]
    assert plan.steps[0].packages == ("libc6",) and plan.steps[0].installed == ("2.36-9+deb12u3",)
    assert [f.id for f in plan.unfixed] == ["CVE-2099-1000"]
    assert [(g.index, g.steps) for g in plan.layers] == [(0, (1, 2, 3))]


def test_a_bump_that_removes_part_of_a_package_leaves_the_rest_with_its_own_target() -> None:
    inh = _inherited()
    # a base whose glibc fixes 0003 (needs u7) but, oddly, not 0002 (u4): and zlib's 0001
    adv = advice(("example/deb:odd", [inh["0001"], inh["0003"]]))
    plan = build([inh["0001"], inh["0002"], inh["0003"]], adv)
    # bump 57.2 + 32.5 = 89.7 first (more than glibc's 78.7); glibc then only needs u4 for 0002 (46.2)
    assert [(s.kind, s.name, s.target, s.risk_removed, s.risk_left) for s in plan.steps] == [
        ("base", "example/deb:odd", "example/deb:odd", 89.7, 46.2), ("package", "glibc", "2.36-9+deb12u4", 46.2, 0.0)]
    assert plan.steps[0].covers == ("deb/zlib",)


def test_an_upgrade_bigger_than_the_bump_goes_first_and_the_bump_removes_the_rest() -> None:
    inh = _inherited()
    adv = advice(("example/deb:12.2", [inh["0001"], inh["0002"]]))
    plan = build([inh["0001"], inh["0002"], inh["0003"]], adv)
    # bump 57.2 + 46.2 = 103.4 beats glibc 78.7 and zlib 57.2; glibc then has 0003 left: 32.5 (u7)
    assert [(s.name, s.target, s.risk_removed) for s in plan.steps] == [
        ("example/deb:12.2", "example/deb:12.2", 103.4), ("glibc", "2.36-9+deb12u7", 32.5)]
    heavy = finding("HSTEST-2099-0002", inh["0002"].package, "2.36-9+deb12u4", 90.0)
    plan = build([inh["0001"], heavy, inh["0003"]], adv)
    # the bump's 57.2 + 90 = 147.2 beats glibc's 90 + 32.5 = 122.5: the bump first, then glibc's 32.5
    assert [(s.name, s.risk_removed) for s in plan.steps] == [("example/deb:12.2", 147.2), ("glibc", 32.5)]
    big = finding("HSTEST-2099-0003", inh["0003"].package, "2.36-9+deb12u7", 100.0)
    plan = build([inh["0001"], inh["0002"], big], adv)
    # glibc 46.2 + 100 = 146.2 beats the bump's 103.4: glibc first; the bump then removes only zlib's 57.2
    assert [(s.name, s.risk_removed, s.covers) for s in plan.steps] == [
        ("glibc", 146.2, ()), ("example/deb:12.2", 57.2, ("deb/zlib",))]


def test_no_candidate_says_why() -> None:
    inh = _inherited()
    adv = advice(("example/deb:12.9", []))
    plan = build([inh["0001"]], adv)
    assert [s.kind for s in plan.steps] == ["package"]
    assert "no catalogued base removes" in plan.base_note


def test_greedy_is_not_prefix_optimal_with_an_overlapping_bump() -> None:
    """docs/plan.md "Order": P1 = {a 10, x 9}, P2 = {b 10, y 9}, the bump {a, b}. Greedy takes the bump
    (20), then P1 and P2 (9 each): 29 after two changes, where P1 + P2 remove 38. All three remove 38."""
    a, b = pkg("p1", "1.0", layer=0), pkg("p2", "1.0", layer=0)
    fa, fx = finding("a", a, "2.0", 10.0), finding("x", a, "2.0", 9.0)
    fb, fy = finding("b", b, "2.0", 10.0), finding("y", b, "2.0", 9.0)
    plan = build([fa, fx, fb, fy], advice(("example/deb:x", [fa, fb])))
    assert [(s.name, s.risk_removed) for s in plan.steps] == [("example/deb:x", 20.0), ("p1", 9.0), ("p2", 9.0)]
    assert plan.risk_left == 0.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_prefix_is_optimal_for_independent_upgrades(n: int) -> None:
    # disjoint weights 40, 30, 20: the first n steps remove the n largest
    found = [finding(f"V-{w}", pkg(f"p{w}", "1.0"), "2.0", float(w)) for w in (20, 40, 30)]
    plan = build(found)
    assert sum(s.risk_removed for s in plan.steps[:n]) == sum(sorted((20, 40, 30), reverse=True)[:n])
