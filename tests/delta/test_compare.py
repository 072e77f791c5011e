"""The delta function on hand-made reports: every expected value follows from the records built here."""

from __future__ import annotations

from typing import Any

from hullscan.delta.compare import compare
from hullscan.delta.gate import crossing
from hullscan.model.findings import Epss, Finding, Kev, SecretFinding
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.inventory import LayerRef, Package
from hullscan.model.report import Report
from hullscan.model.verdict import Suppressed, Verdict


def pkg(name: str, version: str, *, type_: str = "pypi", arch: str = "", layer: int = 1, path: str = "") -> Package:
    eco = {"pypi": "PyPI", "deb": "Debian:12", "npm": "npm"}[type_]
    return Package(type=type_, name=name, version=version, ecosystem=eco, purl=f"pkg:{type_}/{name}@{version}",
                   analyzer="test", arch=arch, paths=(path,) if path else (), layer=LayerRef(layer, f"sha256:{layer}"))


def vuln(vid: str, p: Package, *, aliases: tuple[str, ...] = (), severity: str = "MEDIUM", fixed: str = "",
         status: str = "affected", epss: float | None = None, kev: bool = False) -> Finding:
    return Finding(id=vid, aliases=aliases, package=p, status="fixed" if fixed else status, fixed_version=fixed,
                   severity=severity, severity_source="test", cvss=None,
                   epss=Epss(epss, 0.5, "2025-01-01") if epss is not None else None,
                   kev=Kev("2025-01-01", "2025-02-01", None) if kev else None, title="t", references=(),
                   data_source="osv", advisory_ids=(vid,), published=None)


def secret(path: str, line: int = 1, rule: str = "github-pat", match: str = "TOKEN=ghp_****") -> SecretFinding:
    return SecretFinding(rule_id=rule, category="GitHub", severity="CRITICAL", title="GitHub token", path=path,
                         start_line=line, end_line=line, match=match, fingerprint="f")


def report(packages: list[Package] = (), vulns: list[Finding] = (), secrets: list[SecretFinding] = (),  # type: ignore[assignment]
           base: BaseImage | None = None, verdict: Verdict | None = None, **kw: Any) -> Report:
    return Report(created_at="2025-01-01T00:00:00Z", target=Target("x", "oci", "x"), layers=(), scanners=("vuln",),
                  os=None, config=ImageConfig(raw={}), base_image=base or BaseImage(None), packages=tuple(packages),
                  vulnerabilities=tuple(vulns), secrets=tuple(secrets), verdict=verdict, **kw)


def test_a_ghsa_that_gained_a_cve_alias_is_the_same_finding() -> None:
    """Old: the finding is known by its GHSA only. New: the DB merged it under its CVE, the GHSA an alias —
    and its severity moved MEDIUM → HIGH: one finding changed, nothing introduced or fixed."""
    p = pkg("sqlparse", "0.4.1")
    old = report([p], [vuln("GHSA-rrm6-wvj7-cwh2", p)])
    new = report([p], [vuln("CVE-2023-30608", p, aliases=("GHSA-rrm6-wvj7-cwh2", "PYSEC-2023-87"), severity="HIGH")])
    d = compare(old, new)
    assert d.findings.introduced == () and d.findings.fixed == ()
    (c,) = d.findings.changed
    assert (c.old.finding.id, c.new.finding.id) == ("GHSA-rrm6-wvj7-cwh2", "CVE-2023-30608")
    assert [(m.field, m.old, m.new) for m in c.fields] == [("severity", "MEDIUM", "HIGH")]


def test_aliases_join_through_a_third_id() -> None:
    """PYSEC names the CVE; the GHSA names the CVE: the PYSEC finding and the GHSA finding are one."""
    p = pkg("idna", "3.6")
    old = report([p], [vuln("PYSEC-2024-60", p, aliases=("CVE-2024-3651",))])
    new = report([p], [vuln("GHSA-jjg7-2v4v-x38h", p, aliases=("CVE-2024-3651",))])
    d = compare(old, new)
    assert (d.findings.introduced, d.findings.fixed, d.findings.changed, d.findings.unchanged) == ((), (), (), 1)


def test_the_same_vulnerability_in_another_package_is_another_finding() -> None:
    a, b = pkg("urllib3", "1.24.2"), pkg("requests", "2.19.0")
    d = compare(report([a, b], [vuln("CVE-2018-1", a)]), report([a, b], [vuln("CVE-2018-1", b)]))
    assert [s.finding.package.name for s in d.findings.introduced] == ["requests"]
    assert [s.finding.package.name for s in d.findings.fixed] == ["urllib3"]


def test_upgraded_versus_added_and_removed() -> None:
    old = [pkg("foo", "1.0", layer=1), pkg("bar", "2.0"), pkg("libx", "1.0", type_="deb", arch="amd64"),
           pkg("libx", "2.0", type_="deb", arch="amd64"), pkg("libc6", "2.36-9", type_="deb", arch="amd64"),
           pkg("left", "3.0")]
    new = [pkg("foo", "1.1", layer=3), pkg("baz", "1.0", layer=4), pkg("libx", "1.0", type_="deb", arch="amd64"),
           pkg("libx", "3.0", type_="deb", arch="amd64"), pkg("libc6", "2.36-9", type_="deb", arch="i386"),
           pkg("left", "2.5")]
    d = compare(report(old), report(new)).packages
    ups = {(u.new.name, u.old.version, u.new.version, u.new.layer.index if u.new.layer else None, u.downgrade)
           for u in d.upgraded}
    # foo 1.0 → 1.1 brought by layer 3; of libx's versions 1.0 stays and 2.0 → 3.0; left goes down
    assert ups == {("foo", "1.0", "1.1", 3, False), ("libx", "2.0", "3.0", 1, False), ("left", "3.0", "2.5", 1, True)}
    # another architecture is another package
    assert {(p.name, p.arch) for p in d.added} == {("baz", ""), ("libc6", "i386")}
    assert {(p.name, p.arch) for p in d.removed} == {("bar", ""), ("libc6", "amd64")}
    assert d.unchanged == 1  # libx 1.0


