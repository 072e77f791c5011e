"""A scan says, per ecosystem of its packages, whether the vulnerability DB covered it — in JSON
(`coverage`), in the table even with `-q`, in HTML, SARIF and CycloneDX — and a warm scan says exactly
what the cold one said.

The image is built here: Wolfi's os-release (tests/inventory/testdata/os-release/syft/wolfi), an apk
database of two Wolfi packages the real Chainguard OSV records of tests/vulndb/testdata/osv-misc name,
and one Python distribution. The DB holds those two OSV records only (feed `osv`), so by hand:
- Wolfi: CGA-224q-ccj5-2p53 (Wolfi haproxy-3.0/3.1, dated 2026-01-07) and CGA-22hv-wp9q-4779 (Wolfi
  langfuse-3-worker, 2026-02-24T13:07:08Z): present, 2 advisories, newest 2026-02-24, 2 packages;
  haproxy-3.1 3.1.6-r0 is below CGA-224q's fix 3.1.7-r0 (one finding), langfuse-3-worker 3.153.0-r0 is
  CGA-22hv's fixed version (none);
- PyPI: no record at all: not present, 1 package not matched.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "image"))
import builders as B  # noqa: E402
from imagehelp import run_cli, settle, validate_report  # noqa: E402

CHAINGUARD = REPO / "tests" / "vulndb" / "testdata" / "osv-misc" / "Chainguard"
WOLFI_OS_RELEASE = REPO / "tests" / "inventory" / "testdata" / "os-release" / "syft" / "wolfi" / "etc" / "os-release"
APK_INSTALLED = """C:Q1haproxy31000000000000000000000=
P:haproxy-3.1
V:3.1.6-r0
A:x86_64
o:haproxy-3.1
L:GPL-2.0-or-later

C:Q1langfuse00000000000000000000000=
P:langfuse-3-worker
V:3.153.0-r0
A:x86_64
o:langfuse-3-worker
L:MIT

"""
METADATA = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
GAP = "no advisories for PyPI (1 package not matched)"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("coverage")
    layer = B.layer([
        B.f("etc/os-release", WOLFI_OS_RELEASE.read_bytes()),
        B.f("lib/apk/db/installed", APK_INSTALLED),
        B.f("usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA", METADATA),
    ])
    image = B.oci_image(tmp / "image", [layer])
    db = tmp / "vuln.sqlite"
    r = run_cli("db", "import", str(CHAINGUARD), "--db", str(db))
    assert r.code == 0, r.stderr
    with sqlite3.connect(db) as c:
        (imported_at,) = c.execute("SELECT imported_at FROM hs_feed WHERE feed = 'osv'").fetchone()
    settle()  # a DB written just now is not cached (result_cache.py); the warm scan below needs it cached
    return {"image": image, "db": db, "tmp": tmp, "imported_at": imported_at}


def _scan(s: dict[str, Any], *extra: str) -> Any:
    r = run_cli("image", str(s["image"]), "--db", str(s["db"]), "--scanners", "vuln", "-q", *extra)
    assert r.code == 0 and "Traceback" not in r.stderr, r.stderr
    return r


def test_json_says_which_ecosystems_were_covered(scanned: dict[str, Any]) -> None:
    report = json.loads(_scan(scanned, "-f", "json", "--no-cache").stdout)
    validate_report(report)
    assert report["coverage"] == [
        {"ecosystem": "PyPI", "present": False, "packages": 1, "advisories": 0, "newest_advisory": None,
         "fetched_at": None, "feeds": []},
        {"ecosystem": "Wolfi", "present": True, "packages": 2, "advisories": 2, "newest_advisory": "2026-02-24",
         "fetched_at": scanned["imported_at"], "feeds": ["osv"]},
    ]
    assert {v["package"]["name"] for v in report["vulnerabilities"]} == {"haproxy-3.1"}  # covered: matched
    assert tuple(map(int, report["schema_version"].split("."))) >= (1, 5)


def test_the_table_names_the_gap_even_with_quiet(scanned: dict[str, Any]) -> None:
    out = _scan(scanned, "-f", "table", "--no-cache").stdout
    assert f"Coverage: {GAP}" in " ".join(out.split())
    assert "warning" in out  # -q: the warning itself went unprinted; the table counts it


def test_html_sarif_and_cyclonedx_carry_it(scanned: dict[str, Any]) -> None:
    html = _scan(scanned, "-f", "html", "--no-cache").stdout
    assert f"<strong>Coverage:</strong> {GAP}" in html
    sarif = json.loads(_scan(scanned, "-f", "sarif", "--no-cache").stdout)
    props = sarif["runs"][0]["properties"]
    assert props["coverage.gaps"] == GAP
    assert [(c["ecosystem"], c["present"]) for c in props["coverage"]] == [("PyPI", False), ("Wolfi", True)]
    bom = json.loads(_scan(scanned, "-f", "cyclonedx", "--no-cache").stdout)
    cdx = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert cdx["hullscan:coverage:gaps"] == GAP
    assert cdx["hullscan:coverage:PyPI:advisories"] == "0"
    assert cdx["hullscan:coverage:Wolfi:advisories"] == "2"
    assert cdx["hullscan:coverage:Wolfi:newest_advisory"] == "2026-02-24"


def test_a_warm_scan_says_what_the_cold_one_said(scanned: dict[str, Any]) -> None:
    cache = scanned["tmp"] / "cache"
    texts = {}
    for name in ("cold", "warm"):
        out = scanned["tmp"] / f"{name}.json"
        _scan(scanned, "-f", "json", "--cache-dir", str(cache), "-o", str(out))
        texts[name] = out.read_text()
    warm = json.loads(texts["warm"])
    assert warm["stats"].get("result_cached") is True
    assert warm["coverage"] == json.loads(texts["cold"])["coverage"]

    def section(text: str) -> str:  # the bytes of the section, indentation included
        start = text.index('\n  "coverage": [')
        return text[start:text.index("\n  ]", start)]

    assert section(texts["warm"]) == section(texts["cold"])
    warm_table = _scan(scanned, "-f", "table", "--cache-dir", str(cache)).stdout
    assert f"Coverage: {GAP}" in " ".join(warm_table.split())


def test_a_converted_report_keeps_coverage(scanned: dict[str, Any]) -> None:
    saved = scanned["tmp"] / "saved.json"
    _scan(scanned, "-f", "json", "--no-cache", "-o", str(saved))
    r = run_cli("convert", str(saved), "-f", "json")
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["coverage"] == json.loads(saved.read_text())["coverage"]
    jsonschema.Draft202012Validator(json.loads((REPO / "docs" / "report.schema.json").read_text())).validate(
        json.loads(r.stdout))
