"""The gate on hand-built reports: each rule, each exception state, each VEX status; risk scores
checked against values computed by hand from the formula in docs/policy.md."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date

import jsonschema
import pytest

from hullscan.errors import InputError
from hullscan.model.findings import ConfigFinding, Cvss, Epss, Finding, Kev, Risk, SecretFinding
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.inventory import LayerRef, Package, ScanWarning
from hullscan.model.report import DbInfo, Report
from hullscan.policy.gate import exit_code_for, judge, label
from hullscan.policy.load import load_policy, load_trivyignore
from hullscan.policy.model import Exception_, LicenseRule, Policy, Rules
from hullscan.policy.risk import secret_risk, vulnerability_risk
from hullscan.report.openvex import render as render_openvex
from testsupport import REPO

TESTDATA = REPO / "tests/policy/testdata"
VUNNEL = REPO / "tests/vulndb/testdata/grype-vunnel/grype-vunnel-records.tar.gz"  # tests/vulndb/testdata/PROVENANCE.md
TRIVY_VEX = REPO / "tests/match/testdata/trivy-integration/fixtures/vex/file/openvex.json"

TODAY = date(2026, 11, 28)


def vuln(id_: str, sev: str = "HIGH", fixed: str = "1.2.3", kev: bool = False, epss: float | None = None,
         score: float | None = None, aliases: tuple[str, ...] = (), base: bool | None = False, name: str = "openssl",
         purl: str | None = None) -> Finding:
    pkg = Package(type="apk", name=name, version="1.0", ecosystem="Alpine:v3.19", purl=purl or f"pkg:apk/alpine/{name}@1.0",
                  analyzer="apk", paths=("/lib/apk/db/installed",), layer=LayerRef(0 if base else 1, "sha256:x", base=base),
                  inherited=base)
    return Finding(
        id=id_, aliases=aliases, package=pkg, status="fixed" if fixed else "affected", fixed_version=fixed, severity=sev,
        severity_source="nvd", cvss=Cvss("3.1", "CVSS:3.1/AV:N", score, "nvd") if score is not None else None,
        epss=Epss(epss, 0.9, "2026-11-27") if epss is not None else None,
        kev=Kev("2023-10-10", "2023-10-31", "Unknown") if kev else None,
        title="", references=(), data_source="nvd", advisory_ids=(id_,), published=None, inherited=base,
    )


def secret(rule: str = "aws-access-key-id", sev: str = "CRITICAL", path: str = "/app/.env", line: int = 3,
           fingerprint: str = "fp1", removed: bool = True, base: bool | None = False) -> SecretFinding:
    return SecretFinding(rule, "AWS", sev, "AWS Access Key ID", path, line, line, "AKIA****", fingerprint,
                         layer=LayerRef(1, "sha256:y", base=base), removed_in=LayerRef(2, "sha256:z") if removed else None,
                         inherited=base)


def package(name: str, *licenses: str) -> Package:
    return Package(type="pypi", name=name, version="1", ecosystem="PyPI", purl=f"pkg:pypi/{name}@1", analyzer="python",
                   licenses=licenses)


def scanned(vulnerabilities: Sequence[Finding] = (), secrets: Sequence[SecretFinding] = (),
            misconfigurations: Sequence[ConfigFinding] = (), packages: Sequence[Package] = (),
            db_age_days: float | None = None, warnings: tuple[ScanWarning, ...] = ()) -> Report:
    return Report(
        created_at="2026-11-28T00:00:00Z",
        target=Target("docker-archive:app.tar", "docker-archive", "app:1", manifest_digest="sha256:" + "a" * 64),
        layers=(), scanners=("secret", "vuln"), os=None, config=ImageConfig(raw={}), base_image=BaseImage(None),
        packages=packages, vulnerabilities=tuple(vulnerabilities), secrets=tuple(secrets),
        misconfigurations=tuple(misconfigurations), warnings=warnings,
        db=DbInfo("vuln.db", "2026-11-18T00:00:00Z", db_age_days) if db_age_days is not None else None,
    )


def test_risk_scores_by_hand():
    # 5.5*9.8 + 15 (KEV) + 20*0.94 + 5 (fix) + 5 (app layer) = 53.9+15+18.8+5+5 = 97.7
    assert vulnerability_risk(vuln("CVE-1", score=9.8, kev=True, epss=0.94)) == Risk(
        97.7, "KEV · CVSS 9.8 · EPSS 0.94 · fix 1.2.3 · app layer")
    # no CVSS: MEDIUM counts as 5.0 → 27.5; no fix; base layer → 27.5
    assert vulnerability_risk(vuln("CVE-2", sev="MEDIUM", fixed="", base=True)) == Risk(27.5, "no fix · base layer")
    # capped at 100: 5.5*10 + 15 + 20*1.0 + 5 + 5 = 100
    assert vulnerability_risk(vuln("CVE-3", score=10.0, kev=True, epss=1.0)).score == 100.0
    # a layer of unknown origin is neither: HIGH 7.5*5.5 = 41.25 + 5 (fix) → 46.2
    assert vulnerability_risk(vuln("CVE-4", base=None)) == Risk(46.2, "fix 1.2.3")
    # secret: HIGH 7.5*5.5 = 41.25 + 15 (still present) → 56.2 (one decimal, half-even on .25)
    assert secret_risk(secret(sev="HIGH", removed=False, base=None)).score == pytest.approx(56.2, abs=0.06)
    # deleted later, but an application layer added it: 41.25 + 5 → 46.2
    assert secret_risk(secret(sev="HIGH")) == Risk(46.2, "HIGH · deleted, still in a layer · app layer")


def failed_ids(report: Report) -> set[str]:
    assert report.verdict is not None and len(report.verdict.failed_rules) == 1
    return {f.split()[0] for f in report.verdict.failed_rules[0].findings}


def test_each_rule_fails_on_its_findings_only():
    report = scanned([vuln("CVE-A", "CRITICAL"), vuln("CVE-B", "HIGH", fixed=""), vuln("CVE-C", "LOW", kev=True),
                      vuln("CVE-D", "MEDIUM", epss=0.7), vuln("GHSA-x", "LOW", aliases=("CVE-E",))])
    out = judge(report, Policy(Rules(severity="HIGH"), gate=True), TODAY)
    assert out.verdict is not None and [r.rule for r in out.verdict.failed_rules] == ["fail_on.severity"]
    assert failed_ids(out) == {"CVE-A", "CVE-B"}
    assert failed_ids(judge(report, Policy(Rules(severity="HIGH", fixable_only=True), gate=True), TODAY)) == {"CVE-A"}
    assert failed_ids(judge(report, Policy(Rules(fixable_only=True), gate=True), TODAY)) == {"CVE-A", "CVE-C", "CVE-D", "GHSA-x"}
    assert failed_ids(judge(report, Policy(Rules(kev=True), gate=True), TODAY)) == {"CVE-C"}
    assert failed_ids(judge(report, Policy(Rules(epss_above=0.5), gate=True), TODAY)) == {"CVE-D"}
    assert failed_ids(judge(report, Policy(Rules(ids=("CVE-E",)), gate=True), TODAY)) == {"GHSA-x"}  # through an alias
    out = judge(scanned([vuln("CVE-Z", "LOW")]), Policy(Rules(severity="CRITICAL", kev=True), gate=True), TODAY)
    assert out.verdict is not None and out.verdict.passed and out.verdict.failed_rules == ()


def test_findings_are_labelled_and_sorted_by_risk():
    out = judge(scanned([vuln("CVE-LOW", "LOW"), vuln("CVE-KEV", "LOW", kev=True), vuln("CVE-CRIT", "CRITICAL")]),
                Policy(), TODAY)
    # by hand, one decimal, half-even: CRITICAL 52.25+5+5 → 62.2; LOW with KEV 13.75+15+5+5 → 38.8; LOW 13.75+5+5 → 23.8
    assert [(f.id, f.risk.score if f.risk else None) for f in out.vulnerabilities] == [
        ("CVE-CRIT", 62.2), ("CVE-KEV", 38.8), ("CVE-LOW", 23.8)]
    assert label(out.vulnerabilities[0]) == "CVE-CRIT (openssl 1.0)"
    assert label(secret()) == "aws-access-key-id (/app/.env:3)"
    assert label(ConfigFinding("HS-CFG-ROOT", "config", "MEDIUM", "root", "runs as root", "config:User")) == \
        "HS-CFG-ROOT (config:User:1)"
    assert out.verdict is not None and not out.verdict.gate and out.verdict.passed and out.verdict.policy is None


def test_secret_misconfiguration_license_and_db_age_rules():
    misconf = ConfigFinding("HS-CFG-ROOT", "config", "MEDIUM", "root", "runs as root", "config:User")
    packages = [package("gpl-only", "GPL-3.0-only"), package("dual", "MIT OR GPL-3.0-only"), package("mit", "MIT"),
                package("odd", "Custom License Words")]
    policy = Policy(Rules(secrets="HIGH", misconfigurations="MEDIUM", licenses=LicenseRule(deny=("GPL-3.0-only",)),
                          db_older_than_days=7), gate=True)
    out = judge(scanned(secrets=[secret()], misconfigurations=[misconf], packages=packages, db_age_days=9.5), policy, TODAY)
    assert out.verdict is not None
    failed = {r.rule: r.findings for r in out.verdict.failed_rules}
    assert failed == {
        "fail_on.secrets": ("aws-access-key-id (/app/.env:3)",),
        "fail_on.misconfigurations": ("HS-CFG-ROOT (config:User:1)",),
        "fail_on.licenses": ("gpl-only 1 (GPL-3.0-only: denied)",),  # MIT OR GPL leaves a choice
        "fail_on.db_older_than_days": ("DB age 9.5 days",),
    }
    allow = judge(scanned(packages=packages), Policy(Rules(licenses=LicenseRule(allow=("MIT",))), gate=True), TODAY)
    assert failed_ids(allow) == {"gpl-only"}


def test_a_licence_with_an_exception_is_named_by_its_licence_or_the_whole_form():
    """`WITH` made the gate crash (a symbol without a key); the exception only adds permissions, so
    the licence's own name denies or allows it, and so does the whole form."""
    java = [package("openjdk", "GPL-2.0-only WITH Classpath-exception-2.0")]

    def failing(rule: LicenseRule) -> set[str]:
        out = judge(scanned(packages=java), Policy(Rules(licenses=rule), gate=True), TODAY)
        assert out.verdict is not None
        return {f for r in out.verdict.failed_rules for f in r.findings}

    denied = {"openjdk 1 (GPL-2.0-only WITH Classpath-exception-2.0: denied)"}
    assert failing(LicenseRule(deny=("GPL-2.0-only",))) == denied
    assert failing(LicenseRule(deny=("GPL-2.0-only WITH Classpath-exception-2.0",))) == denied
    assert failing(LicenseRule(deny=("MIT",))) == set()
    assert failing(LicenseRule(allow=("GPL-2.0-only",))) == set()
    assert failing(LicenseRule(allow=("MIT",))) == {"openjdk 1 (GPL-2.0-only WITH Classpath-exception-2.0: not in the allow list)"}


