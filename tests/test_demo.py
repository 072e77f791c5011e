"""The README's demo (`scripts/demo`): the example image scanned against a DB imported from examples/feeds.

Its PyPI findings come from two real sources for the same vulnerabilities: the PyPA advisory-database
records (PYSEC, no severity) and GitHub's reviewed advisories (GHSA, a severity word and a CVSS vector).
Each vulnerability must be one finding per package, carrying GitHub's severity and vector.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "examples" / "alpine-3.10-django"
FEEDS = REPO / "examples" / "feeds"
HULLSCAN = [sys.executable, "-m", "hullscan"]

# Read by hand from examples/feeds/ghsa-pypi/<package>/<GHSA>.json: the advisory's CVE alias, its
# `database_specific.severity` (GitHub's MODERATE is our MEDIUM) and its `severity[0].score` vector.
GHSA: dict[tuple[str, str], tuple[str, str, str]] = {
    ("django", "CVE-2019-12308"): ("GHSA-7rp2-fm2h-wchj", "MEDIUM", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("django", "CVE-2019-12781"): ("GHSA-6c7v-2f49-8h26", "MEDIUM", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
    ("django", "CVE-2019-14232"): ("GHSA-c4qh-4vgv-qc6g", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
    ("django", "CVE-2019-14233"): ("GHSA-h5jv-4p7w-64jg", "HIGH", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
    ("django", "CVE-2019-14234"): ("GHSA-6r97-cj55-9hrq", "CRITICAL", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("django", "CVE-2019-14235"): ("GHSA-v9qg-3j8p-r63v", "HIGH", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
    ("django", "CVE-2019-19118"): ("GHSA-hvmf-r92r-27hr", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N"),
    ("django", "CVE-2019-19844"): ("GHSA-vfq6-hq5r-27r6", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("django", "CVE-2020-7471"): ("GHSA-hmr4-m2h5-33qx", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("django", "CVE-2020-9402"): ("GHSA-3gh2-xw74-jmcw", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"),
    ("django", "CVE-2020-13254"): ("GHSA-wpjr-j57x-wxfw", "MEDIUM", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2020-13596"): ("GHSA-2m34-jcjv-45xf", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("django", "CVE-2020-24583"): ("GHSA-m6gj-h9gm-gw44", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2020-24584"): ("GHSA-fr28-569j-53c4", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2021-3281"): ("GHSA-fvgf-6h6h-3322", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N"),
    ("django", "CVE-2021-28658"): ("GHSA-xgxc-v2qg-chmh", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
    ("django", "CVE-2021-31542"): ("GHSA-rxjp-mfm9-w4wr", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2021-32052"): ("GHSA-qm57-vhq3-3fwf", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("django", "CVE-2021-33203"): ("GHSA-68w8-qjq3-2gfm", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2021-33571"): ("GHSA-p99v-5w3c-jqq9", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"),
    ("django", "CVE-2021-44420"): ("GHSA-v6rh-hp5x-86rv", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L"),
    ("django", "CVE-2021-45115"): ("GHSA-53qw-q765-4fww", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
    ("django", "CVE-2021-45116"): ("GHSA-8c5j-9r9f-c6w8", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    ("django", "CVE-2021-45452"): ("GHSA-jrh2-hc4r-7jwx", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
    ("django", "CVE-2022-22818"): ("GHSA-95rw-fx8r-36v6", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("django", "CVE-2022-23833"): ("GHSA-6cw3-g6wv-c2xv", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
    ("django", "CVE-2022-28346"): ("GHSA-2gwj-7jmv-h26r", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("django", "CVE-2022-28347"): ("GHSA-w24h-v9qh-8gxj", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("djangorestframework", "CVE-2020-25626"): ("GHSA-fx83-3ph3-9j2q", "MEDIUM",
                                                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("pyyaml", "CVE-2019-20477"): ("GHSA-3pqx-4fqf-j49f", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("pyyaml", "CVE-2020-14343"): ("GHSA-8q59-q68h-6hv4", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("pyyaml", "CVE-2020-1747"): ("GHSA-6757-jp84-gxfx", "CRITICAL", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("requests", "CVE-2023-32681"): ("GHSA-j8r2-6x86-q33q", "MEDIUM", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"),
    ("sqlparse", "CVE-2023-30608"): ("GHSA-rrm6-wvj7-cwh2", "MEDIUM", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"),
    ("urllib3", "CVE-2019-11236"): ("GHSA-r64q-w8jr-g9qp", "MEDIUM", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
    ("urllib3", "CVE-2020-26137"): ("GHSA-wqvq-5m8c-6g24", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N"),
    ("urllib3", "CVE-2023-43804"): ("GHSA-v845-jxx5-vc9f", "MEDIUM", "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N"),
    ("urllib3", "CVE-2023-45803"): ("GHSA-g4mx-q9vg-27p4", "MEDIUM", "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"),
    ("certifi", "CVE-2022-23491"): ("GHSA-43fp-rhv2-5gv8", "MEDIUM", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N"),
    ("certifi", "CVE-2023-37920"): ("GHSA-xqr8-7jwr-rhp7", "HIGH", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"),
    ("idna", "CVE-2024-3651"): ("GHSA-jjg7-2v4v-x38h", "MEDIUM", "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
}
# urllib3 1.24.2 and CVE-2021-33503: PYSEC-2021-108 says every version before 1.26.5, GitHub's reviewed
# GHSA-q2q7-5pp4-w6pg only 1.25.4 up to 1.26.5. The PyPA record alone matches; it carries no severity.
NO_GHSA = {("urllib3", "CVE-2021-33503")}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("db") / "vuln.db")
    r = run("db", "import", str(FEEDS), "--db", db)
    assert r.returncode == 0, r.stderr
    return db


@pytest.fixture(scope="module")
def vulns(demo_db: str) -> list[dict[str, Any]]:
    r = run("image", str(IMAGE), "--db", demo_db, "-f", "json", "-q", "--no-cache")
    assert r.returncode == 0, r.stderr
    found: list[dict[str, Any]] = json.loads(r.stdout)["vulnerabilities"]
    return found


def test_every_finding_with_a_github_advisory_has_its_severity_and_vector(vulns):
    seen: set[tuple[str, str]] = set()
    for v in vulns:
        key = (v["package"]["name"], v["id"])
        seen.add(key)
        if key in NO_GHSA:
            assert v["severity"] == "UNKNOWN" and not any(a.startswith("GHSA-") for a in v["advisory_ids"]), v
            continue
        ghsa, severity, vector = GHSA[key]
        assert (v["severity"], v["cvss"]["vector"]) == (severity, vector), key
        # the PyPA and GitHub records of one CVE are one finding that names both
        assert ghsa in v["advisory_ids"] and any(a.startswith("PYSEC-") for a in v["advisory_ids"]), v["advisory_ids"]
    assert seen == set(GHSA) | NO_GHSA


def test_one_finding_per_vulnerability_and_package(vulns):
    keys = [(v["package"]["id"], v["id"]) for v in vulns]
    assert len(keys) == len(set(keys))


def test_the_first_screen_leads_with_the_critical_findings(demo_db):
    r = run("image", str(IMAGE), "--db", demo_db, "-q", "--no-cache", "--format", "table")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if "CVE-" in line]
    assert rows and "CRITICAL" in rows[0], rows[:3]
    assert not any("UNKNOWN" in row for row in rows[:20]), rows[:20]
