"""`--format html` in headless Chromium (offline flags, fresh profile): a screenshot of the page, and the DOM
after the page's own script ran — counts, the findings table, a filter set through the URL hash."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from formats_scan import GITHUB_TOKEN, load, render

from testsupport import require_tool

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = require_tool("chromium")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def dump_dom(page: Path, fragment: str = "") -> str:
    proc = chromium("--dump-dom", page.as_uri() + fragment)
    assert proc.returncode == 0, proc.stderr
    assert 'data-rendered="true"' in proc.stdout, "the page's script did not run"
    return proc.stdout


def rows(dom: str) -> list[str]:
    return re.findall(r'<tr class="finding[^"]*" data-severity="([A-Z]+)"', dom)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for which in ("plain", "judged"):
        page = tmp_path_factory.mktemp("html") / f"{which}.html"
        page.write_bytes(render(which, "html"))
        out[which] = page
    return out


def test_single_offline_file(pages: dict) -> None:
    html = pages["plain"].read_text()
    assert GITHUB_TOKEN not in html
    # nothing is loaded from anywhere: no external src/href, no stylesheet links, and a CSP forbidding it
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)=', html)
    assert "default-src 'none'" in html
    assert "<svg" in html and 'id="risk-chart"' in html


def test_screenshot(pages: dict, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = chromium("--window-size=1300,2000", f"--screenshot={shot}", pages["plain"].as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1300, 2000)
    assert len(data) > 60_000  # a rendered report; a blank 1300×2000 page is a few kB


def test_dom_after_script_shows_the_counts(pages: dict) -> None:
    report = load("plain")
    findings = report["vulnerabilities"] + report["secrets"] + report["misconfigurations"]
    dom = dump_dom(pages["plain"])
    assert len(rows(dom)) == len(findings)
    assert f'<span id="shown-count">{len(findings)}</span>' in dom
    by_sev = Counter(f.get("severity") or "UNKNOWN" for f in findings)
    for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"):
        assert f'<b id="count-{sev}">{by_sev.get(sev, 0)}</b>' in dom
    assert Counter(rows(dom)) == by_sev
    # secrets section: the planted token file and credentials, the deleted file marked
    secrets = re.findall(r'<tr class="secret-row" data-kind="(\w+)">', dom)
    assert len(secrets) == len(report["secrets"]) + len(report["misconfigurations"])
    assert "deleted in layer 3" in dom
    # severity by layer: the application layer (1) holds every vulnerability
    layer_table = dom[dom.index('id="layer-table"'):]
    layer_table = layer_table[:layer_table.index("</table>")]
    assert re.search(rf"<td>1</td><td>application</td>.*?<b>{len(report['vulnerabilities'])}</b>", layer_table, re.S)


def test_url_hash_filters_rows(pages: dict) -> None:
    report = load("plain")
    findings = report["vulnerabilities"] + report["secrets"] + report["misconfigurations"]
    critical = sum(1 for f in findings if f.get("severity") == "CRITICAL")
    high_medium = sum(1 for f in findings if f.get("severity") in ("HIGH", "MEDIUM"))
    assert 0 < critical < len(findings)
    dom = dump_dom(pages["plain"], "#severity=CRITICAL")
    assert rows(dom) == ["CRITICAL"] * critical
    assert f'<span id="shown-count">{critical}</span>' in dom
    dom = dump_dom(pages["plain"], "#severity=HIGH,MEDIUM&kind=vulnerability")
    assert len(rows(dom)) == sum(1 for f in report["vulnerabilities"] if f.get("severity") in ("HIGH", "MEDIUM"))
    assert len(rows(dom)) < high_medium  # the config finding (HIGH) is not a vulnerability
    dom = dump_dom(pages["plain"], "#q=urllib3")
    expected = sum(1 for f in report["vulnerabilities"] if f["package"]["name"] == "urllib3")
    assert len(rows(dom)) == expected > 0


def test_verdict_and_suppressed(pages: dict) -> None:
    report = load("judged")
    dom = dump_dom(pages["judged"])
    assert 'data-passed="false"' in dom and "fail_on.secrets" in dom
    assert len(re.findall(r'<tr class="suppressed-row">', dom)) == len(report["suppressed"]) == 2
    failed = sum(1 for r in report["verdict"]["failed_rules"] for _ in r["findings"])
    assert len(re.findall(r'<tr class="finding failed"', dom)) == failed
    assert json.loads(re.search(r'<script type="application/json" id="hullscan-data">(.*?)</script>', dom, re.S).group(1))


def test_sorting_through_the_hash(pages: dict) -> None:
    report = load("plain")
    findings = report["vulnerabilities"] + report["secrets"] + report["misconfigurations"]
    dom = dump_dom(pages["plain"])  # default: highest risk first
    risks = [float(x) for x in re.findall(r'<tr class="finding[^"]*"[^>]* data-risk="([0-9.]+)"', dom)]
    assert len(risks) == len(findings) and risks == sorted(risks, reverse=True)
    dom = dump_dom(pages["plain"], "#sort=id&dir=asc")
    ids = re.findall(r'<tr class="finding[^"]*"[^>]* data-id="([^"]+)"', dom)
    assert ids == sorted((f.get("id") or f.get("rule_id") for f in findings), key=str.lower)
    assert 'data-key="id" class="sortable sorted-asc"' in dom or 'class="sortable sorted-asc" data-key="id"' in dom
