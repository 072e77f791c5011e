"""`hullscan sbom` on hullscan's own CycloneDX gives the image scan's risk scores: the base/application
flag (DESIGN's `inherited`, which the risk score weighs) survives the round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))
import builders as B  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
OSV = HERE / "testdata" / "roundtrip-osv"

# Hand-computed from the formula in docs/policy.md (no EPSS, no KEV in this DB):
#   setuptools, base layer: no CVSS, severity UNKNOWN → 5.5 × 4.0 = 22.0, + 5 (a fix exists) = 27.0
#   django, app layer: CVSS 9.8 → 5.5 × 9.8 = 53.9, + 5 (fix) + 5 (application layer) = 63.9
EXPECTED = {
    ("setuptools", "HSTEST-2024-0001"): (27.0, True),
    ("django", "HSTEST-2024-0002"): (63.9, False),
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True)


def _metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> dict:
    """A two-layer image whose base ends at the last metadata-only CMD (DESIGN's history rule): the
    base layer ships setuptools, the application layer Django; and a DB of two hand-written records."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    db = str(tmp / "vuln.db")
    r = run("db", "import", str(OSV), "--db", db)
    assert r.returncode == 0, r.stderr
    site = "usr/local/lib/python3.12/site-packages"
    base = B.layer([B.f("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
                    B.f(f"{site}/setuptools-65.5.0.dist-info/METADATA", _metadata("setuptools", "65.5.0"))])
    app = B.layer([B.f(f"app/{site}/Django-2.2.dist-info/METADATA", _metadata("Django", "2.2"))])
    history = [{"created_by": "ADD rootfs.tar.xz /"},
               {"created_by": 'CMD ["python3"]', "empty_layer": True},
               {"created_by": "COPY . /app"}]
    image = str(B.oci_image(tmp / "img", [base, app], history=history))
    direct = run("image", image, "--db", db, "-f", "json", "-q", "--no-cache")
    assert direct.returncode == 0, direct.stderr
    return {"tmp": tmp, "db": db, "image": image, "direct": json.loads(direct.stdout)}


def _risks(report: dict) -> dict[tuple[str, str], tuple[float, bool | None]]:
    return {(v["package"]["name"], v["id"]): (v["risk"]["score"], v["layer"]["base"])
            for v in report["vulnerabilities"]}


def test_image_scan_scores_as_computed_by_hand(scanned):
    assert _risks(scanned["direct"]) == EXPECTED


@pytest.mark.parametrize("fmt", ["cyclonedx", "cyclonedx-xml"])
def test_sbom_of_our_cyclonedx_scores_the_same(scanned, fmt):
    sbom = scanned["tmp"] / f"image.{fmt}"
    r = run("image", scanned["image"], "--db", scanned["db"], "-f", fmt, "-o", str(sbom), "-q", "--no-cache")
    assert r.returncode == 0, r.stderr
    back = run("sbom", str(sbom), "--db", scanned["db"], "-f", "json", "-q")
    assert back.returncode == 0, back.stderr
    report = json.loads(back.stdout)
    assert _risks(report) == _risks(scanned["direct"]) == EXPECTED
    reasons = {v["package"]["name"]: v["risk"]["reason"] for v in report["vulnerabilities"]}
    assert reasons == {v["package"]["name"]: v["risk"]["reason"] for v in scanned["direct"]["vulnerabilities"]}


def test_written_property_and_the_layer_fallback(scanned):
    """Each component says `hullscan:inherited`; an SBOM without it (an older hullscan) still gets the
    flag from the image component's per-layer `hullscan:layer:N:base`."""
    sbom = scanned["tmp"] / "image.cdx.json"
    r = run("image", scanned["image"], "--db", scanned["db"], "-f", "cyclonedx", "-o", str(sbom), "-q", "--no-cache")
    assert r.returncode == 0, r.stderr
    doc = json.loads(sbom.read_text())
    inherited = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])}.get("hullscan:inherited")
                 for c in doc["components"] if c.get("purl", "").startswith("pkg:pypi/")}
    assert inherited == {"setuptools": "true", "django": "false"}
    for c in doc["components"]:
        c["properties"] = [p for p in c.get("properties", []) if p["name"] != "hullscan:inherited"]
    assert "hullscan:inherited" not in json.dumps(doc)
    older = scanned["tmp"] / "older.cdx.json"
    older.write_text(json.dumps(doc))
    back = run("sbom", str(older), "--db", scanned["db"], "-f", "json", "-q")
    assert back.returncode == 0, back.stderr
    assert _risks(json.loads(back.stdout)) == EXPECTED
