"""The gate on hand-built findings: each rule, each exception state, each VEX status; risk scores
checked against values computed by hand from the formula in docs/policy.md."""

from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest

from hullscan.errors import InputError
from hullscan.policy.gate import GateInput, apply_gate, exit_code_for, judge_report
from hullscan.policy.load import load_policy, load_trivyignore
from hullscan.policy.model import Exception_, LicenseRule, Policy, Rules
from hullscan.policy.risk import secret_risk, vulnerability_risk
from hullscan.report.openvex import render as render_openvex
from testsupport import REPO

TESTDATA = REPO / "tests/policy/testdata"
VUNNEL = REPO / "tests/vulndb/testdata/grype-vunnel/grype-vunnel-records.tar.gz"  # tests/vulndb/testdata/PROVENANCE.md
TRIVY_VEX = REPO / "tests/match/testdata/trivy-integration/fixtures/vex/file/openvex.json"

TODAY = date(2026, 11, 28)


def vuln(id_, sev="HIGH", fixed="1.2.3", kev=None, epss=None, score=None, aliases=(), base=False, name="openssl", purl=None):
    return {
        "id": id_, "aliases": list(aliases), "advisory_ids": [id_], "severity": sev, "fixed_version": fixed,
        "kev": kev, "epss": {"score": epss, "percentile": 0.9, "date": "2026-11-27"} if epss is not None else None,
        "cvss": {"version": "3.1", "vector": "CVSS:3.1/AV:N", "score": score, "source": "nvd"} if score is not None else None,
        "package": {"name": name, "version": "1.0", "purl": purl or f"pkg:apk/alpine/{name}@1.0", "paths": ["/lib/apk/db/installed"]},
        "layer": {"index": 1 if not base else 0, "diff_id": "sha256:x", "base": base}, "status": "fixed" if fixed else "affected",
    }


def test_risk_scores_by_hand():
    # 5.5*9.8 + 15 (KEV) + 20*0.94 + 5 (fix) + 5 (app layer) = 53.9+15+18.8+5+5 = 97.7
    r = vulnerability_risk(vuln("CVE-1", score=9.8, kev={"date_added": "2023-10-10"}, epss=0.94))
    assert r["score"] == 97.7
    assert r["reason"] == "KEV · CVSS 9.8 · EPSS 0.94 · fix 1.2.3 · app layer"
    # no CVSS: MEDIUM counts as 5.0 → 27.5; no fix; base layer → 27.5
    r = vulnerability_risk(vuln("CVE-2", sev="MEDIUM", fixed="", base=True))
    assert r == {"score": 27.5, "reason": "no fix · base layer"}
    # capped at 100: 5.5*10 + 15 + 20*1.0 + 5 + 5 = 100
    assert vulnerability_risk(vuln("CVE-3", score=10.0, kev={"x": 1}, epss=1.0))["score"] == 100.0
    # secret: HIGH 7.5*5.5 = 41.25 + 15 (still present) → 56.2 (one decimal, half-even on .25)
    assert secret_risk({"severity": "HIGH", "removed_in": None, "layer": {"base": None}})["score"] == pytest.approx(56.2, abs=0.06)


def gate(policy, **kw):
    return apply_gate(GateInput(**{"vulnerabilities": [], **kw}), policy, TODAY)


