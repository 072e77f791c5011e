"""SBOM input: the committed Trivy and Syft (osv-scanner) SBOM fixtures (tests/sbom_in/testdata, see its
PROVENANCE.md), a real image's SBOM round trip, and unreadable input."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from hullscan.errors import InputError
from hullscan.sbom_in import load_sbom

TESTDATA = Path(__file__).resolve().parent / "testdata"
ALPINE_DOCKER_SAVE = Path(__file__).resolve().parents[1] / "image" / "testdata" / "alpine-3.10.docker-save.tar.gz"


def _sbom(rel: str, tmp_path: Path) -> Path:
    """The upstream SBOM file: stored as is, or gzip-compressed (`NAME.gz`, the upstream bytes once
    decompressed) and then written out under tmp_path by its upstream name."""
    path = TESTDATA / rel
    if path.exists():
        return path
    out = tmp_path / path.name
    out.write_bytes(gzip.decompress(path.with_name(path.name + ".gz").read_bytes()))
    return out


def test_trivy_cyclonedx_and_spdx_agree():
    cdx, cdx_target = load_sbom(TESTDATA / "trivy/centos-7-cyclonedx.json")
    spdx, spdx_target = load_sbom(TESTDATA / "trivy/centos-7-spdx.json")
    doc = json.loads((TESTDATA / "trivy/centos-7-cyclonedx.json").read_text())
    want = {c["purl"] for c in doc["components"] if c.get("purl")}
    assert {p.purl for p in cdx.packages} == {p.purl for p in spdx.packages} == want
    for inv in (cdx, spdx):
        assert inv.os.family == "centos" and inv.os.version == "7.6.1810"
        ssl = next(p for p in inv.packages if p.name == "openssl-libs")
        assert (ssl.type, ssl.version, ssl.arch) == ("rpm", "1:1.0.2k-16.el7", "x86_64")  # epoch qualifier kept
    # Trivy's CycloneDX names the source rpm and the image
    ssl = next(p for p in cdx.packages if p.name == "openssl-libs")
    assert (ssl.source_name, ssl.source_version) == ("openssl", "1:1.0.2k-16.el7")
    assert ssl.extra["layer_diff_id"].startswith("sha256:89169d87")
    assert cdx_target["config_digest"] == "sha256:f1cb7c7d58b73eac859c395882eec49d50651244e342cd6c68a5c7809785f427"
    assert cdx_target["repo_tags"] == ["ghcr.io/aquasecurity/trivy-test-images:centos-7"]
    assert spdx_target["config_digest"] == cdx_target["config_digest"]  # from SPDX attribution texts
    assert spdx_target["sbom_format"] == "spdx-json" and cdx_target["sbom_format"] == "cyclonedx-json"


@pytest.mark.parametrize("name,ecosystem", [("alpine.cdx.xml", "Alpine:v3.17"), ("postgres-stretch.cdx.xml", "Debian:9")])
def test_syft_cyclonedx_xml(tmp_path, name, ecosystem):
    path = _sbom(f"osv-scanner/{name}", tmp_path)
    inv, target = load_sbom(path)
    text = path.read_text()
    # independent count: <purl> elements of the document
    purls = [p.replace("&amp;", "&") for p in re.findall(r"<purl>([^<]+)</purl>", text)]
    assert Counter(p.purl for p in inv.packages) == Counter(purls)
    assert inv.os.ecosystem == ecosystem
    assert {p.ecosystem for p in inv.packages if p.type in ("deb", "apk")} == {ecosystem}
    assert target["sbom_tools"] == ["syft"] and target["subject_digest"].startswith("sha256:")


def test_alpine_apk_origin_is_source():
    inv, _ = load_sbom(TESTDATA / "osv-scanner/alpine.cdx.xml")
    by = {p.name: p for p in inv.packages}
    # hand-checked in the file: upstream=alpine-baselayout on alpine-baselayout-data
    assert by["alpine-baselayout-data"].source_name == "alpine-baselayout"
    assert by["alpine-baselayout-data"].source_version == by["alpine-baselayout-data"].version


@pytest.mark.parametrize("fmt", ["cyclonedx", "cyclonedx-xml", "spdx-json", "spdx"])
def test_real_image_round_trip_keeps_layer(tmp_path, fmt):
    from hullscan.report.formats import writer
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.wiring import build_service

    image = ALPINE_DOCKER_SAVE
    report = build_service(ScanOptions(scanners=frozenset({"license"}), use_cache=False)).scan(f"docker-archive:{image}")
    path = tmp_path / "sbom"
    path.write_bytes(writer(fmt)(report))
    inv, target = load_sbom(path)
    assert sorted((p.purl, p.source_name, p.layer.index, p.layer.diff_id) for p in inv.packages) == sorted(
        (p.purl, p.source_name, p.layer.index, p.layer.diff_id) for p in report.packages)
    assert inv.os.ecosystem == report.os.ecosystem == "Alpine:v3.10"
    if fmt.startswith("cyclonedx"):
        assert target["config_digest"] == report.target.config_digest
        assert target["repo_tags"] == ["alpine:3.10"]
        assert [x["diff_id"] for x in target["layers"]] == [x.diff_id for x in report.layers]


@pytest.mark.parametrize("content,message", [
    (b"", "not a CycloneDX or SPDX"),
    (b"{\"bomFormat\": \"CycloneDX\", ", "not valid JSON"),
    (b"{\"hello\": 1}", "neither CycloneDX"),
    (b"[1, 2]", "not a CycloneDX or SPDX"),
    (b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components>", "not readable XML"),
    (b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>", "RDF"),
    (b"<!DOCTYPE bom [<!ENTITY x 'y'>]><bom>&x;</bom>", "not readable XML"),
    (b"\x89PNG\r\n\x1a\n", "not a CycloneDX or SPDX"),
])
def test_unreadable_sboms_raise_input_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_sbom(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_sbom(tmp_path / "absent.json")
    with pytest.raises(InputError, match="directory"):
        load_sbom(tmp_path)


def test_bad_components_warn_and_the_rest_is_read(tmp_path):
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "ok", "version": "1.0", "purl": "pkg:npm/ok@1.0"},
        {"type": "library", "name": "badpurl", "version": "1", "purl": "not a purl"},
        {"type": "library", "name": "nopurl", "version": "1"},
        "junk",
        {"type": "library", "name": "outer", "version": "2", "purl": "pkg:pypi/Outer_Pkg@2",
         "components": [{"type": "library", "name": "inner", "purl": "pkg:golang/github.com/a/b@v1.0.0"}]},
    ]}
    path = tmp_path / "x.cdx.json"
    path.write_text(json.dumps(doc))
    inv, _ = load_sbom(path)
    assert [(p.name, p.version, p.ecosystem) for p in inv.packages] == [
        ("ok", "1.0", "npm"), ("outer-pkg", "2", "PyPI"), ("github.com/a/b", "v1.0.0", "Go")]
    assert len(inv.warnings) == 3  # junk entry, unreadable purl, one without purl


def test_spdx_tag_value_multiline_text(tmp_path):
    text = """SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: demo
