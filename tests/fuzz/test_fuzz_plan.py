"""The planner (hullscan/plan/build.py) on hypothesis-generated findings and base advice: it never raises;
every fixable finding is removed by exactly one step, and a step's removals never overlap another's; what no
step removes is `unfixed`; the risk left is never negative and never grows; a package step's target is no
lower than any fixed version it answers for (in its scheme); without a base bump the steps remove
non-increasing risk (the exact order for independent upgrades). The plan renders in JSON, table and HTML."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hullscan.model.findings import Finding, MatchDetails, Risk
from hullscan.model.inventory import LayerRef, Package
from hullscan.model.report import AdviceBase, AdviceCandidate, AdviceFinding, BaseAdvice
from hullscan.plan.build import build
from hullscan.plan.fixes import order_for
from hullscan.report.plan import from_dict, html_section, table_lines, to_dict

TYPES = st.sampled_from([("pypi", "PyPI", "pep440"), ("deb", "Debian:12", "deb"), ("npm", "npm", "npm"),
                         ("weird", "Nowhere", "no-such-scheme")])
VERSIONS = st.sampled_from(["", "1.0", "1.10", "1.9", "2.0", "1:0.9", "1.0-1~deb12u1", "not a version", "v3", "0"])
STATUSES = st.sampled_from(["fixed", "affected", "will_not_fix", "fix_deferred", "under_investigation"])


@st.composite
def findings(draw: Any) -> list[Finding]:
    out = []
    for n in range(draw(st.integers(0, 12))):
        (type_, eco, scheme), name = draw(TYPES), draw(st.sampled_from(["a", "b", "c"]))
        layer = draw(st.integers(0, 3))
        base = draw(st.sampled_from([True, False, None]))
        pkg = Package(type=type_, name=name, version=draw(VERSIONS), ecosystem=eco, purl=f"pkg:{type_}/{name}",
                      analyzer="fuzz", source_name=draw(st.sampled_from(["", "src"])),
                      layer=LayerRef(layer, "sha256:x", draw(st.sampled_from(["", "RUN x"])), base), inherited=base)
        fixed = draw(VERSIONS)
        details = (MatchDetails("m", "osv", f"V-{n}", eco, name, "name", pkg.version, scheme, "", "fixed"),) \
            if draw(st.booleans()) else ()
        out.append(Finding(id=f"V-{draw(st.integers(0, 5))}", aliases=(), package=pkg,
                           status="fixed" if fixed else draw(STATUSES), fixed_version=fixed, severity="HIGH",
                           severity_source="", cvss=None, epss=None, kev=None, title="", references=(), data_source="",
                           advisory_ids=(), published=None, details=details,
                           risk=Risk(draw(st.floats(0, 100, allow_nan=False)), "") if draw(st.booleans()) else None,
                           inherited=base))
    return out


@st.composite
def advice(draw: Any, found: list[Finding]) -> BaseAdvice | None:
    if draw(st.booleans()):
        return None
    listed = [AdviceFinding(f.id, f.package.name, f.package.version, "HIGH", f.fixed_version) for f in found]
    cands = []
    for i in range(draw(st.integers(0, 3))):
        removes = tuple(draw(st.lists(st.sampled_from(listed), max_size=6))) if listed else ()
        cands.append(AdviceCandidate(AdviceBase(i, f"b:{i}", "b", (str(i),), "", "", "linux/amd64", None, "debian", "12"),
                                     removes, (), ()))
    current = AdviceBase(99, "b:0", "b", ("0",), "", "", "linux/amd64", None, "debian", "12")
    return BaseAdvice(current if draw(st.booleans()) else None, (), tuple(cands), "")


@given(st.data())
def test_plan_invariants(data: Any) -> None:
    found = data.draw(findings())
    adv = data.draw(advice(found))
    plan = build(found, adv)
    removed: list[tuple[str, str, str]] = []
    for s in plan.steps:
        removed += [(f.id, f.package, f.version) for f in s.removes]
        assert s.removes, "a step removes something"
    keys = [(f.id, f.package.name, f.package.version) for f in found]
    # a finding is removed once: the steps' removals, with `unfixed`, are the findings (as a multiset)
    assert sorted(removed + [(f.id, f.package, f.version) for f in plan.unfixed]) == sorted(keys)
    fixable_left = [f for f in plan.unfixed if f.fixed_version]
    assert not fixable_left, "every fixable finding is removed by a step"
    lefts = [plan.risk_total] + [s.risk_left for s in plan.steps]
    assert all(x >= 0 for x in lefts) and all(a >= b for a, b in zip(lefts, lefts[1:], strict=False))
    assert plan.risk_left == (plan.steps[-1].risk_left if plan.steps else plan.risk_total)
    assert sum(1 for s in plan.steps if s.kind == "base") <= 1
    if not any(s.kind == "base" for s in plan.steps):
        gains = [s.risk_removed for s in plan.steps]
        assert all(a >= b for a, b in zip(gains, gains[1:], strict=False))
    for s in plan.steps:
        if s.kind == "package":
            listed = {(x.id, x.package, x.version, x.layer) for x in s.removes}
            mine = [f for f in found if f.fixed_version and f.package.type == s.type
                    and (f.id, f.package.name, f.package.version, f.package.layer.index) in listed]
            order = order_for(mine)
            assert all(order.compare(s.target, f.fixed_version) >= 0 for f in mine)
    assert from_dict(to_dict(plan)) == plan
    for width in (40, 80, 120):
        table_lines(plan, width)
    html_section(plan)