def test_deb_versions_compare_with_dpkg_rules() -> None:
    """1:1.2.13 (epoch 1) is above 1.3 (epoch 0): a move from the first to the second is a downgrade."""
    old = report([pkg("zlib1g", "1:1.2.13.dfsg-1", type_="deb", arch="amd64")])
    new = report([pkg("zlib1g", "1.3.dfsg-1", type_="deb", arch="amd64")])
    (u,) = compare(old, new).packages.upgraded
    assert u.downgrade is True


def test_secrets_by_rule_path_and_masked_line() -> None:
    old = [secret("/app/.env", line=3), secret("/app/old.env")]
    new = [secret("/app/.env", line=7), secret("/srv/new.env")]  # .env's secret moved down: the same
    d = compare(report(secrets=old), report(secrets=new)).secrets
    assert [s.path for s in d.added] == ["/srv/new.env"]
    assert [s.path for s in d.removed] == ["/app/old.env"]
    assert d.unchanged == 1


def test_verdict_pass_to_fail_is_called_out_and_gates() -> None:
    passed = Verdict(gate=True, policy="p.yaml", passed=True)
    failed = Verdict(gate=True, policy="p.yaml", passed=False)
    d = compare(report(verdict=passed), report(verdict=failed))
    assert d.verdict.change == "pass_to_fail"
    assert crossing(d, "CRITICAL") == ["verdict: passed -> failed"]
    assert compare(report(verdict=failed), report(verdict=passed)).verdict.change == "fail_to_pass"
    default = Verdict(gate=False, policy=None, passed=True)
    assert compare(report(verdict=default), report(verdict=default)).verdict.change == "none"


def test_threshold_and_suppression() -> None:
    p, q = pkg("a", "1"), pkg("b", "1")
    medium, high = vuln("CVE-1", p, severity="MEDIUM"), vuln("CVE-2", q, severity="HIGH")
    new = report([p, q], [medium], suppressed=(Suppressed("vulnerability", high, "exception", "not_affected"),))
    d = compare(report([p, q]), new)
    assert [(s.finding.id, s.suppressed) for s in d.findings.introduced] == [("CVE-2", "exception"), ("CVE-1", "")]
    assert crossing(d, "HIGH") == []  # CVE-2 is HIGH but accepted by an exception
    assert crossing(d, "MEDIUM") == ["CVE-1 (a 1)"]
    assert crossing(d, None) == ["CVE-1 (a 1)"]


def test_an_exception_is_a_change_not_a_fix() -> None:
    p = pkg("a", "1")
    f = vuln("CVE-1", p)
    d = compare(report([p], [f]), report([p], suppressed=(Suppressed("vulnerability", f, "vex", "not_affected"),)))
    assert d.findings.fixed == ()
    (c,) = d.findings.changed
    assert [(m.field, m.old, m.new) for m in c.fields] == [("suppressed", "", "vex")]


def test_kev_epss_and_fix_moves() -> None:
    p = pkg("a", "1")
    old = report([p], [vuln("CVE-1", p, epss=0.100), vuln("CVE-2", p, epss=0.100)])
    new = report([p], [vuln("CVE-1", p, epss=0.105), vuln("CVE-2", p, epss=0.300, kev=True, fixed="2")])
    d = compare(old, new).findings
    assert d.unchanged == 1  # CVE-1's EPSS moved less than a point
    (c,) = d.changed
    assert {m.field for m in c.fields} == {"status", "fixed_version", "kev", "epss"}
    assert c.fix_available and c.moved("kev") is not None and c.moved("kev").new is True  # type: ignore[union-attr]


def test_base_change_is_name_or_digest() -> None:
    a = BaseImage(1, "debian:12", "sha256:1", "annotation")
    d = compare(report(base=a), report(base=BaseImage(1, "debian:12", "sha256:1", "catalog", provisional=False)))
    assert d.base.changed is False  # identified another way, the same base
    assert compare(report(base=a), report(base=BaseImage(1, "debian:12", "sha256:2", "annotation"))).base.changed


def test_two_copies_of_a_package_pair_by_version() -> None:
    """django 2.2 in a venv and 3.0 system-wide, both with CVE-X; the new image upgrades 2.2 to 3.0.5
    (fixed): the 2.2 finding is fixed, the 3.0 one stays."""
    a, b, c = pkg("django", "2.2", path="/venv"), pkg("django", "3.0", path="/usr"), pkg("django", "3.0.5", path="/venv")
    old = report([a, b], [vuln("CVE-X", a), vuln("CVE-X", b)])
    new = report([b, c], [vuln("CVE-X", b)])
    d = compare(old, new).findings
    assert [s.finding.package.version for s in d.fixed] == ["2.2"] and d.unchanged == 1 and d.introduced == ()