def test_a_licence_exception_accepts_a_licence_finding():
    packages = [package("gpl-only", "GPL-3.0-only"), package("other", "GPL-3.0-only")]
    accept = Exception_("legal approved", id="GPL-3.0-only", package="gpl-only", expires=date(2027, 1, 1), source="p:0")
    out = judge(scanned(packages=packages), Policy(Rules(licenses=LicenseRule(deny=("GPL-3.0-only",))), exceptions=[accept],
                                                   gate=True), TODAY)
    assert failed_ids(out) == {"other"}
    assert out.verdict is not None and out.verdict.exceptions.applied == ("p:0",)


class Untouchable(Sequence[Package]):
    """A result cache's lazy packages, as far as the gate may know: reading them costs a decode."""

    def __len__(self) -> int:
        raise AssertionError("the packages were read")

    def __getitem__(self, index: object) -> Package:  # type: ignore[override]  # one signature for both overloads
        raise AssertionError("the packages were read")

    def __iter__(self) -> Iterator[Package]:
        raise AssertionError("the packages were read")


def test_only_a_licence_rule_reads_the_packages():
    lazy = Untouchable()
    out = judge(scanned([vuln("CVE-1")], packages=lazy), Policy(Rules(severity="LOW", kev=True), gate=True), TODAY)
    assert out.packages is lazy


