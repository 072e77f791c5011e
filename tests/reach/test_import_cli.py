"""`hullscan image … --import-reachability` end to end, on the image and DB of _reach_image.py.

Expected levels, by the application's text:
- `python3 main.py`: main.py imports idna and attr, never certifi → certifi `not_imported`;
- `python -m mypkg`: mypkg/__init__.py imports .core, core.py imports certifi → `reachable`;
- `node main.js`: requires ms and semver (semver 7.6 → lru-cache → yallist), not minimist → `not_imported`;
- `node cli.js`: requires minimist → `reachable`;
and a program of the other language leaves the package `unknown`; without the flag both stay `unknown`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _reach_image import FLAG, Layer, image_layers, import_db, levels, scan


@pytest.fixture(scope="module")
def layers() -> list[Layer]:
    return image_layers()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_db(tmp_path_factory.mktemp("db") / "db.sqlite")


def test_python_levels_follow_the_imports(tmp_path: Path, layers: list[Layer], db: Path) -> None:
    got = levels(scan(tmp_path, layers, db, ["python3", "main.py"], FLAG))
    assert got["certifi"]["level"] == "not_imported" and got["certifi"]["method"] == "python-imports"
    assert got["minimist"] == {"level": "unknown", "method": "node-imports",
                               "evidence": ["the entrypoint is not a Node program"]}
    got = levels(scan(tmp_path, layers, db, ["python", "-m", "mypkg"], FLAG))
    assert got["certifi"] == {"level": "reachable", "method": "python-imports",
                              "evidence": ["python -m mypkg", "mypkg", "mypkg.core", "certifi"]}


def test_node_levels_follow_the_requires(tmp_path: Path, layers: list[Layer], db: Path) -> None:
    got = levels(scan(tmp_path, layers, db, ["node", "main.js"], FLAG))
    assert got["minimist"]["level"] == "not_imported" and got["minimist"]["method"] == "node-imports"
    assert got["certifi"]["level"] == "unknown"
    got = levels(scan(tmp_path, layers, db, ["node", "cli.js"], FLAG))
    assert got["minimist"] == {"level": "reachable", "method": "node-imports",
                               "evidence": ["/app/cli.js", "/app/node_modules/minimist"]}


def test_without_the_flag_nothing_is_read_and_the_cached_result_is_not_reused(tmp_path: Path, layers: list[Layer],
                                                                              db: Path) -> None:
    # the same cache directory for both scans: the flag is in the result-cache key
    got = levels(scan(tmp_path, layers, db, ["node", "cli.js"]))
    assert got["minimist"] == {"level": "unknown", "method": "node-imports", "evidence": [
        "JavaScript imports were not read in this scan (docs/reachability.md: opt-in)"]}
    assert got["certifi"]["evidence"] == ["Python imports were not read in this scan (docs/reachability.md: opt-in)"]
    assert levels(scan(tmp_path, layers, db, ["node", "cli.js"], FLAG))["minimist"]["level"] == "reachable"
    assert levels(scan(tmp_path, layers, db, ["node", "cli.js"]))["minimist"]["level"] == "unknown"
