"""PHP: composer.lock and vendor/composer/installed.json against trivy's goldens and the fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.php import ComposerAnalyzer
from testsupport import REPO, read_tree

LOCKS = Path(__file__).resolve().parent / "testdata"  # per-format fixtures (PROVENANCE.md there)
TRIVY = REPO / "tests/match/testdata/trivy-integration"  # kept by the match tests


def golden(name: str) -> dict[tuple[str, str], dict]:
    doc = json.loads((TRIVY / "goldens" / name).read_text())
    return {(p["Name"], p["Version"]): p for r in doc["Results"] for p in r.get("Packages") or []}


def test_trivy_composer_lock_golden():
    inv = analyze_files([ComposerAnalyzer()], [read_tree(TRIVY / "fixtures/repo/composer", "/app")])
    assert not inv.warnings
    want = golden("composer.lock.json.golden")
    assert {(p.name, p.version) for p in inv.packages} == set(want)
    for p in inv.packages:
        g = want[(p.name, p.version)]
        assert p.purl == g["Identifier"]["PURL"] and list(p.licenses) == g["Licenses"]
        assert ("indirect" if p.indirect else "direct") == g["Relationship"]
        assert p.kind == "declared" and p.ecosystem == "Packagist"


def test_trivy_installed_json_golden():
    tree = {"/var/www/vendor/composer/installed.json":
            (TRIVY / "fixtures/repo/composer-vendor/installed.json").read_bytes()}
    inv = analyze_files([ComposerAnalyzer()], [tree])
    assert not inv.warnings
    want = golden("composer.vendor.json.golden")
    assert {(p.name, p.version, p.purl, p.licenses) for p in inv.packages} == {
        (n, v, g["Identifier"]["PURL"], tuple(g["Licenses"])) for (n, v), g in want.items()}
    assert all(p.kind == "installed" for p in inv.packages)


@pytest.mark.parametrize("rel", ["php/composer-lock/syft/composer.lock", "php/composer-lock/trivy-parser/composer_happy.lock"])
def test_composer_lock_fixtures(rel):
    data = (LOCKS / rel).read_bytes()
    inv = analyze_files([ComposerAnalyzer()], [{"/p/composer.lock": data}])
    assert not inv.warnings
    doc = json.loads(data)
    assert sorted((p.name, p.version, p.dev) for p in inv.packages) == sorted(
        [(x["name"], x["version"], False) for x in doc["packages"]] + [(x["name"], x["version"], True) for x in doc["packages-dev"]])


@pytest.mark.parametrize("version", ["composer_1", "composer_2"])
def test_installed_json_v1_and_v2(version):
    data = (LOCKS / "php/installed-json/syft" / version / "installed.json").read_bytes()
    inv = analyze_files([ComposerAnalyzer()], [{"/srv/vendor/composer/installed.json": data}])
    assert not inv.warnings
    # hand-checked: both files list asm89/stack-cors 1.3.0 and behat/mink v1.8.1; v2 names behat/mink as dev
    got = {(p.name, p.version, p.purl, p.dev) for p in inv.packages}
    assert got == {("asm89/stack-cors", "1.3.0", "pkg:composer/asm89/stack-cors@1.3.0", False),
                   ("behat/mink", "v1.8.1", "pkg:composer/behat/mink@v1.8.1", version == "composer_2")}


def test_malformed_composer_files_warn_and_go_on():
    good = (LOCKS / "php/composer-lock/syft/composer.lock").read_bytes()
    inv = analyze_files([ComposerAnalyzer()], [{"/a/composer.lock": b"{\"packages\": [", "/b/composer.lock": good,
                                                "/c/vendor/composer/installed.json": b"42"}])
    assert {w.path for w in inv.warnings} == {"/a/composer.lock", "/c/vendor/composer/installed.json"}
    assert len(inv.packages) == 4 and all(p.paths == ("/b/composer.lock",) for p in inv.packages)
    assert not ComposerAnalyzer().rule_for("/b/vendor/monolog/monolog/composer.json", 100, 0o644)
