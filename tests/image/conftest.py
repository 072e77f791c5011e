"""Fixtures for the image tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from imagehelp import Recorder


@pytest.fixture
def recorder_scan(monkeypatch, tmp_path):
    """scan_target(target) with the OS analyzer plus the Recorder; returns the ScanResult."""
    import hullscan.inventory.registry as registry_mod  # scan.py imports it when a scan starts
    import hullscan.scan.service as scan_mod
    from hullscan.inventory.os_release import OSReleaseAnalyzer

    monkeypatch.setattr(registry_mod, "analyzers_for", lambda scanners: [OSReleaseAnalyzer(), Recorder()])

    def run(target: str | Path, cache: Path | None = None, **opts: Any):
        opts.setdefault("scanners", frozenset({"license"}))  # no vulnerability DB needed
        options = scan_mod.ScanOptions(cache_dir=cache or tmp_path / "cache", use_cache=cache is not None, **opts)
        return scan_mod.scan_target(str(target), options)

    return run