def test_exception_states():
    v = [vuln("CVE-1"), vuln("CVE-2"), vuln("GHSA-3", aliases=("CVE-3",)), vuln("CVE-4")]
    exceptions = [
        Exception_("not reachable", id="CVE-1", expires=date(2027, 6, 1), source="p:0"),       # valid
        Exception_("patch pending", id="CVE-2", expires=date(2026, 12, 5), source="p:1"),     # expiring soon
        Exception_("by alias", id="CVE-3", expires=date(2027, 1, 1), source="p:2"),            # alias match
        Exception_("old", id="CVE-4", expires=date(2026, 11, 1), source="p:3"),                # expired
        Exception_("nothing", id="CVE-9", expires=date(2027, 1, 1), source="p:4"),             # unused
    ]
    earlier = ScanWarning("a warning of the scan", "/etc/passwd", 1)
    out = judge(scanned(v, warnings=(earlier,)), Policy(Rules(severity="LOW"), exceptions=exceptions, gate=True), TODAY)
    assert {s.finding.id for s in out.suppressed if isinstance(s.finding, Finding)} == {"CVE-1", "CVE-2", "GHSA-3"}
    assert [s.by for s in out.suppressed] == ["exception"] * 3
    first = out.suppressed[0]
    assert (first.status, first.justification, first.expires, first.source) == ("not_affected", "not reachable", "2027-06-01", "p:0")
    assert first.finding.risk is not None  # scored before it was suppressed
    assert [f.id for f in out.vulnerabilities] == ["CVE-4"]
    verdict = out.verdict
    assert verdict is not None and not verdict.passed and verdict.suppressed == 3
    assert [(e.id, e.expires, e.source) for e in verdict.exceptions.expired] == [("CVE-4", "2026-11-01", "p:3")]
    assert [e.id for e in verdict.exceptions.expiring] == ["CVE-2"]
    assert verdict.exceptions.applied == ("p:0", "p:1", "p:2") and verdict.exceptions.unused == ("p:4",)
    # the scan's warnings stay first; then one per expiring or expired exception, in the policy's order
    assert out.warnings == (earlier,
                            ScanWarning("exception for CVE-2 (p:1) expires on 2026-12-05"),
                            ScanWarning("exception for CVE-4 (p:3) expired on 2026-11-01; it no longer applies"))
    narrow = Exception_("other pkg", id="CVE-1", package="zlib", expires=date(2027, 1, 1))
    assert judge(scanned([vuln("CVE-1")]), Policy(exceptions=[narrow]), TODAY).suppressed == ()


