"""CycloneDX and SPDX writers: Reports of real package databases in, validated by each library's own validator out."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from hullscan.inventory.apk import ApkAnalyzer
from hullscan.inventory.applier import analyze_files
from hullscan.inventory.dpkg import DpkgAnalyzer
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.model.findings import Cvss, Finding
from hullscan.model.image import BaseImage, ImageConfig, LayerInfo, Target
from hullscan.model.inventory import Inventory, Package
from hullscan.model.report import Report
from hullscan.record import replace
from hullscan.report import cyclonedx, spdx
from testsupport import REPO

ALPINE_TAR = REPO / "tests/image/testdata/alpine-3.10.docker-save.tar.gz"
UBUNTU_DPKG = REPO / "tests/inventory/testdata/dpkg/ubuntu-18.04__trivy-valid/var/lib/dpkg/status"
ANALYZERS = [OSReleaseAnalyzer(), DpkgAnalyzer(), ApkAnalyzer()]


def _report(inv: Inventory, target: Target, diff_ids: list[str], vulns: tuple[Finding, ...] = ()) -> Report:
    """The Report of an inventory whose layers have these diff_ids (the parts SBOMs read)."""
    packages = [p if p.layer is None else replace(p, layer=replace(p.layer, diff_id=diff_ids[p.layer.index]))
                for p in inv.packages]
    return Report(
        created_at="2026-11-28T12:00:00Z", target=target,
        layers=tuple(LayerInfo(i, "", 0, "", d) for i, d in enumerate(diff_ids)), scanners=("license", "vuln"),
        os=inv.os, config=ImageConfig(raw={}, architecture="amd64"), base_image=BaseImage(0),
        packages=packages, history=tuple(inv.history), vulnerabilities=vulns,
    )


def _alpine_report() -> Report:
    """The real alpine:3.10 `docker save` tarball, read as the image's one layer."""
    with tarfile.open(ALPINE_TAR) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        blob = outer.extractfile(manifest["Layers"][0]).read()  # type: ignore[union-attr]
    layer: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
        for m in tf:
            if m.isfile():
                layer["/" + m.name.lstrip("./")] = tf.extractfile(m).read()  # type: ignore[union-attr]
    inv = analyze_files(ANALYZERS, [layer])
    target = Target(f"docker-archive:{ALPINE_TAR}", "docker-archive", "alpine:3.10",
                    config_digest="sha256:" + manifest["Config"].split(".")[0], repo_tags=tuple(manifest["RepoTags"]))
    return _report(inv, target, ["sha256:" + hashlib.sha256(blob).hexdigest()])


