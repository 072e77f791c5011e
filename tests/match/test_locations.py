"""One finding per (vulnerability, package) with `locations[]` (docs/matching.md "One finding per package,
several locations"), through the real CLI against a DB imported from the example feeds.

The inputs are the example image's own files (examples/alpine-3.10-django, its application layer): Django
2.2 installed (`Django-2.2.dist-info`) and declared by `/app/Pipfile.lock`. Expected values were read by
hand: the 28 GitHub advisories of examples/feeds/ghsa-pypi/django each hold 2.2 in one of their ranges
(DJANGO_GHSA below), so Django 2.2 has 28 vulnerabilities whichever file says it is there.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "image"))
import builders as B  # noqa: E402

EXAMPLE = REPO / "examples" / "alpine-3.10-django"
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
DIST = "/usr/lib/python3.7/site-packages/Django-2.2.dist-info"
LOCK = "/app/Pipfile.lock"
VENV = "/opt/venv/lib/python3.7/site-packages/Django-2.2.dist-info"
CVE = "CVE-2019-14234"  # GHSA-6r97-cj55-9hrq: django >= 2.2.0, < 2.2.4
# every file of examples/feeds/ghsa-pypi/django: each has a range holding 2.2 (read by hand)
DJANGO_GHSA = {
    "GHSA-2gwj-7jmv-h26r", "GHSA-2m34-jcjv-45xf", "GHSA-3gh2-xw74-jmcw", "GHSA-53qw-q765-4fww", "GHSA-68w8-qjq3-2gfm",
    "GHSA-6c7v-2f49-8h26", "GHSA-6cw3-g6wv-c2xv", "GHSA-6r97-cj55-9hrq", "GHSA-7rp2-fm2h-wchj", "GHSA-8c5j-9r9f-c6w8",
    "GHSA-95rw-fx8r-36v6", "GHSA-c4qh-4vgv-qc6g", "GHSA-fr28-569j-53c4", "GHSA-fvgf-6h6h-3322", "GHSA-h5jv-4p7w-64jg",
    "GHSA-hmr4-m2h5-33qx", "GHSA-hvmf-r92r-27hr", "GHSA-jrh2-hc4r-7jwx", "GHSA-m6gj-h9gm-gw44", "GHSA-p99v-5w3c-jqq9",
    "GHSA-qm57-vhq3-3fwf", "GHSA-rxjp-mfm9-w4wr", "GHSA-v6rh-hp5x-86rv", "GHSA-v9qg-3j8p-r63v", "GHSA-vfq6-hq5r-27r6",
    "GHSA-w24h-v9qh-8gxj", "GHSA-wpjr-j57x-wxfw", "GHSA-xgxc-v2qg-chmh",
}


def hullscan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullscan", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def app_files() -> dict[str, bytes]:
    """The example's application layer: the dist-info and the Pipfile.lock, by absolute path."""
    index = json.loads((EXAMPLE / "index.json").read_text())
    blob = EXAMPLE / "blobs" / "sha256"
    manifest = json.loads((blob / index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    raw = (blob / manifest["layers"][1]["digest"].split(":")[1]).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)) as tar:
        files = {"/" + m.name.lstrip("./"): tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert {p for p in files if p.startswith(DIST + "/")} and LOCK in files, sorted(files)
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("locations")
    db = base / "vuln.db"
    r = hullscan("db", "import", str(REPO / "examples" / "feeds"), "--db", str(db), cwd=base)
    assert r.returncode == 0, r.stderr
    files = app_files()
    dist = {p: d for p, d in files.items() if p.startswith(DIST + "/")}
    return {
        "base": base, "db": db,
        "both": write_tree(base / "both", {**dist, LOCK: files[LOCK]}),
        "dist": write_tree(base / "dist", dist),
        "lock": write_tree(base / "lock", {LOCK: files[LOCK]}),
    }


def fs(work: dict[str, Path], which: str, *extra: str, code: int = 0) -> dict[str, Any]:
    out = work["base"] / f"{which}-{abs(hash(extra))}.json"
    r = hullscan("fs", str(work[which]), "--db", str(work["db"]), "--scanners", "vuln", "-q", "-f", "json",
                 "-o", str(out), *extra, cwd=work["base"])
    assert r.returncode == code, r.stderr
    report = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    report["_path"] = str(out)
    return report


def django(report: dict[str, Any], key: str = "vulnerabilities") -> list[dict[str, Any]]:
    found = report[key] if key == "vulnerabilities" else [s["finding"] for s in report[key]]
    return [v for v in found if v["package"]["name"] == "django"]


def ghsa_of(findings: list[dict[str, Any]]) -> set[str]:
    return {a for v in findings for a in [v["id"], *v["aliases"]] if a.startswith("GHSA-")}


def places(v: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(loc["path"], loc["kind"], loc["analyzer"]) for loc in v.get("locations") or ()]


def test_one_finding_with_two_locations(work):
    both, dist, lock = fs(work, "both"), fs(work, "dist"), fs(work, "lock")
    # each file alone says the same 28 vulnerabilities (one place each: no locations)
    for alone in (dist, lock):
        assert ghsa_of(django(alone)) == DJANGO_GHSA and len(django(alone)) == 28
        assert all("locations" not in v for v in alone["vulnerabilities"])
    # both files: the same 28, once each, each found in the two places, the installed copy first
    assert ghsa_of(django(both)) == DJANGO_GHSA and len(django(both)) == 28
    keys = [(v["id"], v["package"]["name"], v["package"]["version"]) for v in both["vulnerabilities"]]
    assert len(keys) == len(set(keys))
    assert len(both["vulnerabilities"]) == len(lock["vulnerabilities"])  # the lockfile declares every package
    ids = {p["paths"][0]: p["id"] for p in both["packages"] if p["name"] == "django"}
    assert set(ids) == {DIST, LOCK}
    for v in django(both):
        assert places(v) == [(DIST, "installed", "python-dist"), (LOCK, "declared", "python-lock")]
        assert [loc["package_id"] for loc in v["locations"]] == [ids[DIST], ids[LOCK]]
        assert v["package"]["paths"][0] == DIST and v["package"]["kind"] == "installed"
        assert v["layer"] == v["locations"][0]["layer"]


def test_the_gate_sarif_cyclonedx_and_table_count_it_once(work):
    policy = work["base"] / "fail-on.yaml"
    policy.write_text(f"version: 1\nfail_on: {{ids: [{CVE}]}}\n")
    judged = fs(work, "both", "--policy", str(policy), code=1)
    (rule,) = judged["verdict"]["failed_rules"]
    assert rule["findings"] == [f"{CVE} (django 2.2)"]

    sarif = hullscan("convert", judged["_path"], "-f", "sarif", cwd=work["base"])
    results = [r for r in json.loads(sarif.stdout)["runs"][0]["results"] if r["ruleId"] == CVE]
    assert len(results) == 1
    assert [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in results[0]["locations"]] == [
        DIST.lstrip("/"), LOCK.lstrip("/")]

    # CycloneDX: the two packages stay two components, both affected by the one vulnerability
    bom = json.loads(hullscan("convert", judged["_path"], "-f", "cyclonedx", cwd=work["base"]).stdout)
    refs = {c["bom-ref"] for c in bom["components"] if c.get("name") == "django"}
    (vuln,) = [v for v in bom["vulnerabilities"] if v["id"] == CVE]
    assert len(refs) == 2 and {a["ref"] for a in vuln["affects"]} == refs

    table = hullscan("fs", str(work["both"]), "--db", str(work["db"]), "--scanners", "vuln", "-q", "-f", "table",
                     cwd=work["base"])
    assert table.returncode == 0 and table.stdout.count(CVE) == 1, table.stdout


def test_an_exception_by_path_covers_the_locations_it_names(work):
    def policy(name: str, path: str = "") -> str:
        p = work["base"] / f"{name}.yaml"
        narrowing = f"\n    path: {path}" if path else ""
        p.write_text(f"version: 1\nexceptions:\n  - id: {CVE}{narrowing}\n    justification: test\n"
                     f"    expires: 2099-12-31\n")
        return str(p)

    def the(report: dict[str, Any], key: str = "vulnerabilities") -> list[dict[str, Any]]:
        return [v for v in django(report, key) if v["id"] == CVE]

    # naming the lockfile: the finding stays, found in the dist-info only
    report = fs(work, "both", "--policy", policy("lock", LOCK))
    (v,) = the(report)
    assert "locations" not in v and v["package"]["paths"][0] == DIST and v["package"]["kind"] == "installed"
    assert the(report, "suppressed") == [] and report["verdict"]["exceptions"]["applied"]
    # naming the dist-info (a file inside it names it too, as before): the lockfile's package speaks for it
    for path in (DIST, DIST + "/METADATA"):
        (v,) = the(fs(work, "both", "--policy", policy("dist", path)))
        assert "locations" not in v and v["package"]["paths"] == [LOCK] and v["package"]["kind"] == "declared"
    # naming both (a .trivyignore.yaml entry with two paths, one a directory): suppressed, once
    ignore = work["base"] / "both.trivyignore.yaml"
    ignore.write_text(f"vulnerabilities:\n  - id: {CVE}\n    paths: [{LOCK}, /usr/lib/python3.7]\n")
    report = fs(work, "both", "--ignorefile", str(ignore))
    assert the(report) == [] and len(the(report, "suppressed")) == 1
    assert places(the(report, "suppressed")[0]) == [(DIST, "installed", "python-dist"), (LOCK, "declared", "python-lock")]
    # no path: every location
    report = fs(work, "both", "--policy", policy("all"))
    assert the(report) == [] and len(the(report, "suppressed")) == 1
    # the other 27 are untouched
    assert len(django(report)) == 27 and all(len(v["locations"]) == 2 for v in django(report))


def test_copies_in_different_layers(work, tmp_path):
    """A base layer with Django in a venv, an application layer with the example's files: the finding's layer
    is the lowest (the base image's: `base` true), and without that copy the application layer's."""
    files = app_files()
    venv = {VENV + p[len(DIST):]: d for p, d in files.items() if p.startswith(DIST + "/")}
    app = {p: d for p, d in files.items() if p.startswith(DIST + "/") or p == LOCK}
    layers = [B.layer([B.f(p.lstrip("/"), d) for p, d in sorted(venv.items())], created_by="ADD venv /"),
              B.layer([B.f(p.lstrip("/"), d) for p, d in sorted(app.items())], created_by="COPY app /")]
    # the history heuristic: the base ends at its CMD followed by more layers
    history = [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD venv /"},
               {"created": "2024-01-01T00:00:00Z", "created_by": "CMD [\"sh\"]", "empty_layer": True},
               {"created": "2024-01-02T00:00:00Z", "created_by": "COPY app /"}]
    image = B.oci_image(tmp_path / "image", layers, history=history)
    out = tmp_path / "report.json"
    r = hullscan("image", str(image), "--db", str(work["db"]), "--scanners", "vuln", "-q", "--no-cache", "-f", "json",
                 "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert len(django(report)) == 28
    for v in django(report):
        assert places(v) == [(VENV, "installed", "python-dist"), (DIST, "installed", "python-dist"),
                             (LOCK, "declared", "python-lock")]
        assert [loc["layer"]["index"] for loc in v["locations"]] == [0, 1, 1]
        assert (v["layer"]["index"], v["layer"]["base"]) == (0, True)

    policy = tmp_path / "p.yaml"
    policy.write_text(f"version: 1\nexceptions:\n  - id: {CVE}\n    path: /opt/venv\n    justification: test\n"
                      "    expires: 2099-12-31\n")
    r = hullscan("image", str(image), "--db", str(work["db"]), "--scanners", "vuln", "-q", "--no-cache", "-f", "json",
                 "--policy", str(policy), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (v,) = [v for v in django(json.loads(r.stdout)) if v["id"] == CVE]
    assert places(v) == [(DIST, "installed", "python-dist"), (LOCK, "declared", "python-lock")]
    assert (v["layer"]["index"], v["layer"]["base"]) == (1, False) and "app layer" in v["risk"]["reason"]


def test_round_trip_through_convert(work):
    plain = fs(work, "both")
    policy = work["base"] / "rt.yaml"
    policy.write_text(f"version: 1\nexceptions:\n  - id: {CVE}\n    path: {LOCK}\n    justification: test\n"
                      "    expires: 2099-12-31\n  - id: CVE-2019-19844\n    justification: test\n"
                      "    expires: 2099-12-31\n")
    judged = fs(work, "both", "--policy", str(policy))
    for report in (plain, judged):
        saved = Path(report["_path"])
        r = hullscan("convert", str(saved), "-f", "json", cwd=work["base"])
        assert r.returncode == 0, r.stderr
        assert r.stdout.encode() == saved.read_bytes()
