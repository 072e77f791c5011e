"""Helpers shared by the Python/Node/Java language-package tests (trivy goldens, in-memory trees)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.model import Inventory
from hullscan.inventory.registry import all_analyzers

def _root_conftest():  # type: ignore[no-untyped-def]
    """tests/conftest.py by path: `from conftest import …` may resolve to another directory's
    conftest (tests/image/conftest.py) when the whole suite runs."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_hullscan_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _root_conftest()
read_tree = _ROOT.read_tree
require_tool = _ROOT.require_tool

TRIVY = Path("fixtures/lockfiles/trivy-integration")


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def golden_packages(shared: Path, golden: str, target: str, normalize=lambda n: n) -> set[tuple[str, str, bool, bool]]:
    """(name, version, dev, indirect) of the packages trivy's golden lists for one target."""
    doc = json.loads((shared / TRIVY / "goldens" / golden).read_text())
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
