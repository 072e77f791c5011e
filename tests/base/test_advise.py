"""`hullscan base advise`: three "tags" of one Debian 12 base whose dpkg status the test writes by hand,
an app image on the oldest, a DB of hand-written OSV records (testdata/advise-osv, PROVENANCE.md); the
ranking and the counts below are derived by hand from those versions and ranges, never from hullscan.

Packages (binary, version, source) per tag:
    12.1  zlib1g 1:1.2.13.dfsg-1 (zlib), libc6 2.36-9+deb12u3 (glibc), libssl3 3.0.11-1~deb12u1 (openssl)
    12.2  zlib1g 1:1.2.13.dfsg-1+deb12u1,  libc6 2.36-9+deb12u4,  libssl3 3.0.11-1~deb12u1
    12.3  zlib1g 1:1.2.13.dfsg-1+deb12u1,  libc6 2.36-9+deb12u7,  libssl3 3.0.13-1~deb12u1
The app adds curl 7.88.1-10+deb12u4 in its own layer. Advisories (Debian:12, by source package):
    0001 zlib    fixed 1:1.2.13.dfsg-1+deb12u1   CRITICAL  → 12.1 only
    0002 glibc   fixed 2.36-9+deb12u4            HIGH      → 12.1 only (u3 < u4)
    0003 glibc   fixed 2.36-9+deb12u7            MEDIUM    → 12.1 and 12.2 (u3, u4 < u7)
    0004 openssl fixed 3.0.13-1~deb12u1          HIGH      → 12.1 and 12.2 (3.0.11 < 3.0.13)
    0005 openssl introduced 3.0.12, fixed 3.0.14 LOW       → 12.3 only (3.0.11 < 3.0.12 ≤ 3.0.13)
    0006 curl    fixed 7.88.1-10+deb12u5         HIGH      → the app's own curl (introduced, never advice)
So the app inherits 0001-0004 (CRITICAL 1, HIGH 2, MEDIUM 1). 12.3 removes all four and adds 0005;
12.2 removes 0001 and 0002 (CRITICAL 1, HIGH 1), leaves 0003 and 0004, adds nothing. 12.3 ranks first
(more removed). An Alpine-based tag of the same repository and a Debian image of another repository are
not candidates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from builders import config_doc, f, layer, oci_image

from testsupport import REPO

OSV = Path(__file__).parent / "testdata" / "advise-osv"
SCHEMA = REPO / "docs" / "base-advise.schema.json"

TAGS = {
    "12.1": [("zlib1g", "1:1.2.13.dfsg-1", "zlib"), ("libc6", "2.36-9+deb12u3", "glibc"),
             ("libssl3", "3.0.11-1~deb12u1", "openssl")],
    "12.2": [("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "zlib"), ("libc6", "2.36-9+deb12u4", "glibc"),
             ("libssl3", "3.0.11-1~deb12u1", "openssl")],
    "12.3": [("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "zlib"), ("libc6", "2.36-9+deb12u7", "glibc"),
             ("libssl3", "3.0.13-1~deb12u1", "openssl")],
}
CREATED = {"12.1": "2026-01-10T00:00:00Z", "12.2": "2026-03-10T00:00:00Z", "12.3": "2026-06-10T00:00:00Z"}
OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
ALPINE_RELEASE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'


def stanza(name: str, version: str, source: str = "") -> str:
    return (f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            + (f"Source: {source}\n" if source else "") + f"Version: {version}\n\n")


def _base_layer(tag: str) -> Any:
    return layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", "12.5\n"),
                  f("var/lib/dpkg/status", "".join(stanza(*p) for p in TAGS[tag]))], created_by=f"ADD rootfs-{tag}.tar /")


def _image(root: Path, layers: list[Any], tag: str, created: str) -> str:
    cfg = config_doc(layers)
    cfg["created"] = created
    return str(oci_image(root, layers, tag=tag, config=cfg))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("advise")
    out = {tag: _image(root / tag, [_base_layer(tag)], f"example/deb:{tag}", CREATED[tag]) for tag in TAGS}
    curl = [*TAGS["12.1"], ("curl", "7.88.1-10+deb12u4", "")]
    app_layer = layer([f("var/lib/dpkg/status", "".join(stanza(*p) for p in curl)), f("usr/bin/curl", b"\x7fELF")],
                      created_by="RUN apt-get install curl")
    out["app"] = _image(root / "app", [_base_layer("12.1"), app_layer], "latest", "2026-07-01T00:00:00Z")
    out["alpine"] = _image(root / "alpine", [layer([f("etc/os-release", ALPINE_RELEASE)])], "example/deb:alpine",
                           "2026-09-01T00:00:00Z")
    # the newest tag's packages under another repository: not a tag of the app's base
    out["other"] = _image(root / "other", [_base_layer("12.3"), layer([f("etc/motd", "hi\n")])], "example/other:12",
                          "2026-08-01T00:00:00Z")
    return out


@pytest.fixture
def catalogued(hullscan: Any, built: dict[str, str], tmp_path: Path) -> tuple[Any, str]:
    for name in ("12.1", "12.2", "12.3", "alpine", "other"):
        r = hullscan("base", "add", built[name], "-q")
        assert r.code == 0, r.stderr
    db = str(tmp_path / "vuln.db")
    r = hullscan("db", "import", str(OSV), "--db", db)
    assert r.code == 0, r.stderr
    return hullscan, db


def _ids(findings: list[dict[str, Any]]) -> list[str]:
    return [x["id"] for x in findings]


def test_ranking_and_counts_by_hand(catalogued: tuple[Any, str], built: dict[str, str]) -> None:
    hullscan, db = catalogued
    r = hullscan("base", "advise", built["app"], "--db", db, "--format", "json", "-q", "--no-cache")
    assert r.code == 0, r.stderr
    doc = r.json
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["base"]["reference"] == "example/deb:12.1" and doc["base_image"]["method"] == "catalog"
    assert doc["inherited"]["total"] == 4
    assert doc["inherited"]["by_severity"] == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 0, "UNKNOWN": 0}
    assert _ids(doc["inherited"]["findings"]) == ["HSTEST-2099-0001", "HSTEST-2099-0002", "HSTEST-2099-0004",
                                                  "HSTEST-2099-0003"]
    first, second = doc["candidates"]  # not the Alpine tag, not example/other
    assert (first["rank"], first["reference"], second["rank"], second["reference"]) == (
        1, "example/deb:12.3", 2, "example/deb:12.2")
    assert first["removes"]["total"] == 4 and first["remaining"]["total"] == 0
    assert first["adds"]["by_severity"]["LOW"] == 1 and _ids(first["adds"]["findings"]) == ["HSTEST-2099-0005"]
    assert first["created"] == CREATED["12.3"]
    assert second["removes"]["by_severity"] == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
    assert _ids(second["remaining"]["findings"]) == ["HSTEST-2099-0004", "HSTEST-2099-0003"]
    assert second["remaining"]["by_severity"] == {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 1, "LOW": 0, "UNKNOWN": 0}
    assert second["adds"]["total"] == 0
    assert [x["package"] for x in second["remaining"]["findings"]] == ["libssl3", "libc6"]
    assert doc["reason"] is None

    table = hullscan("base", "advise", built["app"], "--db", db, "-q")
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert "base image: example/deb:12.1 (linux/amd64, debian 12.5)" in lines
    assert "inherited vulnerabilities: 4 (CRITICAL 1, HIGH 2, MEDIUM 1)" in lines
    body = "\n".join(lines)
    assert body.index("example/deb:12.3") < body.index("example/deb:12.2")
    prose = " ".join(lines)  # wrapped at spaces to 80 columns
    assert "#2 example/deb:12.2 leaves: HSTEST-2099-0004 (libssl3, HIGH), HSTEST-2099-0003 (libc6, MEDIUM)" in prose
    assert "#1 example/deb:12.3 adds: HSTEST-2099-0005 (libssl3, LOW)" in prose


def test_no_identified_base_is_no_advice(catalogued: tuple[Any, str], built: dict[str, str]) -> None:
    hullscan, db = catalogued
    r = hullscan("base", "rm", "example/deb:12.1")
    assert r.code == 0, r.stderr
    r = hullscan("base", "advise", built["app"], "--db", db, "--format", "json", "-q", "--no-cache")
    assert r.code == 0, r.stderr
    doc = r.json
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["base"] is None and doc["candidates"] == []
    assert doc["base_image"]["method"] != "catalog" and "hullscan base add" in doc["reason"]


def test_missing_db_is_exit_4(catalogued: tuple[Any, str], built: dict[str, str], tmp_path: Path) -> None:
    hullscan, _db = catalogued
    r = hullscan("base", "advise", built["app"], "--db", str(tmp_path / "none.db"), "-q")
    assert r.code == 4 and r.stderr.count("\n") == 1


INHERITED = {"HSTEST-2099-0001", "HSTEST-2099-0002", "HSTEST-2099-0003", "HSTEST-2099-0004"}
INTRODUCED = {"HSTEST-2099-0006"}  # the app's curl


def test_every_format_splits_inherited_and_introduced(catalogued: tuple[Any, str], built: dict[str, str],
                                                      tmp_path: Path) -> None:
    """The same scan in each writer: which findings are inherited (from example/deb:12.1) and which introduced,
    as the header of this module derives them."""
    hullscan, db = catalogued
    report = tmp_path / "app.json"
    r = hullscan("image", built["app"], "--db", db, "-f", "json", "-o", str(report), "-q", "--no-cache")
    assert r.code == 0, r.stderr

    def render(fmt: str) -> str:
        out = hullscan("convert", str(report), "-f", fmt)
        assert out.code == 0, out.stderr
        return out.stdout

    sarif = json.loads(render("sarif"))["runs"][0]
    split = {res["ruleId"]: res["properties"].get("inherited") for res in sarif["results"]}
    assert split == {**dict.fromkeys(INHERITED, True), **dict.fromkeys(INTRODUCED, False)}
    assert {res["properties"].get("base_image.name") for res in sarif["results"] if res["ruleId"] in INHERITED} == {
        "example/deb:12.1"}
    assert sarif["properties"]["base_image.method"] == "catalog"
    assert all("inherited from example/deb:12.1" in res["message"]["text"] for res in sarif["results"]
               if res["ruleId"] in INHERITED)

    bom = json.loads(render("cyclonedx"))
    meta = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert (meta["hullscan:base_image:name"], meta["hullscan:base_image:method"]) == ("example/deb:12.1", "catalog")
    comps = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])} for c in bom["components"]
             if c["type"] == "library"}
    assert {n: p.get("hullscan:inherited") for n, p in comps.items()} == {
        "zlib1g": "true", "libc6": "true", "libssl3": "true", "curl": "false"}
    by_ref = {c["bom-ref"]: c["name"] for c in bom["components"]}
    affected = {v["id"]: {by_ref[a["ref"]] for a in v["affects"]} for v in bom["vulnerabilities"]}
    assert {i for i, names in affected.items() if names <= {"zlib1g", "libc6", "libssl3"}} == INHERITED

    from xml.etree import ElementTree as ET

    suites = {s.get("name").split(" · ", 1)[1]: {c.get("name").split()[0] for c in s.iter("testcase")}
              for s in ET.fromstring(render("junit")).iter("testsuite")}
    assert suites == {"vulnerabilities.Debian:12 · inherited": INHERITED,
                      "vulnerabilities.Debian:12 · introduced": INTRODUCED}

    html = render("html")
    data = json.loads(html.split('id="hullscan-data">', 1)[1].split("</script>", 1)[0])
    assert {x["id"]: x["origin"] for x in data["findings"]} == {
        **dict.fromkeys(INHERITED, "inherited"), **dict.fromkeys(INTRODUCED, "introduced")}
    assert 'id="f-origin"' in html and "Inherited from example/deb:12.1" in html

    table = render("table")
    assert max(len(line) for line in table.splitlines()) <= 80
    introduced_at = table.index("OS packages — introduced")
    inherited_at = table.index("OS packages — inherited from example/deb:12.1")
    assert introduced_at < table.index("HSTEST-2099-0006") < inherited_at
    assert all(table.index(i) > inherited_at for i in INHERITED)
    assert "Introduced: 1 (fixable 1) · inherited from example/deb:12.1: 4 (fixable 4)" in table


# -- `hullscan image --base-advice`: the same advice as a section of the scan's report ----------------------

REPORT_SCHEMA = REPO / "docs" / "report.schema.json"
SECTION = ("base", "inherited", "candidates", "reason")
"""The keys of `base advise --format json` the report's `base_advice` holds (the rest is the report's own)."""


def test_image_base_advice_is_base_advise_in_every_format(catalogued: tuple[Any, str], built: dict[str, str],
                                                          tmp_path: Path) -> None:
    hullscan, db = catalogued
    advised = hullscan("base", "advise", built["app"], "--db", db, "--format", "json", "-q", "--no-cache")
    assert advised.code == 0, advised.stderr
    saved = tmp_path / "app.json"
    r = hullscan("image", built["app"], "--db", db, "--base-advice", "-f", "json", "-o", str(saved), "-q", "--no-cache")
    assert r.code == 0, r.stderr
    doc = json.loads(saved.read_text())
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(doc)
    assert tuple(map(int, doc["schema_version"].split("."))) >= (1, 4)  # base_advice since 1.4
    advice = doc["base_advice"]
    assert advice == {k: advised.json[k] for k in SECTION}
    # the ranking and counts of this module's header, again by hand
    assert advice["base"]["reference"] == "example/deb:12.1"
    assert advice["inherited"]["by_severity"] == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 0, "UNKNOWN": 0}
    assert [(c["rank"], c["reference"], c["removes"]["total"], c["remaining"]["total"], c["adds"]["total"])
            for c in advice["candidates"]] == [(1, "example/deb:12.3", 4, 0, 1), (2, "example/deb:12.2", 2, 2, 0)]
    assert _ids(advice["candidates"][1]["removes"]["findings"]) == ["HSTEST-2099-0001", "HSTEST-2099-0002"]

    # a saved report read back (report/load.py) keeps the section whole
    again = hullscan("convert", str(saved), "-f", "json")
    assert again.code == 0, again.stderr
    assert again.json["base_advice"] == advice

    table = hullscan("image", built["app"], "--db", db, "--base-advice", "-f", "table", "-q", "--no-cache")
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    prose = " ".join(lines)  # wrapped at spaces to 80 columns
    assert "Base image advice: 4 vulnerabilities inherited from example/deb:12.1 (CRITICAL 1, HIGH 2, MEDIUM 1)" in prose
    rows = [[c.strip() for c in x.strip("│").split("│")] for x in lines if x.startswith("│ 1 ") or x.startswith("│ 2 ")]
    assert rows == [["1", "example/deb:12.3", "4 (C1 H2 M1)", "0", "1", "2026-06-10"],
                    ["2", "example/deb:12.2", "2 (C1 H1)", "2 (H1 M1)", "0", "2026-03-10"]]

    html = hullscan("convert", str(saved), "-f", "html")
    assert html.code == 0, html.stderr
    section = html.stdout.split('<section id="base-advice">', 1)[1].split("</section>", 1)[0]
    assert section.index('data-rank="1"') < section.index("example/deb:12.3") < section.index('data-rank="2"') \
        < section.index("example/deb:12.2")
    assert "4: CRITICAL 1, HIGH 2, MEDIUM 1" in section and "HSTEST-2099-0005" in section

    plain = tmp_path / "plain.json"
    r = hullscan("image", built["app"], "--db", db, "-f", "json", "-o", str(plain), "-q", "--no-cache")
    assert r.code == 0 and "base_advice" not in json.loads(plain.read_text()), "opt-in only"
    for fmt, said in (("html", 'id="base-advice"'), ("table", "Base image advice")):
        out = hullscan("convert", str(plain), "-f", fmt)
        assert out.code == 0 and "HSTEST-2099-0001" in out.stdout and said not in out.stdout


def test_image_base_advice_table_shows_the_best_three(catalogued: tuple[Any, str], built: dict[str, str],
                                                      tmp_path: Path) -> None:
    """Two more images with 12.3's packages, created later: each removes the same 4 and adds 0005 as 12.3
    does, so the newest ranks first (12.5, 12.4, 12.3), then 12.2; the table shows three and says so."""
    hullscan, db = catalogued
    for tag, created in (("12.4", "2026-07-10T00:00:00Z"), ("12.5", "2026-08-10T00:00:00Z")):
        same = layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", "12.5\n"),
                      f("var/lib/dpkg/status", "".join(stanza(*p) for p in TAGS["12.3"]))], created_by=f"ADD rootfs-{tag}.tar /")
        r = hullscan("base", "add", _image(tmp_path / tag, [same], f"example/deb:{tag}", created), "-q")
        assert r.code == 0, r.stderr
    doc = hullscan("image", built["app"], "--db", db, "--base-advice", "-f", "json", "-q", "--no-cache")
    assert doc.code == 0, doc.stderr
    assert [c["reference"] for c in doc.json["base_advice"]["candidates"]] == [
        "example/deb:12.5", "example/deb:12.4", "example/deb:12.3", "example/deb:12.2"]
    table = hullscan("image", built["app"], "--db", db, "--base-advice", "-q", "--no-cache", "-f", "table")
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    ranked = [x.split("│")[2].strip() for x in lines if x.startswith(("│ 1 ", "│ 2 ", "│ 3 ", "│ 4 "))]
    assert ranked == ["example/deb:12.5", "example/deb:12.4", "example/deb:12.3"]
    assert "… and 1 more candidate (the JSON report lists them all)" in lines


def test_image_base_advice_without_a_catalogued_base(catalogued: tuple[Any, str], built: dict[str, str]) -> None:
    hullscan, db = catalogued
    assert hullscan("base", "rm", "example/deb:12.1").code == 0
    r = hullscan("image", built["app"], "--db", db, "--base-advice", "-f", "json", "-q", "--no-cache")
    assert r.code == 0, r.stderr
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(r.json)
    advice = r.json["base_advice"]
    assert advice["base"] is None and advice["candidates"] == [] and "hullscan base add" in advice["reason"]
    table = hullscan("image", built["app"], "--db", db, "--base-advice", "-f", "table", "-q", "--no-cache")
    assert "Base image advice: none — the base image is" in " ".join(table.stdout.splitlines())


def test_base_advice_needs_the_vuln_scanner(catalogued: tuple[Any, str], built: dict[str, str]) -> None:
    hullscan, db = catalogued
    r = hullscan("image", built["app"], "--db", db, "--base-advice", "--scanners", "secret", "-q")
    assert r.code == 2 and r.stderr.count("\n") == 1 and "--base-advice needs the vuln scanner" in r.stderr


def test_base_advice_and_the_result_cache(catalogued: tuple[Any, str], built: dict[str, str], tmp_path: Path) -> None:
    """The advice is computed after the scan, from a cached result too, and never cached with it; a change to
    the catalog (in the whole-result key) gives a new scan and new advice. A warm scan without the flag
    loads nothing of the advice (tests/test_warm_path.py pins the rest of its modules)."""
    from imagehelp import modules_loaded, settle

    hullscan, db = catalogued
    settle()  # a DB written just now is not trusted to be unchanged: the result would not be stored
    args = ("image", built["app"], "--db", db, "-f", "json", "-q")
    cold = hullscan(*args, "--base-advice")
    warm = hullscan(*args, "--base-advice")
    assert cold.code == warm.code == 0, warm.stderr
    assert not cold.json["stats"].get("result_cached") and warm.json["stats"]["result_cached"] is True
    assert warm.json["base_advice"] == cold.json["base_advice"]
    assert [c["reference"] for c in warm.json["base_advice"]["candidates"]] == ["example/deb:12.3", "example/deb:12.2"]
    plain = hullscan(*args)
    assert plain.json["stats"]["result_cached"] is True and "base_advice" not in plain.json

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}  # the fixture's
    advice_modules = {"hullscan.scan.advice", "hullscan.base.advise", "hullscan.state.catalog", "sqlalchemy"}
    without = modules_loaded(*args, "-o", str(tmp_path / "plain.json"), env=env)
    assert "hullscan.walk.walker" not in without, "a warm scan"
    assert advice_modules & without == set()
    with_flag = modules_loaded(*args, "--base-advice", "-o", str(tmp_path / "advised.json"), env=env)
    assert "hullscan.walk.walker" not in with_flag and advice_modules <= with_flag

    assert hullscan("base", "rm", "example/deb:12.2").code == 0
    after = hullscan(*args, "--base-advice")
    assert after.code == 0, after.stderr
    assert not after.json["stats"].get("result_cached"), "the catalog's generation is in the result key"
    assert [c["reference"] for c in after.json["base_advice"]["candidates"]] == ["example/deb:12.3"]


def test_report_schema_holds_base_advise_shapes() -> None:
    """docs/report.schema.json's `advice_*` definitions are docs/base-advise.schema.json's, renamed: one shape."""
    report, advise_doc = json.loads(REPORT_SCHEMA.read_text()), json.loads(SCHEMA.read_text())
    renamed = json.dumps(advise_doc["$defs"]).replace('"#/$defs/', '"#/$defs/advice_')
    assert {k: report["$defs"][f"advice_{k}"] for k in advise_doc["$defs"]} == json.loads(renamed)
    section = json.dumps(report["properties"]["base_advice"]["properties"]).replace("#/$defs/advice_", "#/$defs/")
    assert json.loads(section) == {k: advise_doc["properties"][k] for k in SECTION}
