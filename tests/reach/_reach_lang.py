"""Shared by test_python.py and test_node.py: a real tree (pip --target / npm install, cached) plus an
application written by the test, walked as one layer, and the import levels run on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from hullscan.inventory.applier import apply_layers
from hullscan.inventory.node_imports import NodeImportsAnalyzer
from hullscan.inventory.node_package import NodePackageAnalyzer
from hullscan.inventory.python_dist import PythonDistAnalyzer
from hullscan.inventory.python_imports import PythonImportsAnalyzer
from hullscan.inventory.symlinks import SymlinkAnalyzer
from hullscan.model.findings import Reachability
from hullscan.model.image import ImageConfig
from hullscan.reach import node, python
from hullscan.reach.assess import context
from hullscan.walk.walker import walk_rootfs
from testsupport import cached_build, require_tool

ANALYZERS = (PythonDistAnalyzer(), PythonImportsAnalyzer(), NodePackageAnalyzer(), NodeImportsAnalyzer(),
             SymlinkAnalyzer())


SITE = "usr/local/lib/python3.11/site-packages"
PINS = ("idna==3.7", "certifi==2024.2.2", "attrs==23.2.0", "iniconfig==2.0.0")
NPM_DEPS = {"ms": "2.1.3", "escape-html": "1.0.3", "is-number": "7.0.0", "semver": "7.6.0"}


def python_site() -> Path:
    """PINS installed with `pip install --target SITE` (wheels from PyPI), built once into the test cache."""
    def make(tmp: Path) -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--target", str(tmp / SITE), *PINS],
                       check=True, timeout=600)
    return cached_build("reach-python-v1", make)


def npm_tree(name: str = "reach-node-v1", deps: dict[str, str] | None = None) -> Path:
    """`npm install` of `deps` (default NPM_DEPS) in /app of a cached tree."""
    require_tool("npm")

    def make(tmp: Path) -> None:
        app = tmp / "app"
        app.mkdir(parents=True)
        (app / "package.json").write_text(json.dumps({"name": "reach-test", "version": "1.0.0",
                                                      "dependencies": deps or NPM_DEPS}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                       cwd=app, check=True, timeout=600, capture_output=True)
    return cached_build(name, make)


def image_root(tmp: Path, cached: Path, app: dict[str, str], executables: tuple[str, ...] = ()) -> Path:
    """`cached` copied under tmp/root with the application files written over it."""
    root = tmp / "root"
    shutil.copytree(cached, root, symlinks=True, ignore=shutil.ignore_patterns(".hullscan-complete"))
    for rel, text in app.items():
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel in executables:
            path.chmod(0o755)
    return root


def levels(root: Path, argv: tuple[str, ...], workdir: str = "/app", env: tuple[str, ...] = (),
           ) -> dict[str, Reachability]:
    """package name → its reachability from `argv` (the config's Cmd)."""
    facts, warnings = walk_rootfs(str(root), ANALYZERS)
    inv = apply_layers(ANALYZERS, [facts])
    config = ImageConfig(raw={}, cmd=argv, working_dir=workdir, env=("PATH=/usr/local/bin:/usr/bin:/bin", *env))
    ctx = context(config, inv.facts, inv.packages, [])
    found = {**python.assess(ctx), **node.assess(ctx)}
    return {p.name: found[p.id] for p in inv.packages if p.id in found}