Creator: Tool: example-2.0
Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-app

PackageName: app
SPDXID: SPDXRef-app
PrimaryPackagePurpose: APPLICATION

PackageName: lodash
SPDXID: SPDXRef-lodash
PackageVersion: 4.17.4
PackageComment: <text>a comment
PackageName: not-a-package
spanning lines</text>
ExternalRef: PACKAGE-MANAGER purl pkg:npm/lodash@4.17.4
PackageLicenseDeclared: MIT
"""
    path = tmp_path / "x.spdx"
    path.write_text(text)
    inv, target = load_sbom(path)
    assert [(p.name, p.version, p.licenses) for p in inv.packages] == [("lodash", "4.17.4", ("MIT",))]
    assert target["name"] == "app" and target["sbom_tools"] == ["example"]


def test_os_packages_without_a_distro_warn_once(tmp_path):
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "application", "name": "go.mod", "properties": [{"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"}]},
        {"type": "library", "name": "zlib1g", "version": "1:1.2.13.dfsg-1", "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64"},
        {"type": "library", "name": "musl", "version": "1.2.4-r2", "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1"},
    ]}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    inv, _ = load_sbom(path)
    # the Alpine release the document shows is not the deb's: it stays unmatched, said once
    assert [(p.name, p.ecosystem) for p in inv.packages] == [("zlib1g", ""), ("musl", "Alpine:v3.19")]
    assert [w.message for w in inv.warnings] == [
        "sbom: 1 OS package(s) without a known distro release (no distro qualifier, no OS component): "
        "they cannot be matched"]