def _debian_report() -> Report:
    """Two layers of Debian packages (one upgraded, one removed), odd licenses, and findings of every status."""
    base = {"/var/lib/dpkg/status": UBUNTU_DPKG.read_bytes()}  # trivy's `valid` dpkg status (91 packages)
    base["/etc/os-release"] = b'ID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\nPRETTY_NAME="Ubuntu 18.04"\n'
    base["/usr/share/doc/bash/copyright"] = b"Format: x\n\nLicense: GPL-3+ or BSD-3-clause\n\nLicense: Custom weird (c)\n"
    status = base["/var/lib/dpkg/status"].decode()
    top = {"/var/lib/dpkg/status": status.replace("Version: 4.4.18-2ubuntu1", "Version: 4.4.18-2ubuntu1.2")
           .encode()}
    inv = analyze_files(ANALYZERS, [base, top])
    bash = next(p for p in inv.packages if p.name == "bash")
    statuses = ["fixed", "affected", "will_not_fix", "fix_deferred", "end_of_life", "not_affected",
                "under_investigation"]
    severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN", "UNKNOWN", "HIGH"]
    cvss = [Cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, ""), None, None,
            Cvss("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "nvd"), None, None, None]
    vulns = tuple(
        Finding(id=f"CVE-2024-{i:04d}", aliases=(f"USN-{i}-1",), package=bash, status=status,
                fixed_version="5.0-1" if status == "fixed" else "", severity=sev, severity_source="", cvss=cv,
                epss=None, kev=None, title="t", references=("https://ubuntu.com/security/CVE-2024-0001", "not a url"),
                data_source="ubuntu", advisory_ids=(f"CVE-2024-{i:04d}",), published=None)
        for i, (status, sev, cv) in enumerate(zip(statuses, severities, cvss, strict=True)))
    target = Target("dir:/x", "dir", "ubuntu-test")
    return _report(inv, target, ["sha256:" + "1" * 64, "sha256:" + "2" * 64], vulns)


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {"alpine": _alpine_report(), "debian": _debian_report()}


@pytest.mark.parametrize("which", ["alpine", "debian"])
def test_cyclonedx_json_validates_and_keeps_the_facts(reports: dict[str, Report], which: str) -> None:
    report = reports[which]
    out = cyclonedx.render_json(report)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.decode())
    assert errors is None, getattr(errors, "data", errors)
    bom = json.loads(out)
    assert bom["specVersion"] == "1.6"
    comps = {c["bom-ref"]: c for c in bom["components"]}
    assert len(report.packages) > 10
    for pkg in report.packages:
        assert pkg.layer is not None
        c = comps[pkg.id]
        assert (c["name"], c["version"], c["purl"]) == (pkg.name, pkg.version, pkg.purl)
        props = {p["name"]: p["value"] for p in c["properties"]}
        assert props["hullscan:layer:diff_id"] == pkg.layer.diff_id
        assert props["hullscan:layer:index"] == str(pkg.layer.index)
        assert props["hullscan:package:source_name"] == pkg.source_name
    os = comps["os"]
    assert report.os is not None
    assert os["type"] == "operating-system" and os["name"] == report.os.family
    assert {"name": "hullscan:os:ecosystem", "value": report.os.ecosystem} in os["properties"]
    assert bom["metadata"]["component"]["type"] == "container"
    assert out == cyclonedx.render_json(report)  # deterministic: serial and time come from the report


@pytest.mark.parametrize("which", ["alpine", "debian"])
def test_cyclonedx_xml_validates(reports: dict[str, Report], which: str) -> None:
    out = cyclonedx.render_xml(reports[which])
    errors = XmlValidator(SchemaVersion.V1_6).validate_str(out.decode())
    assert errors is None, getattr(errors, "data", errors)
    assert out.count(b"<component ") + out.count(b"<component>") >= len(reports[which].packages)


def test_cyclonedx_licenses_and_vulnerabilities(reports: dict[str, Report]) -> None:
    report = reports["debian"]
    bom = json.loads(cyclonedx.render_json(report))
    bash = next(c for c in bom["components"] if c["name"] == "bash" and "scope" not in c)
    # the copyright's `GPL-3+ or BSD-3-clause` and `Custom weird (c)`: one expression (CycloneDX allows it alone)
    assert bash["licenses"] == [{"expression": "(GPL-3.0-or-later OR BSD-3-Clause) AND LicenseRef-Custom-weird-c"}]
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert len(vulns) == 7
    fixed = vulns["CVE-2024-0000"]
    assert fixed["affects"][0]["ref"] == next(p.id for p in report.packages if p.name == "bash")
    assert fixed["ratings"][0]["score"] == 9.8 and fixed["ratings"][0]["method"] == "CVSSv31"
    assert fixed["recommendation"] == "Upgrade bash to 5.0-1"
    assert vulns["CVE-2024-0005"]["analysis"]["state"] == "not_affected"
    assert {"name": "hullscan:status", "value": "will_not_fix"} in vulns["CVE-2024-0002"]["properties"]


def _spdx_roundtrip(tmp_path: Path, data: bytes, suffix: str) -> Any:
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(data)
    return parse_file(str(path))