def test_exception_narrowing_by_purl_and_path_and_secrets_by_fingerprint_or_rule():
    v = [vuln("CVE-1"), vuln("CVE-1", name="zlib")]
    by_purl = Exception_("ok", id="CVE-1", purl="pkg:apk/alpine/zlib", expires=date(2027, 1, 1))
    assert [s.finding.package.name for s in judge(scanned(v), Policy(exceptions=[by_purl]), TODAY).suppressed
            if isinstance(s.finding, Finding)] == ["zlib"]
    by_dir = Exception_("ok", id="CVE-1", path="lib/apk", expires=date(2027, 1, 1))
    assert len(judge(scanned(v), Policy(exceptions=[by_dir]), TODAY).suppressed) == 2
    by_glob = Exception_("ok", id="CVE-1", path="/usr/*", expires=date(2027, 1, 1))
    assert judge(scanned(v), Policy(exceptions=[by_glob]), TODAY).suppressed == ()

    secrets = [secret(fingerprint="fp1"), secret(fingerprint="fp2", path="/srv/.env")]
    fp = Exception_("rotated", fingerprint="fp2", expires=date(2027, 1, 1))
    assert [s.finding.path for s in judge(scanned(secrets=secrets), Policy(exceptions=[fp]), TODAY).suppressed] == ["/srv/.env"]
    rule_in_dir = Exception_("test keys", rule_id="aws-access-key-id", path="/app", expires=date(2027, 1, 1))
    out = judge(scanned(secrets=secrets), Policy(exceptions=[rule_in_dir]), TODAY)
    assert [s.finding.path for s in out.suppressed] == ["/app/.env"] and [s.path for s in out.secrets] == ["/srv/.env"]
    root = ConfigFinding("HS-CFG-ROOT", "config", "MEDIUM", "root", "runs as root", "config:User")
    for ex in (Exception_("ok", rule_id="HS-CFG-ROOT"), Exception_("ok", id="HS-CFG-ROOT")):
        out = judge(scanned(misconfigurations=[root]), Policy(exceptions=[ex]), TODAY)
        assert [s.kind for s in out.suppressed] == ["misconfiguration"] and out.misconfigurations == ()


