"""Helpers shared by the Python/Node/Java language-package tests (trivy goldens, in-memory trees)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.model.inventory import Inventory
from testsupport import REPO, read_tree, require_tool  # noqa: F401  (read_tree, require_tool re-exported)

# Per-format fixtures (the data pack's fixtures/lockfiles layout; PROVENANCE.md there).
LOCKS = Path(__file__).resolve().parent / "testdata"
# trivy's integration cases and goldens: kept once, by the match tests (their PROVENANCE.md).
TRIVY = REPO / "tests/match/testdata/trivy-integration"


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def golden_packages(golden: str, target: str, normalize=lambda n: n) -> set[tuple[str, str, bool, bool]]:
    """(name, version, dev, indirect) of the packages trivy's golden lists for one target."""
    doc = json.loads((TRIVY / "goldens" / golden).read_text())
    for result in doc.get("Results", []):
        if result["Target"] == target:
            return {
                (normalize(p["Name"]), p["Version"], bool(p.get("Dev")), bool(p.get("Indirect")))
                for p in result.get("Packages", [])
            }
    raise AssertionError(f"{target} not in {golden}")


def scan_dir(root: Path, prefix: str = "/app") -> Inventory:
    return analyze_files(all_analyzers(), [read_tree(root, prefix)])


def declared(inv: Inventory, path: str, include_dev: bool) -> set[tuple[str, str, bool, bool]]:
    return {
        (p.name, p.version, p.dev, p.indirect)
        for p in inv.packages
        if p.kind == "declared" and p.paths[0] == path and (include_dev or not p.dev)
    }