def test_each_rule_fails_on_its_findings_only():
    vulns = [vuln("CVE-A", "CRITICAL"), vuln("CVE-B", "HIGH", fixed=""), vuln("CVE-C", "LOW", kev={"date_added": "x"}),
             vuln("CVE-D", "MEDIUM", epss=0.7), vuln("GHSA-x", "LOW", aliases=["CVE-E"])]
    out = gate(Policy(Rules(severity="HIGH"), gate=True), vulnerabilities=vulns)
    assert [r["rule"] for r in out.verdict["failed_rules"]] == ["fail_on.severity"]
    assert {f.split()[0] for f in out.verdict["failed_rules"][0]["findings"]} == {"CVE-A", "CVE-B"}
    out = gate(Policy(Rules(severity="HIGH", fixable_only=True), gate=True), vulnerabilities=vulns)
    assert {f.split()[0] for f in out.verdict["failed_rules"][0]["findings"]} == {"CVE-A"}
    out = gate(Policy(Rules(kev=True), gate=True), vulnerabilities=vulns)
    assert {f.split()[0] for f in out.verdict["failed_rules"][0]["findings"]} == {"CVE-C"}
    out = gate(Policy(Rules(epss_above=0.5), gate=True), vulnerabilities=vulns)
    assert {f.split()[0] for f in out.verdict["failed_rules"][0]["findings"]} == {"CVE-D"}
    out = gate(Policy(Rules(ids=("CVE-E",)), gate=True), vulnerabilities=vulns)  # matched through an alias
    assert {f.split()[0] for f in out.verdict["failed_rules"][0]["findings"]} == {"GHSA-x"}
    out = gate(Policy(Rules(severity="CRITICAL", kev=True), gate=True), vulnerabilities=[vuln("CVE-Z", "LOW")])
    assert out.verdict["passed"] and out.verdict["failed_rules"] == []


def test_secret_misconfiguration_license_and_db_age_rules():
    secrets = [{"rule_id": "aws-access-key-id", "severity": "CRITICAL", "path": "/app/.env", "line": 3, "fingerprint": "fp1",
                "removed_in": 2, "layer": {"base": False}}]
    misconf = [{"id": "HS-CFG-ROOT", "rule_id": "HS-CFG-ROOT", "severity": "MEDIUM", "path": "", "line": ""}]
    packages = [
        {"name": "gpl-only", "version": "1", "licenses": ["GPL-3.0-only"]},
        {"name": "dual", "version": "1", "licenses": ["MIT OR GPL-3.0-only"]},
        {"name": "mit", "version": "1", "licenses": ["MIT"]},
        {"name": "odd", "version": "1", "licenses": ["Custom License Words"]},
    ]
    policy = Policy(Rules(secrets="HIGH", misconfigurations="MEDIUM", licenses=LicenseRule(deny=("GPL-3.0-only",)), db_older_than_days=7),
                    gate=True)
    out = gate(policy, secrets=secrets, misconfigurations=misconf, packages=packages, db_age_days=9.5)
    failed = {r["rule"]: r["findings"] for r in out.verdict["failed_rules"]}
    assert set(failed) == {"fail_on.secrets", "fail_on.misconfigurations", "fail_on.licenses", "fail_on.db_older_than_days"}
    assert failed["fail_on.licenses"] == ["gpl-only 1 (GPL-3.0-only: denied)"]  # MIT OR GPL leaves a choice
    allow = gate(Policy(Rules(licenses=LicenseRule(allow=("MIT",))), gate=True), packages=packages)
    assert [f.split()[0] for f in allow.verdict["failed_rules"][0]["findings"]] == ["gpl-only"]


