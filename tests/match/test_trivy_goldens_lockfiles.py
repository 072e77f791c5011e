"""trivy's integration lockfile cases (`testdata/trivy-integration/CASES.tsv` + goldens) through OUR
analyzers (`analyze_files` with `all_analyzers()`) and matcher, against trivy's test DB converted by
tests/match/trivy_db.py (the goldens were computed against exactly that data).

Compared per golden target (the lockfile trivy names): ids, packages, installed and fixed versions,
statuses, severities. Where trivy's fixed version is not one version, ours is the nearest fix above
the installed one (docs/matching.md "Differences from trivy"): it must be one of trivy's listed
versions, or the lower bound of one of its `>=` constraints.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.match.loop import match_inventory

sys.path.insert(0, str(Path(__file__).parent))
from trivy_db import trivy_reader  # noqa: E402

TESTDATA = Path(__file__).resolve().parent / "testdata"
TRIVY = TESTDATA / "trivy-integration"
# Cases whose options change what trivy reports in ways that are not matching: file/dir skips
# (scan options), VEX (the policy stage's job), severity-source preference, SBOM output formats.
OPTION_CASES = ("skip", "VEX", "severity from", "CycloneDX", "SPDX")
# Ecosystems none of our analyzers reads yet (inventory issues): the case is expected to fail
NO_ANALYZER = {
    "sbt": "sbt lock files (build.sbt.lock)", "conan": "Conan conan.lock", "swift": "SwiftPM Package.resolved",
    "cocoapods": "CocoaPods Podfile.lock", "pubspec.lock": "Dart pubspec.lock", "mix.lock": "Elixir mix.lock",
}
# trivy's `composer-vendor` fixture is the content of a project's vendor/composer/ directory (its scan
# accepts a bare installed.json); in an image the file lives there, which is where our analyzer looks
PLACED_UNDER = {"installed.json": "vendor/composer/"}


def _cases() -> list[tuple[str, str, str]]:
    path = TRIVY / "CASES.tsv"  # in the repository: a missing file is an error, not zero cases
    out = []
    for row in csv.DictReader(path.open(), delimiter="\t"):
        if "VulnerabilityScanner" not in row["options"] or any(x in row["case_name"] + row["options"]
                                                               for x in OPTION_CASES):
            continue
        src = row["input_dir"].replace("testdata/", "")
        if row["input_dir"].startswith("https://"):
            src = "fixtures/repo/" + row["input_dir"].rstrip("/").rsplit("/", 1)[1]
        out.append((row["case_name"], src, row["golden"]))
    return out


@pytest.fixture(scope="module")
def trivy_db():
    return trivy_reader(TESTDATA / "trivy-db-fixtures")


def _fixed_agrees(ours: str, theirs: str | None, ecosystem: str) -> bool:
    if theirs is None:
        return ours == ""
    if ecosystem == "Go":  # OSV's Go versions carry no `v`; trivy echoes the GHSA text
        theirs = theirs.removeprefix("v")
    if ours == theirs:
        return True
    if re.search(r"[<>=]", theirs):  # a constraint (cargo): ours is one of its `>=` bounds
        return ours in re.findall(r">=\s*v?([^\s,]+)", theirs)
    return ours in [x.strip() for x in theirs.split(",")]  # several fixes listed: ours is one


@pytest.mark.parametrize("case,src,golden", _cases(), ids=[c[0] for c in _cases()])
def test_lockfile_case_reproduces_trivy_golden(trivy_db, case, src, golden, request):
    if case in NO_ANALYZER:
        request.applymarker(pytest.mark.xfail(reason=f"no analyzer for {NO_ANALYZER[case]} yet", strict=False))
    root = TRIVY / src
    prefix = "/src/" + PLACED_UNDER.get(case, "")
    files = {prefix + p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    inv = analyze_files(all_analyzers(), [files])
    found = match_inventory(inv, trivy_db).findings
    doc = json.loads((TRIVY / "goldens" / golden).read_text())
    targets = {r["Target"] for r in doc.get("Results") or []}
    expected = {(r["Target"], v["VulnerabilityID"], v["PkgName"]): v
                for r in doc.get("Results") or [] for v in r.get("Vulnerabilities") or []}
    got = {}
    for f in found:
        # only findings from the lockfiles trivy reports on: our image-mode analyzers also read the
        # installed copies (node_modules/*/package.json), which trivy's fs/repo scan skips; one finding
        # of a package found in both places lists both among its locations
        for loc in f.where:
            path = loc.path.removeprefix(prefix)
            if path in targets:
                key = (path, f.id, f.package.name)
                assert key not in got, f"two findings for {key}"
                got[key] = f
    # PyPI names are PEP 503 normalized in our report (trivy echoes requirements.txt's `Werkzeug`)
    want_by_key = {(t, i, n.lower()): v for (t, i, n), v in expected.items()}
    assert {(t, i, n.lower()) for t, i, n in got} == set(want_by_key)
    for (t, i, n), f in got.items():
        want = want_by_key[(t, i, n.lower())]
        assert f.package.version == want["InstalledVersion"]
        assert f.status == want["Status"]
        assert f.severity == want["Severity"]
        assert _fixed_agrees(f.fixed_version, want.get("FixedVersion"), f.package.ecosystem), (
            f.fixed_version, want.get("FixedVersion"))
