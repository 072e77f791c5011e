"""Fixtures for the image tests."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from imagehelp import Recorder


@pytest.fixture
def recorder_scan(tmp_path):
    """Walk a target with the OS analyzer plus the Recorder (through the per-layer cache when `cache` is
    given) and apply its layers: `.inventory` holds the Recorder's facts, the OS and the warnings; `.image`
    the opened image (closed), `.stats` the walked/cached layer counts."""
    from hullscan.cache.store import open_cache
    from hullscan.image.target import SourceOptions, open_image
    from hullscan.inventory.applier import apply_layers
    from hullscan.inventory.os_release import OSReleaseAnalyzer
    from hullscan.walk.layers import collect_facts

    def run(target: str | Path, cache: Path | None = None, **_opts: Any) -> SimpleNamespace:
        analyzers = [OSReleaseAnalyzer(), Recorder()]
        image = open_image(str(target), SourceOptions())
        layer_cache = open_cache(cache, print) if cache is not None else None
        try:
            facts, counts = collect_facts(image, analyzers, layer_cache)
            return SimpleNamespace(inventory=apply_layers(analyzers, facts), image=image, stats=counts)
        finally:
            image.close()
            if layer_cache is not None:
                layer_cache.close()

    return run