def test_exception_states():
    v = [vuln("CVE-1"), vuln("CVE-2"), vuln("GHSA-3", aliases=["CVE-3"]), vuln("CVE-4")]
    exceptions = [
        Exception_("not reachable", id="CVE-1", expires=date(2027, 6, 1), source="p:0"),       # valid
        Exception_("patch pending", id="CVE-2", expires=date(2026, 12, 5), source="p:1"),     # expiring soon
        Exception_("by alias", id="CVE-3", expires=date(2027, 1, 1), source="p:2"),            # alias match
        Exception_("old", id="CVE-4", expires=date(2026, 11, 1), source="p:3"),                # expired
    ]
    out = gate(Policy(Rules(severity="LOW"), exceptions=exceptions, gate=True), vulnerabilities=v)
    assert {s["finding"]["id"] for s in out.suppressed} == {"CVE-1", "CVE-2", "GHSA-3"}
    assert [f["id"] for f in out.vulnerabilities] == ["CVE-4"]
    assert not out.verdict["passed"]
    assert [e["id"] for e in out.verdict["exceptions"]["expired"]] == ["CVE-4"]
    assert [e["id"] for e in out.verdict["exceptions"]["expiring"]] == ["CVE-2"]
    assert any("expired on 2026-11-01" in w for w in out.warnings)
    assert any("CVE-2" in w and "expires on 2026-12-05" in w for w in out.warnings)
    narrow = Exception_("other pkg", id="CVE-1", package="zlib", expires=date(2027, 1, 1))
    assert gate(Policy(exceptions=[narrow]), vulnerabilities=[vuln("CVE-1")]).suppressed == []


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
    with pytest.raises(InputError, match="unknown severity"):
        load_policy(str(p))
    p.write_text("fail_on: {sevrity: HIGH}\n")
    with pytest.raises(InputError, match="unknown fail_on rule"):
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
        (tmp_path / "csaf.json").write_bytes(tf.extractfile("grype/db/processors/testdata/csaf-vex.json").read())
    files = _vex_files(tmp_path) + [str(tmp_path / "csaf.json")]
    vulns = [vuln(f"CVE-{i}") for i in range(1, 6)] + [
        vuln("CVE-2026-12345", name="otherpkg", purl="pkg:rpm/redhat/otherpkg@2.0-1"),
        vuln("CVE-2026-12345", name="testpkg", purl="pkg:rpm/redhat/testpkg@1.0-1"),
    ]
    out = gate(Policy(vex=files), vulnerabilities=vulns)
    suppressed = {(s["finding"]["id"], s["finding"]["package"]["name"]): s for s in out.suppressed}
    assert set(suppressed) == {("CVE-1", "openssl"), ("CVE-4", "openssl"), ("CVE-2026-12345", "otherpkg")}
    assert suppressed[("CVE-1", "openssl")]["justification"] == "vulnerable_code_not_in_execute_path"
    kept = {f["id"]: f for f in out.vulnerabilities}
    assert kept["CVE-2"]["vex"]["status"] == "under_investigation"
    assert kept["CVE-5"]["vex"]["status"] == "affected"
    assert "vex" not in kept["CVE-3"]  # statement about zlib does not touch openssl


def test_trivy_openvex_fixture_applies_to_its_subcomponent():
    path = TRIVY_VEX
    opa = vuln("CVE-2022-23628", name="github.com/open-policy-agent/opa", purl="pkg:golang/github.com/open-policy-agent/opa@v0.35.0")
    other = vuln("CVE-2022-23628", name="github.com/other/mod", purl="pkg:golang/github.com/other/mod@v1.0.0")
    out = gate(Policy(vex=[str(path)]), vulnerabilities=[opa, other])
    assert [s["finding"]["package"]["name"] for s in out.suppressed] == ["github.com/open-policy-agent/opa"]


def test_openvex_out_validates_and_exit_codes():
    report = {"target": {"name": "app:1", "manifest_digest": "sha256:" + "a" * 64}, "created_at": "2026-11-28T00:00:00Z",
              "vulnerabilities": [vuln("CVE-1"), vuln("CVE-2", "LOW")], "secrets": [], "misconfigurations": [], "packages": [], "db": {}}
    policy = Policy(Rules(severity="HIGH"),
                    exceptions=[Exception_("mitigated by config", id="CVE-1", owner="sec", expires=date(2027, 1, 1), source="pol")],
                    gate=True)
    judged = judge_report(report, policy, TODAY)
    assert judged["verdict"]["passed"] and exit_code_for(judged, judged, 0) == 0
    doc = json.loads(render_openvex(judged))
    schema = json.loads((TESTDATA / "openvex-schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert [s["vulnerability"]["name"] for s in doc["statements"]] == ["CVE-1"]
    assert doc["statements"][0]["status"] == "not_affected"
    assert doc["statements"][0]["impact_statement"] == "mitigated by config"
    failing = judge_report(report, Policy(Rules(severity="LOW"), gate=True), TODAY)
    assert exit_code_for(failing, failing, 0) == 1 and exit_code_for(failing, failing, 7) == 7
    # no policy: only --exit-code with findings left after display filters
    plain = judge_report(report, Policy(), TODAY)
    assert exit_code_for(plain, plain, 0) == 0 and exit_code_for(plain, plain, 3) == 3
    assert exit_code_for(plain, {"vulnerabilities": []}, 3) == 0
