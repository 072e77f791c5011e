"""Hostile and malformed SBOMs: absurd nesting and document keys of the wrong type are one line and exit 2
through the CLI (never a traceback, never exit 1); a wrong field inside one component is a warning and the
rest is read; and, over documents of random shape, only InputError ever leaves the reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import InputError
from hullscan.sbom_in import load_sbom, parse_sbom, target_info
from hullscan.sbom_in.cyclonedx import MAX_NESTING
from hullscan.sbom_in.packages import packages_of

REPO = Path(__file__).resolve().parents[2]
HULLSCAN = [sys.executable, "-m", "hullscan"]
CDX_NS = "http://cyclonedx.org/schema/bom/1.5"


def cdx_json_nested(depth: int) -> str:
    """A CycloneDX JSON document whose components nest `depth` deep, one per level (c1 holds c2 …)."""
    inner = ""
    for level in range(depth, 0, -1):
        nested = f',"components":[{inner}]' if inner else ""
        inner = f'{{"type":"library","name":"c{level}","version":"1","purl":"pkg:npm/c{level}@1"{nested}}}'
    return f'{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{inner}]}}'


def cdx_xml_nested(depth: int) -> str:
    opening = "".join(f'<component type="library"><name>c{i}</name><purl>pkg:npm/c{i}@1</purl><components>'
                      for i in range(1, depth + 1))
    return f'<bom xmlns="{CDX_NS}"><components>{opening}{"</components></component>" * depth}</components></bom>'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`hullscan sbom` opens the vulnerability DB first: one of examples/feeds."""
    db = str(tmp_path_factory.mktemp("db") / "vuln.db")
    r = subprocess.run([*HULLSCAN, "db", "import", str(REPO / "examples" / "feeds"), "--db", db], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return db


@pytest.mark.parametrize("name,content,message", [
    ("deep.json", '{"bomFormat":"CycloneDX","components":' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
    ("deep-components.cdx.json", cdx_json_nested(MAX_NESTING + 1), f"components nested more than {MAX_NESTING} deep"),
    ("deep.cdx.xml", cdx_xml_nested(5_000), f"components nested more than {MAX_NESTING} deep"),
    ("describes.spdx.json", '{"spdxVersion":"SPDX-2.3","documentDescribes":5,"packages":[]}',
     "documentDescribes: expected a list, found a number"),
    ("packages.spdx.json", '{"spdxVersion":"SPDX-2.3","packages":"pkg:npm/a@1"}', "packages: expected a list, found a string"),
    ("relationships.spdx.json", '{"spdxVersion":"SPDX-2.3","relationships":{"a":1}}',
     "relationships: expected a list, found an object"),
    ("components.cdx.json", '{"bomFormat":"CycloneDX","components":5}', "components: expected a list, found a number"),
])
def test_unreadable_structure_is_one_line_and_exit_2(tmp_path, demo_db, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    r = subprocess.run([*HULLSCAN, "sbom", str(path), "--db", demo_db, "-f", "json"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "HULLSCAN_DEBUG"})
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert r.stderr.splitlines() == [f"hullscan: error: {path}: {message}"]


@pytest.mark.parametrize("make", [cdx_json_nested, cdx_xml_nested])
def test_nesting_up_to_the_limit_is_read_in_document_order(tmp_path, make):
    path = tmp_path / "nested.cdx"
    path.write_text(make(MAX_NESTING))
    inv, _ = load_sbom(path)
    assert [p.name for p in inv.packages] == [f"c{i}" for i in range(1, MAX_NESTING + 1)]


def test_wrong_fields_inside_a_component_are_warnings_and_the_rest_is_read(tmp_path):
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5",
           "metadata": {"tools": 5, "component": {"name": "img", "properties": "x"}},
           "components": [
               {"type": "library", "name": "a", "version": 2, "purl": "pkg:npm/a@2", "properties": 5, "components": "x",
                "licenses": {"x": 1}, "bom-ref": ["r"], "description": {"d": 1}},
               {"type": 7, "name": ["b"], "purl": "pkg:npm/b@1",
                "properties": [{"name": "hullscan:layer:index", "value": "\u00b2"}, 5]},
               {"type": "library", "name": "c", "purl": "pkg:npm/c@1",
                "properties": [{"name": "hullscan:layer:index", "value": "9" * 5000}]},
           ]}
    path = tmp_path / "x.cdx.json"
    path.write_text(json.dumps(doc))
    inv, target = load_sbom(path)
    # a number is spelled out, a list or an object where a string belongs reads as empty
    assert [(p.name, p.version, p.purl, p.layer) for p in inv.packages] == [
        ("a", "2", "pkg:npm/a@2", None), ("b", "1", "pkg:npm/b@1", None), ("c", "1", "pkg:npm/c@1", None)]
    assert sorted(w.message for w in inv.warnings) == [
        "sbom: component 'a': components is not a list (ignored)",
        "sbom: component 'a': properties is not a list (ignored)",
        "sbom: component 'img': properties is not a list (ignored)",
        "sbom: metadata.tools is neither a list nor an object (ignored)",
    ]
    assert target["name"] == "img" and target["sbom_tools"] == []


def test_wrong_fields_inside_an_spdx_package_are_warnings_and_the_rest_is_read(tmp_path):
    doc = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": 5, "creationInfo": {"creators": "Tool: x"},
           "relationships": [5, {"relationshipType": "DESCRIBES", "spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": None}],
           "packages": [
               {"name": "a", "SPDXID": "SPDXRef-a", "versionInfo": "1", "externalRefs": 5, "attributionTexts": "Key: v"},
               {"name": "b", "SPDXID": "SPDXRef-b", "versionInfo": "2", "externalRefs": [
                   {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/b@2"}, 7]},
               3,
           ]}
    path = tmp_path / "x.spdx.json"
    path.write_text(json.dumps(doc))
    inv, target = load_sbom(path)
    assert [(p.name, p.version) for p in inv.packages] == [("b", "2")]
    assert sorted(w.message for w in inv.warnings) == [
        "sbom: 1 component(s) without a purl skipped (nothing to match)",
        "sbom: a package that is not an object was skipped",
        "sbom: creationInfo.creators is not a list (ignored)",
        "sbom: package 'a': attributionTexts is not a list (ignored)",
        "sbom: package 'a': externalRefs is not a list (ignored)",
    ]
    assert target["name"] == "5" and target["sbom_tools"] == []  # the document's name, a number spelled out


# -- only InputError escapes, whatever shape the document has ---------------------------------------

_KEYS = st.sampled_from([
    "components", "name", "version", "purl", "type", "properties", "value", "licenses", "license", "id", "expression",
    "bom-ref", "metadata", "component", "tools", "services", "packages", "externalRefs", "referenceType",
    "referenceLocator", "documentDescribes", "relationships", "relationshipType", "spdxElementId",
    "relatedSpdxElement", "creationInfo", "creators", "attributionTexts", "SPDXID", "versionInfo", "comment",
    "sourceInfo", "primaryPackagePurpose", "description", "licenseDeclared", "specVersion",
])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
            | st.sampled_from(["pkg:npm/a@1", "pkg:deb/debian/x@1?distro=debian-12", "pkg:rpm/redhat/y@1?epoch=2",
                               "hullscan:layer:index", "hullscan:layer:\u00b2:diff_id", "\u00b2", "operating-system",
                               "SPDXRef-DOCUMENT", "DESCRIBES", "Tool: syft-1.0", "\ud800", "library"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
                       max_leaves=30)


@settings(derandomize=True, database=None, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["CycloneDX", "SPDX"]), body=st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_only_input_errors_escape_the_reader(kind, body):
    doc = {**body, "bomFormat": "CycloneDX"} if kind == "CycloneDX" else {**body, "spdxVersion": "SPDX-2.3"}
    try:
        parsed = parse_sbom(json.dumps(doc).encode(), "fuzz.json")
    except InputError as err:
        assert "\n" not in str(err)
        return
    packages_of(parsed)
    target_info(parsed, "fuzz.json")