def test_policy_file_validation(tmp_path):
    p = tmp_path / "policy.yaml"
    p.write_text("fail_on: {severity: HIGH}\nexceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n")
    with pytest.raises(InputError, match="justification is required"):
        load_policy(str(p))
    p.write_text("fail_on: {severity: HIGH}\nexceptions:\n  - id: CVE-1\n    justification: ok\n")
    with pytest.raises(InputError, match="expires is required"):
        load_policy(str(p))
    p.write_text("settings: {allow_permanent_exceptions: true}\nexceptions:\n  - id: CVE-1\n    justification: ok\n")
    assert load_policy(str(p)).exceptions[0].expires is None
    p.write_text("fail_on: {severity: SEVERE}\n")
    with pytest.raises(InputError, match=r"fail_on.severity: expected one of CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN, got 'SEVERE'$"):
        load_policy(str(p))
    p.write_text("fail_on: {sevrity: HIGH}\n")
    with pytest.raises(InputError, match=r"fail_on: unknown key 'sevrity' \(did you mean 'severity'\?\)$"):
        load_policy(str(p))


def test_trivyignore_formats(tmp_path):
    plain = tmp_path / ".trivyignore"
    plain.write_text("# comment\nCVE-2019-1547\nCVE-2019-1549 exp:2026-01-01\n\n")
    ex = load_trivyignore(str(plain))
    assert [(e.id, e.expires) for e in ex] == [("CVE-2019-1547", None), ("CVE-2019-1549", date(2026, 1, 1))]
    yml = tmp_path / ".trivyignore.yaml"
    yml.write_text("vulnerabilities:\n  - id: CVE-1\n    paths: [usr/lib]\n    statement: accepted\n    expired_at: 2027-01-01\n"
                   "secrets:\n  - id: aws-access-key-id\n")
    ex = load_trivyignore(str(yml))
    assert ex[0].id == "CVE-1" and ex[0].path == "usr/lib" and ex[0].justification == "accepted"
    assert ex[1].rule_id == "aws-access-key-id"


def _vex_files(tmp_path):
    openvex = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "me", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
               "statements": [
                   {"vulnerability": {"name": "CVE-1"},
                    "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:apk/alpine/openssl@1.0"}]}],
                    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
                   {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:apk/alpine/openssl"}], "status": "under_investigation"},
                   {"vulnerability": {"name": "CVE-3"}, "products": [{"@id": "pkg:apk/alpine/zlib"}], "status": "not_affected",
                    "justification": "component_not_present"}]}
    cdx = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "components": [{"bom-ref": "c1", "type": "library", "name": "openssl", "purl": "pkg:apk/alpine/openssl@1.0"}],
           "vulnerabilities": [{"id": "CVE-4", "affects": [{"ref": "c1"}], "analysis": {"state": "resolved", "detail": "backported"}},
                               {"id": "CVE-5", "affects": [{"ref": "c1"}], "analysis": {"state": "exploitable"}}]}
    (tmp_path / "o.json").write_text(json.dumps(openvex))
    (tmp_path / "c.json").write_text(json.dumps(cdx))
    return [str(tmp_path / "o.json"), str(tmp_path / "c.json")]


