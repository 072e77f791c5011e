"""`hullscan plan` and `hullscan image --plan` end to end: images built with tests/image/builders.py, three
catalogued Debian 12 "tags" (tests/base/test_advise.py's), a DB of real PyPA records and hand-written Debian
ones (testdata/osv, PROVENANCE.md). Every number below is derived by hand from those records:

Image layers: 0 `ADD rootfs-12.1.tar /` (the base: zlib1g 1:1.2.13.dfsg-1, libc6 2.36-9+deb12u3, libssl3
3.0.11-1~deb12u1), 1 `RUN apt-get install -y curl` (curl 7.88.1-10+deb12u4), 2 `RUN pip install
werkzeug==2.2.2 requests==2.19.0`.
Findings and risk (policy/risk.py: 5.5 × the severity's CVSS stand-in, +5 with a fix, +5 in an app layer;
one decimal, halves to even; the PyPA records give no severity: UNKNOWN, 4.0):
    inherited  HSTEST-2099-0001 zlib1g  CRITICAL fix           52.25 + 5     = 57.25 → 57.2
               HSTEST-2099-0002 libc6   HIGH     fix u4        41.25 + 5     = 46.25 → 46.2
               HSTEST-2099-0003 libc6   MEDIUM   fix u7        27.5 + 5      = 32.5
               HSTEST-2099-0004 libssl3 HIGH     fix           46.2
    layer 1    HSTEST-2099-0006 curl    HIGH     fix u5        41.25 + 5 + 5 = 51.25 → 51.2
               HSTEST-2099-0007 curl    MEDIUM   no fix        27.5 + 5      = 32.5
    layer 2    CVE-2023-23934, CVE-2023-25577 werkzeug (fixed 2.2.3), CVE-2018-18074 (fixed 2.20.0),
               CVE-2023-32681 (fixed 2.31.0) requests: 22 + 5 + 5 = 32.0 each
Total 57.2 + 46.2 + 32.5 + 46.2 + 51.2 + 32.5 + 4 × 32.0 = 393.8.
Base advice: 12.3 removes all four inherited findings (182.1) and adds HSTEST-2099-0005; 12.2 only 0001 and
0002. Plan: 1 base → example/deb:12.3 (182.1, left 211.7; covers deb/glibc, deb/openssl, deb/zlib);
2 requests 2.19.0 → 2.31.0 (64.0, left 147.7; ties werkzeug, and `requests` sorts first); 3 werkzeug 2.2.2 →
2.2.3 (64.0, left 83.7); 4 curl → 7.88.1-10+deb12u5 (51.2, left 32.5); HSTEST-2099-0007 has no fix (affected).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from builders import config_doc, f, layer, oci_image

from testsupport import REPO

OSV = Path(__file__).parent / "testdata" / "osv"
PLAN_SCHEMA = REPO / "docs" / "plan.schema.json"
REPORT_SCHEMA = REPO / "docs" / "report.schema.json"

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
PIP = "RUN pip install werkzeug==2.2.2 requests==2.19.0"
SITE = "usr/local/lib/python3.11/site-packages"


def stanza(name: str, version: str, source: str = "") -> str:
    return (f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            + (f"Source: {source}\n" if source else "") + f"Version: {version}\n\n")


def _base_layer(tag: str) -> Any:
    return layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", "12.5\n"),
                  f("var/lib/dpkg/status", "".join(stanza(*p) for p in TAGS[tag]))], created_by=f"ADD rootfs-{tag}.tar /")


def _dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def _image(root: Path, layers: list[Any], tag: str, created: str) -> str:
    cfg = config_doc(layers)
    cfg["created"] = created
    return str(oci_image(root, layers, tag=tag, config=cfg))


@pytest.fixture(scope="module")
def setup(hullscan: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("plan")
    out = {tag: _image(root / tag, [_base_layer(tag)], f"example/deb:{tag}", CREATED[tag]) for tag in TAGS}
    curl = [*TAGS["12.1"], ("curl", "7.88.1-10+deb12u4", "")]
    apt = layer([f("var/lib/dpkg/status", "".join(stanza(*p) for p in curl)), f("usr/bin/curl", b"\x7fELF")],
                created_by="RUN apt-get install -y curl")
    pip = layer([_dist("Werkzeug", "2.2.2"), _dist("requests", "2.19.0")], created_by=PIP)
    out["app"] = _image(root / "app", [_base_layer("12.1"), apt, pip], "latest", "2026-07-01T00:00:00Z")
    for tag in TAGS:
        r = hullscan("base", "add", out[tag], "-q")
        assert r.code == 0, r.stderr
    out["db"] = str(root / "vuln.db")
    r = hullscan("db", "import", str(OSV), "--db", out["db"])
    assert r.code == 0, r.stderr + r.stdout
    return out


def _schema(path: Path) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(path.read_text()))


def test_plan_json_by_hand(hullscan: Any, setup: dict[str, str]) -> None:
    r = hullscan("plan", setup["app"], "--db", setup["db"], "-f", "json", "-q", "--no-cache")
    assert r.code == 0, r.stderr
    doc = r.json
    _schema(PLAN_SCHEMA).validate(doc)
    steps = [(s["rank"], s["kind"], s["name"], s["installed"], s["target"], s["risk_removed"], s["risk_left"])
             for s in doc["steps"]]
    assert steps == [
        (1, "base", "example/deb:12.3", [], "example/deb:12.3", 182.1, 211.7),
        (2, "package", "requests", ["2.19.0"], "2.31.0", 64.0, 147.7),
        (3, "package", "werkzeug", ["2.2.2"], "2.2.3", 64.0, 83.7),
        (4, "package", "curl", ["7.88.1-10+deb12u4"], "7.88.1-10+deb12u5", 51.2, 32.5),
    ]
    assert doc["risk_total"] == 393.8 and doc["risk_left"] == 32.5
    base, req, wz, curl = doc["steps"]
    assert base["covers"] == ["deb/glibc", "deb/openssl", "deb/zlib"] and base["layer"] is None
    assert sorted(x["id"] for x in base["removes"]) == [f"HSTEST-2099-000{i}" for i in (1, 2, 3, 4)]
    assert [x["id"] for x in base["adds"]] == ["HSTEST-2099-0005"]
    assert sorted(x["id"] for x in req["removes"]) == ["CVE-2018-18074", "CVE-2023-32681"]
    assert sorted(x["id"] for x in wz["removes"]) == ["CVE-2023-23934", "CVE-2023-25577"]
    # grouped by the history instruction that installed each package
    assert req["layer"]["created_by"] == PIP and curl["layer"]["created_by"] == "RUN apt-get install -y curl"
    assert [(g["index"], g["created_by"], g["steps"]) for g in doc["layers"]] == [
        (1, "RUN apt-get install -y curl", [4]), (2, PIP, [2, 3])]
    assert [(x["id"], x["status"], x["risk"]) for x in doc["unfixed"]] == [("HSTEST-2099-0007", "affected", 32.5)]
    assert doc["base_image"]["method"] == "catalog" and doc["base_note"] is None


def test_plan_table_fits_80_columns(hullscan: Any, setup: dict[str, str]) -> None:
    for columns in (80, 120):
        r = hullscan("plan", setup["app"], "--db", setup["db"], "-f", "table", "-q", columns=columns)
        assert r.code == 0, r.stderr
        lines = r.stdout.splitlines()
        assert max(len(x) for x in lines) <= columns, r.stdout
        text = " ".join(lines)
        for vid in ("HSTEST-2099-0007", "base → example/deb:12.3", "requests 2.19.0 → 2.31.0"):
            assert vid in text, (vid, r.stdout)
        assert re.search(r"Fix plan: 4 changes remove 361\.3 of 393\.8 risk", text), r.stdout
        assert f"Layer 2: #2, #3 — {PIP}" in text


def test_image_plan_section_in_json_table_and_html(hullscan: Any, setup: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    r = hullscan("image", setup["app"], "--db", setup["db"], "--plan", "-f", "json", "-o", str(report), "-q")
    assert r.code == 0, r.stderr
    doc = json.loads(report.read_text())
    _schema(REPORT_SCHEMA).validate(doc)
    assert [s["name"] for s in doc["plan"]["steps"]] == ["example/deb:12.3", "requests", "werkzeug", "curl"]
    assert "base_advice" not in doc  # the plan reads the advice; the report shows it only with --base-advice
    # a warm scan without --plan: no plan section
    plain = hullscan("image", setup["app"], "--db", setup["db"], "-f", "json", "-q")
    assert plain.code == 0 and "plan" not in plain.json
    # the saved report converts to the other formats with its plan
    table = hullscan("convert", str(report), "-f", "table")
    assert table.code == 0 and "Fix plan: 4 changes" in table.stdout
    assert max(len(x) for x in table.stdout.splitlines()) <= 80
    html = hullscan("convert", str(report), "-f", "html")
    assert html.code == 0 and 'id="fix-plan"' in html.stdout and html.stdout.count('class="plan-step"') == 4
    again = hullscan("convert", str(report), "-f", "json")
    assert json.loads(again.stdout)["plan"] == doc["plan"]


def test_plan_needs_the_vuln_scanner(hullscan: Any, setup: dict[str, str]) -> None:
    r = hullscan("plan", setup["app"], "--db", setup["db"], "--scanners", "secret", "-q")
    assert r.code == 2 and "vuln scanner" in r.stderr


def test_the_report_schema_holds_the_plan_schema_body() -> None:
    plan, report = json.loads(PLAN_SCHEMA.read_text()), json.loads(REPORT_SCHEMA.read_text())
    body = report["properties"]["plan"]
    assert body["properties"] == {k: plan["properties"][k] for k in body["required"]}
    assert all(report["$defs"][k] == v for k, v in plan["$defs"].items())
