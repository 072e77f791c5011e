"""Harbor's side of the Pluggable Scanner API v1.2, played by a client that follows the spec's sequence
(metadata → scan request → poll the report while it answers 302 with Refresh-After → the report) against a
real `hullscan server`, a real worker, RabbitMQ, PostgreSQL and a registry with basic auth (Harbor's robot
account credentials travel in the scan request). Every response is checked against the spec file
(tests/service/testdata, PROVENANCE.md there), and the report against the CLI's JSON for the same image."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from typing import Any

import pytest
import yaml
from api_support import HARBOR_SPEC, HULLSCAN, PASSWORD, USER, client

pytestmark = pytest.mark.postgres

META_TYPE = "application/vnd.scanner.adapter.metadata+json; version=1.1"
REQUEST_TYPE = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
SCAN_RESPONSE = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR_TYPE = "application/vnd.scanner.adapter.error+json; version=1.0"
VULN_11 = "application/vnd.security.vulnerability.report; version=1.1"
VULN_HARBOR = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
VULN_RAW = "application/vnd.scanner.adapter.vuln.report.raw"
SBOM = "application/vnd.security.sbom.report+json; version=1.0"


def spec_valid(doc: Any, schema_name: str) -> None:
    """`doc` against a component schema of the spec file (OpenAPI 3.0 schemas are JSON Schema here)."""
    import jsonschema

    spec = yaml.safe_load(HARBOR_SPEC.read_text())
    jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
                                    ).validate(doc)


def basic() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def scan_request(api: Any, digest: str, repository: str = "test/app") -> dict[str, Any]:
    return {"registry": {"url": f"http://{api.registry_host}", "authorization": basic()},
            "artifact": {"repository": repository, "digest": digest, "tag": "1",
                         "mime_type": "application/vnd.oci.image.manifest.v1+json"}}


def poll(harbor: Any, scan_id: str, accept: str, timeout: float = 180, **params: str) -> tuple[Any, int]:
    """Harbor's loop: GET the report until 200 or 500, waiting Refresh-After (capped at 1 s here) after a
    302. Returns the final response and how many 302s came before it."""
    redirects = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": accept}, params=params)
        if r.status_code != 302:
            return r, redirects
        redirects += 1
        wait = int(r.headers["Refresh-After"])  # the spec: an integer number of seconds
        assert wait >= 1
        time.sleep(min(wait, 1))
    raise AssertionError("report not ready in time")


def cli_report(api: Any, ref: str) -> dict[str, Any]:
    """`hullscan image registry:REF --format json` against the same DB: what the Harbor report must equal."""
    env = {**api.service.env, "HULLSCAN_STATE_URL": ""}
    p = subprocess.run([*HULLSCAN, "image", f"registry:{ref}", "--format", "json", "--username", USER, "--password-stdin",
                        "--no-cache"], input=PASSWORD, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    out: dict[str, Any] = json.loads(p.stdout)
    return out


SEVERITY = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "UNKNOWN": "Unknown"}


def test_harbor_sequence_report_equals_the_cli(api):
    harbor = client(api.url, api.tokens["harbor"])
    # 1. metadata: both capabilities, the DB's age
    r = harbor.get("/api/v1/metadata")
    assert r.status_code == 200 and r.headers["content-type"] == META_TYPE
    meta = r.json()
    spec_valid(meta, "ScannerAdapterMetadata")
    caps = {c["type"]: c for c in meta["capabilities"]}
    assert set(caps) == {"vulnerability", "sbom"}
    assert set(caps["vulnerability"]["produces_mime_types"]) == {VULN_11, VULN_HARBOR, VULN_RAW}
    assert caps["sbom"]["produces_mime_types"] == [SBOM]
    assert caps["sbom"]["additional_attributes"]["sbom_media_types"] == ["application/spdx+json", "application/vnd.cyclonedx+json"]
    for c in caps.values():
        assert set(c["consumes_mime_types"]) == {"application/vnd.oci.image.manifest.v1+json",
                                                 "application/vnd.docker.distribution.manifest.v2+json"}
    props = meta["properties"]
    assert props["harbor.scanner-adapter/scanner-type"] == "os-package-vulnerability"
    assert props["harbor.scanner-adapter/vulnerability-database-updated-at"].endswith("Z")

    # 2. the scan request (Harbor's content type, its robot account's Basic credentials)
    r = harbor.post("/api/v1/scan", content=json.dumps(scan_request(api, api.images.app_digest)),
                    headers={"Content-Type": REQUEST_TYPE})
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == SCAN_RESPONSE
    spec_valid(r.json(), "ScanResponse")
    scan_id = r.json()["id"]

    # 3. poll: 302 + Refresh-After while the worker runs it, then the report
    r, redirects = poll(harbor, scan_id, VULN_11)
    assert r.status_code == 200, f"{r.status_code} {r.text}\n{api.logs()}"
    assert redirects >= 1  # asked at once after submitting: the job cannot be done yet
    assert r.headers["content-type"] == VULN_11
    report = r.json()
    spec_valid(report, "HarborVulnerabilityReport")
    assert report["artifact"]["repository"] == "test/app" and report["artifact"]["digest"] == api.images.app_digest
    assert report["scanner"]["name"] == "hullscan"

    # 4. the same findings and counts as the CLI's JSON for that image
    cli = cli_report(api, f"{api.registry_host}/test/app@{api.images.app_digest}")
    mine = sorted((v["id"], v["package"], v["version"], v["fix_version"], v["severity"]) for v in report["vulnerabilities"])
    theirs = sorted((v["id"], v["package"]["name"], v["package"]["version"], v["fixed_version"], SEVERITY[v["severity"]])
                    for v in cli["vulnerabilities"])
    assert mine == theirs
    assert len(report["vulnerabilities"]) == len(cli["vulnerabilities"])
    # by hand from the records: Alpine 3.10 secdb `musl` 1.1.22-r3 fixes CVE-2019-14697; the image has musl and
    # musl-utils (source musl) at 1.1.22-r2 (OS packages, base layer); GHSA-rrm6-wvj7-cwh2 (CVE-2023-30608)
    # fixes sqlparse in 0.4.4, the image has 0.4.1 (a Python package, the app layer)
    ids = {(v["id"], v["package"]) for v in report["vulnerabilities"]}
    assert {("CVE-2019-14697", "musl"), ("CVE-2019-14697", "musl-utils"), ("CVE-2023-30608", "sqlparse")} <= ids
    sqlparse = next(v for v in report["vulnerabilities"] if v["id"] == "CVE-2023-30608")
    assert sqlparse["fix_version"] == "0.4.4"
    # the GHSA record's CVSS 3.1 vector (examples/feeds/ghsa-pypi/sqlparse/GHSA-rrm6-wvj7-cwh2.json)
    assert sqlparse["preferred_cvss"]["vector_v3"] == "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"
    assert sqlparse["vendor_attributes"]["layer"]["diff_id"] == api.images.app_diff_id
    worst = max(report["vulnerabilities"], key=lambda v: list(SEVERITY.values())[::-1].index(v["severity"]))
    assert report["severity"] == worst["severity"]

    # 5. the other report types of the same scan
    r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": VULN_HARBOR})
    assert r.status_code == 200 and r.headers["content-type"] == VULN_HARBOR
    assert r.json()["vulnerabilities"] == report["vulnerabilities"]
    r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": VULN_RAW})
    assert r.status_code == 200 and r.headers["content-type"].startswith(VULN_RAW)
    raw = r.json()  # our JSON report, as the CLI writes it
    assert sorted(v["id"] + v["package"]["name"] for v in raw["vulnerabilities"]) == \
        sorted(v["id"] + v["package"]["name"] for v in cli["vulnerabilities"])
    for media, check in (("application/spdx+json", lambda s: s["spdxVersion"] == "SPDX-2.3"),
                         ("application/vnd.cyclonedx+json", lambda s: s["bomFormat"] == "CycloneDX")):
        r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": SBOM}, params={"sbom_media_type": media})
        assert r.status_code == 200 and r.headers["content-type"] == SBOM, r.text
        doc = r.json()
        spec_valid(doc, "HarborSbomReport")
        assert doc["media_type"] == media and check(doc["sbom"])
        assert doc["artifact"]["digest"] == api.images.app_digest
    # an SBOM report without its media type, a type we do not produce, an id no request gave
    r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": SBOM})
    assert r.status_code == 400 and r.headers["content-type"] == ERROR_TYPE
    spec_valid(r.json(), "ErrorResponse")
    r = harbor.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": "application/vnd.example.report"})
    assert r.status_code == 501 and r.headers["content-type"] == ERROR_TYPE
    assert harbor.get("/api/v1/scan/00000000-0000-0000-0000-000000000000/report").status_code == 404

    # the same request again is the same scan (idempotent)
    again = harbor.post("/api/v1/scan", content=json.dumps(scan_request(api, api.images.app_digest)),
                        headers={"Content-Type": REQUEST_TYPE})
    assert again.status_code == 202 and again.json()["id"] == scan_id


def test_a_failed_scan_is_a_500_with_its_error(api):
    harbor = client(api.url, api.tokens["harbor"])
    missing = "sha256:" + "0" * 64  # no such manifest in the registry
    r = harbor.post("/api/v1/scan", json=scan_request(api, missing), headers={"Content-Type": REQUEST_TYPE})
    assert r.status_code == 202
    r, _ = poll(harbor, r.json()["id"], VULN_11, timeout=120)
    assert r.status_code == 500, r.text
    assert r.headers["content-type"] == ERROR_TYPE
    spec_valid(r.json(), "ErrorResponse")
    assert "failed" in r.json()["error"]["message"]


def test_bad_scan_requests(api):
    harbor = client(api.url, api.tokens["harbor"])
    headers = {"Content-Type": REQUEST_TYPE}
    r = harbor.post("/api/v1/scan", content=b"{not json", headers=headers)
    assert r.status_code == 400 and r.headers["content-type"] == ERROR_TYPE
    r = harbor.post("/api/v1/scan", json={"registry": {"url": "http://x"}}, headers=headers)
    assert r.status_code == 422 and "artifact" in r.json()["error"]["message"]
    body = scan_request(api, api.images.app_digest)
    body["artifact"]["mime_type"] = "application/vnd.cncf.helm.config.v1+json"
    assert harbor.post("/api/v1/scan", json=body, headers=headers).status_code == 501
    body = scan_request(api, "sha256:short")
    assert harbor.post("/api/v1/scan", json=body, headers=headers).status_code == 422
    body = scan_request(api, api.images.app_digest)
    body["registry"]["authorization"] = "Digest abc"
    assert harbor.post("/api/v1/scan", json=body, headers=headers).status_code == 422


def test_harbor_routes_need_the_registration_token(api):
    for token, status in ((None, 401), ("hst_0_unknown", 401), (api.tokens["read"], 403)):
        c = client(api.url, token)
        assert c.get("/api/v1/metadata").status_code == status
        assert c.post("/api/v1/scan", json={}).status_code == status
        r = c.get("/api/v1/scan/x/report")
        assert r.status_code == status and r.headers["content-type"] == ERROR_TYPE