def test_vex_suppresses_and_annotates(tmp_path):
    import tarfile

    with tarfile.open(VUNNEL) as tf:
        member = tf.extractfile("grype/db/processors/testdata/csaf-vex.json")
        assert member is not None
        (tmp_path / "csaf.json").write_bytes(member.read())
    files = _vex_files(tmp_path) + [str(tmp_path / "csaf.json")]
    vulns = [vuln(f"CVE-{i}") for i in range(1, 6)] + [
        vuln("CVE-2026-12345", name="otherpkg", purl="pkg:rpm/redhat/otherpkg@2.0-1"),
        vuln("CVE-2026-12345", name="testpkg", purl="pkg:rpm/redhat/testpkg@1.0-1"),
    ]
    out = judge(scanned(vulns), Policy(vex=files), TODAY)
    suppressed = {(s.finding.id, s.finding.package.name): s for s in out.suppressed if isinstance(s.finding, Finding)}
    assert set(suppressed) == {("CVE-1", "openssl"), ("CVE-4", "openssl"), ("CVE-2026-12345", "otherpkg")}
    assert {s.by for s in out.suppressed} == {"vex"}
    assert suppressed[("CVE-1", "openssl")].justification == "vulnerable_code_not_in_execute_path"
    assert (suppressed[("CVE-4", "openssl")].status, suppressed[("CVE-4", "openssl")].impact) == ("fixed", "backported")
    kept = {f.id: f for f in out.vulnerabilities}
    assert kept["CVE-2"].vex is not None and kept["CVE-2"].vex.status == "under_investigation"
    assert kept["CVE-5"].vex is not None and kept["CVE-5"].vex.status == "affected"
    assert kept["CVE-3"].vex is None  # statement about zlib does not touch openssl


def test_trivy_openvex_fixture_applies_to_its_subcomponent():
    opa = vuln("CVE-2022-23628", name="github.com/open-policy-agent/opa", purl="pkg:golang/github.com/open-policy-agent/opa@v0.35.0")
    other = vuln("CVE-2022-23628", name="github.com/other/mod", purl="pkg:golang/github.com/other/mod@v1.0.0")
    out = judge(scanned([opa, other]), Policy(vex=[str(TRIVY_VEX)]), TODAY)
    assert [s.finding.package.name for s in out.suppressed if isinstance(s.finding, Finding)] == ["github.com/open-policy-agent/opa"]


def test_openvex_out_validates_and_exit_codes():
    report = scanned([vuln("CVE-1"), vuln("CVE-2", "LOW")])
    policy = Policy(Rules(severity="HIGH"),
                    exceptions=[Exception_("mitigated by config", id="CVE-1", owner="sec", expires=date(2027, 1, 1), source="pol")],
                    gate=True)
    judged = judge(report, policy, TODAY)
    assert judged.verdict is not None and judged.verdict.passed and exit_code_for(judged, judged, 0) == 0
    doc = json.loads(render_openvex(judged))
    schema = json.loads((TESTDATA / "openvex-schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert [s["vulnerability"]["name"] for s in doc["statements"]] == ["CVE-1"]
    assert doc["statements"][0]["status"] == "not_affected"
    assert doc["statements"][0]["impact_statement"] == "mitigated by config"
    failing = judge(report, Policy(Rules(severity="LOW"), gate=True), TODAY)
    assert exit_code_for(failing, failing, 0) == 1 and exit_code_for(failing, failing, 7) == 7
    # no policy: only --exit-code with findings left after display filters
    plain = judge(report, Policy(), TODAY)
    assert exit_code_for(plain, plain, 0) == 0 and exit_code_for(plain, plain, 3) == 3
    assert exit_code_for(plain, scanned(), 3) == 0
    assert exit_code_for(plain, scanned(secrets=[secret()]), 3) == 3


def test_licence_refs_are_ordinary_symbols():
    """Normalized OS licences hold `LicenseRef-…` for what has no SPDX id (inventory/spdx_license.py):
    an expression with one is still judged by its SPDX part, and a rule may name the ref itself."""
    from hullscan.policy.licenses import license_violations

    def pkg(expression: str) -> Package:
        return Package(type="deb", name="p", version="1", ecosystem="debian:12", purl="pkg:deb/debian/p@1",
                       analyzer="dpkg", paths=(), licenses=(expression,))

    both = pkg("GPL-2.0-only AND LicenseRef-Debian-like")
    either = pkg("GPL-2.0-only OR LicenseRef-Debian-like")
    garbage = pkg("see the file COPYING")
    deny_gpl = LicenseRule(deny=("GPL-2.0-only",))
    assert [p.licenses for p, _, _ in license_violations([both, either, garbage], deny_gpl)] == [both.licenses]
    deny_ref = LicenseRule(deny=("LicenseRef-Debian-like",))
    assert [p.licenses for p, _, _ in license_violations([both, either], deny_ref)] == [both.licenses]
    allow = LicenseRule(allow=("GPL-2.0-only",))
    assert [why for _, _, why in license_violations([both, either], allow)] == ["not in the allow list"]
