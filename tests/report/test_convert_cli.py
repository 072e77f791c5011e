"""`hullscan convert`: re-renders a saved JSON report losslessly in every format; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from formats_scan import HULLSCAN, convert, scanned

from hullscan.report.formats import WRITERS


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, timeout=300)


def test_json_round_trip_is_identical() -> None:
    saved = scanned()["judged"]
    assert convert("judged", "json") == saved.read_bytes()


def test_same_bytes_as_scanning_with_that_format(tmp_path: Path) -> None:
    """A scan written as SARIF equals the same scan written as JSON and converted (SARIF holds no timestamp)."""
    paths = scanned()
    scan = ["image", str(paths["image"]), "--db", str(paths["db"]), "--scanners", "vuln,secret,config", "-q",
            "--cache-dir", str(tmp_path / "cache")]
    direct = run(*scan, "-f", "sarif")
    assert direct.returncode == 0, direct.stderr.decode()
    assert direct.stdout == convert("plain", "sarif")


def test_every_format_to_a_file(tmp_path: Path) -> None:
    src = scanned()["plain"]
    # every writer is rendered through report/convert.py by test_formats_agree.py; through the CLI two suffice
    # (each run costs a process start on a loaded 2-core machine)
    for fmt in ("cyclonedx-xml", "openvex"):
        assert fmt in WRITERS
        out = tmp_path / f"out.{fmt}"
        proc = run("convert", str(src), "--format", fmt, "--output", str(out))
        assert proc.returncode == 0, (fmt, proc.stderr.decode())
        assert out.stat().st_size > 0


@pytest.mark.parametrize("content,needle", [
    (b"not json at all", "not JSON"),
    (b"[1, 2]", "not a hullscan JSON report"),
    (json.dumps({"schema_version": "1.0"}).encode(), "not a valid hullscan JSON report"),
])
def test_bad_input_exits_2(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    proc = run("convert", str(bad), "--format", "sarif")
    assert proc.returncode == 2 and needle in proc.stderr.decode() and b"Traceback" not in proc.stderr
    assert proc.stdout == b""


def test_wrong_field_type_names_the_field(tmp_path: Path) -> None:
    report = json.loads(scanned()["plain"].read_text())
    report["vulnerabilities"][0]["status"] = "maybe"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(report))
    proc = run("convert", str(bad), "--format", "junit")
    assert proc.returncode == 2 and "vulnerabilities/0/status" in proc.stderr.decode()


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    proc = run("convert", str(tmp_path / "nope.json"), "--format", "sarif")
    assert proc.returncode == 2 and "no such file" in proc.stderr.decode()
    proc = run("convert", str(scanned()["plain"]), "--format", "pdf")
    assert proc.returncode == 2 and "unknown format" in proc.stderr.decode()


def test_display_filters() -> None:
    report = json.loads(scanned()["plain"].read_text())
    proc = run("convert", str(scanned()["plain"]), "--format", "json", "--severity", "HIGH,CRITICAL", "--ignore-unfixed")
    assert proc.returncode == 0, proc.stderr.decode()
    shown = json.loads(proc.stdout)
    expected = [v["id"] for v in report["vulnerabilities"] if v["severity"] in ("HIGH", "CRITICAL") and v["fixed_version"]]
    assert [v["id"] for v in shown["vulnerabilities"]] == expected and expected
    assert {s["severity"] for s in shown["secrets"]} == {"CRITICAL"}  # the planted AWS key id and GitHub token