@pytest.mark.parametrize("which", ["alpine", "debian"])
@pytest.mark.parametrize("fmt", ["json", "tagvalue"])
def test_spdx_validates_and_round_trips(reports: dict[str, Report], tmp_path: Path, which: str, fmt: str) -> None:
    report = reports[which]
    messages = validate_full_spdx_document(spdx.build_document(report))
    assert [m.validation_message for m in messages] == []
    data = spdx.render_json(report) if fmt == "json" else spdx.render_tagvalue(report)
    doc = _spdx_roundtrip(tmp_path, data, ".spdx.json" if fmt == "json" else ".spdx")
    assert [m.validation_message for m in validate_full_spdx_document(doc)] == []
    by_purl = {ref.locator: p for p in doc.packages for ref in p.external_references if ref.reference_type == "purl"}
    assert set(by_purl) == {p.purl for p in report.packages}
    for pkg in report.packages:
        assert pkg.layer is not None
        sp = by_purl[pkg.purl]
        assert sp.version == pkg.version and sp.spdx_id == f"SPDXRef-{pkg.id}"
        assert f"diff_id={pkg.layer.diff_id}" in (sp.comment or "")
    annotated = {a.spdx_id for a in doc.annotations}
    assert {f"SPDXRef-{p.id}" for p in report.packages} <= annotated
    assert data == (spdx.render_json(report) if fmt == "json" else spdx.render_tagvalue(report))


def test_spdx_license_refs_are_declared(reports: dict[str, Report]) -> None:
    doc = json.loads(spdx.render_json(reports["debian"]))
    bash = next(p for p in doc["packages"] if p["name"] == "bash")
    # the copyright's `GPL-3+ or BSD-3-clause` stays a choice; the LicenseRef carries the declared text
    assert bash["licenseDeclared"] == "(GPL-3.0-or-later OR BSD-3-Clause) AND LicenseRef-Custom-weird-c"
    refs = {e["licenseId"]: e["extractedText"] for e in doc["hasExtractedLicensingInfos"]}
    assert refs["LicenseRef-Custom-weird-c"] == "Custom weird (c)"
    upgraded = next(p for p in doc["packages"] if p["name"] == "libc6")
    assert upgraded["supplier"].startswith("Person: ")


def test_history_and_layers_survive(reports: dict[str, Report]) -> None:
    report = reports["debian"]
    assert [h.package.name for h in report.history] == ["bash"]
    bash = next(p for p in report.packages if p.name == "bash")
    assert bash.layer is not None and bash.layer.index == 1
    bom = json.loads(cyclonedx.render_json(report))
    comp = next(c for c in bom["components"] if c["bom-ref"] == bash.id)
    assert {"name": "hullscan:layer:diff_id", "value": "sha256:" + "2" * 64} in comp["properties"]


def test_empty_report_still_valid() -> None:
    report = Report(created_at="", target=Target("x", "dir", ""), layers=(), scanners=(), os=None,
                    config=ImageConfig(raw={}), base_image=BaseImage(None), packages=[])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cyclonedx.render_json(report).decode()) is None
    assert validate_full_spdx_document(spdx.build_document(report)) == []


def test_cyclonedx_history_packages_are_excluded_components(reports: dict[str, Report]) -> None:
    bom = json.loads(cyclonedx.render_json(reports["debian"]))
    removed = [c for c in bom["components"] if c.get("scope") == "excluded"]
    assert [(c["name"], c["version"]) for c in removed] == [("bash", "4.4.18-2ubuntu1")]
    props = {p["name"]: p["value"] for p in removed[0]["properties"]}
    assert props["hullscan:history:removed_in:index"] == "1"
    assert props["hullscan:history:replaced_by"] == "4.4.18-2ubuntu1.2"
    assert props["hullscan:layer:index"] == "0"


def test_cyclonedx_maven_group() -> None:
    log4j = Package(type="maven", name="log4j:log4j", version="1.2.17", ecosystem="Maven",
                    purl="pkg:maven/log4j/log4j@1.2.17", analyzer="java", licenses=("Apache-2.0",), paths=("/app/x.jar",))
    report = Report(created_at="2026-01-01T00:00:00Z", target=Target("x", "dir", ""), layers=(), scanners=(), os=None,
                    config=ImageConfig(raw={}), base_image=BaseImage(None), packages=[log4j])
    out = cyclonedx.render_json(report)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.decode()) is None
    (c,) = json.loads(out)["components"]
    assert (c["group"], c["name"]) == ("log4j", "log4j")
