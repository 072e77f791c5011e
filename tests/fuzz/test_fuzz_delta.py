"""The delta function (hullscan/delta/compare.py) on hypothesis-generated reports: it never raises, the
JSON document and the table render whatever it returns, and it is symmetric — what compare(a, b) adds
or introduces, compare(b, a) removes or fixes; an upgrade one way is the reverse pair the other way."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hullscan.delta.compare import compare
from hullscan.delta.document import to_dict
from hullscan.delta.gate import crossing
from hullscan.delta.table import render
from hullscan.model.findings import SEVERITIES, Epss, Finding, Kev, SecretFinding
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.inventory import LayerRef, Package
from hullscan.model.report import Report
from hullscan.model.verdict import Suppressed, Verdict

NAMES = st.sampled_from(["a", "b", "c"])
TYPES = st.sampled_from([("pypi", "PyPI"), ("deb", "Debian:12"), ("npm", "npm"), ("weird", "Nowhere")])
VERSIONS = st.sampled_from(["1.0", "1.1", "2.0", "1:0.9", "", "not a version", "1.0-r1", "v3"])
IDS = st.sampled_from(["CVE-1", "CVE-2", "GHSA-x", "GHSA-y", "PYSEC-1"])


@st.composite
def packages(draw: Any) -> Package:
    (type_, eco), name, version = draw(TYPES), draw(NAMES), draw(VERSIONS)
    return Package(type=type_, name=name, version=version, ecosystem=eco, purl=f"pkg:{type_}/{name}@{version}",
                   analyzer="fuzz", arch=draw(st.sampled_from(["", "amd64"])),
                   paths=(draw(st.sampled_from(["/a", "/b"])),), layer=LayerRef(draw(st.integers(0, 3)), "sha256:x"))


@st.composite
def findings(draw: Any, pkgs: list[Package]) -> Finding:
    fixed = draw(st.sampled_from(["", "2.0"]))
    return Finding(id=draw(IDS), aliases=tuple(draw(st.lists(IDS, max_size=2))), package=draw(st.sampled_from(pkgs)),
                   status="fixed" if fixed else "affected", fixed_version=fixed,
                   severity=draw(st.sampled_from([*SEVERITIES, ""])), severity_source="fuzz", cvss=None,
                   epss=draw(st.none() | st.floats(0, 1).map(lambda s: Epss(s, 0.5, "2025-01-01"))),
                   kev=draw(st.none() | st.just(Kev("2025-01-01", "2025-02-01", None))), title="t", references=(),
                   data_source="osv", advisory_ids=(), published=None)


SECRETS = st.builds(lambda path, line, rule: SecretFinding(rule_id=rule, category="c", severity="HIGH", title="t",
                                                           path=path, start_line=line, end_line=line, match="K=****",
                                                           fingerprint="f"),
                    st.sampled_from(["/x", "/y"]), st.integers(1, 3), st.sampled_from(["r1", "r2"]))


@st.composite
def reports(draw: Any) -> Report:
    pkgs = draw(st.lists(packages(), max_size=6))
    vulns = draw(st.lists(findings(pkgs), max_size=6)) if pkgs else []
    hidden = draw(st.lists(findings(pkgs), max_size=2)) if pkgs else []
    verdict = draw(st.none() | st.builds(Verdict, st.booleans(), st.none(), st.booleans()))
    return Report(created_at="2025-01-01T00:00:00Z", target=Target("t", "oci", "t"), layers=(), scanners=("vuln",),
                  os=None, config=ImageConfig(raw={}), base_image=BaseImage(None, draw(st.sampled_from(["", "b1"]))),
                  packages=tuple(pkgs), vulnerabilities=tuple(vulns), secrets=tuple(draw(st.lists(SECRETS, max_size=4))),
                  suppressed=tuple(Suppressed("vulnerability", f, "exception", "not_affected") for f in hidden),
                  verdict=verdict)


def _pkgs(items: Any) -> Counter[tuple[Any, ...]]:
    return Counter((p.type, p.name, p.arch, p.version) for p in items)


def _sides(items: Any) -> Counter[tuple[Any, ...]]:
    return Counter((s.finding.id, s.finding.package.name, s.finding.package.version, s.suppressed) for s in items)


@given(reports(), reports())
def test_delta_is_symmetric_and_renders(a: Report, b: Report) -> None:
    ab, ba = compare(a, b), compare(b, a)
    assert _pkgs(ab.packages.added) == _pkgs(ba.packages.removed)
    assert _pkgs(ab.packages.removed) == _pkgs(ba.packages.added)
    assert Counter((u.old.version, u.new.version, u.new.name) for u in ab.packages.upgraded) == \
        Counter((u.new.version, u.old.version, u.new.name) for u in ba.packages.upgraded)
    assert ab.packages.unchanged == ba.packages.unchanged
    assert _sides(ab.findings.introduced) == _sides(ba.findings.fixed)
    assert _sides(ab.findings.fixed) == _sides(ba.findings.introduced)
    assert len(ab.findings.changed) == len(ba.findings.changed) and ab.findings.unchanged == ba.findings.unchanged
    assert Counter(s.path for s in ab.secrets.added) == Counter(s.path for s in ba.secrets.removed)
    assert {"pass_to_fail": "fail_to_pass", "fail_to_pass": "pass_to_fail"}.get(ab.verdict.change, ab.verdict.change) \
        == ba.verdict.change
    failed = crossing(ab, "MEDIUM")
    to_dict(ab, a, b, threshold="MEDIUM", failed=failed)
    render(ab, a, b, threshold="MEDIUM", failed=failed, gated=True, width=80)


@given(reports())
def test_a_report_against_itself_changes_nothing(a: Report) -> None:
    d = compare(a, a)
    assert (d.packages.added, d.packages.removed, d.packages.upgraded) == ((), (), ())
    assert (d.findings.introduced, d.findings.fixed, d.findings.changed) == ((), (), ())
    assert (d.secrets.added, d.secrets.removed) == ((), ())
