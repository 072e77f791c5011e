"""The image and DB of the import-level end-to-end tests (test_import_cli.py, test_reach_reports.py): built
with tests/image/builders.py from the cached trees of _reach_lang.py — the four PyPI wheels, the npm app —
plus minimist 1.2.5 (`npm install`, cached) and the application below; the DB is `hullscan db import` of
two real GitHub advisories (testdata/PROVENANCE.md):

- GHSA-248v-346w-9cwc (CVE-2024-39689): certifi >= 2021.05.30, < 2024.07.04 → certifi 2024.2.2 is affected;
- GHSA-xvch-5gv4-984h (CVE-2021-44906): minimist >= 1.0.0, < 1.2.6 → minimist 1.2.5 is affected.

Only the config's Cmd differs between the images scanned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _reach_lang import npm_tree, python_site

from testsupport import REPO

sys.path.insert(0, str(REPO / "tests" / "image"))
from builders import E, Layer, config_doc, d, docker_archive, f, layer, sym  # noqa: E402

TESTDATA = Path(__file__).parent / "testdata"
RECORDS = (TESTDATA / "GHSA-248v-346w-9cwc.json", TESTDATA / "GHSA-xvch-5gv4-984h.json")
APP = {
    "/app/main.py": "import idna\nfrom attr import define\n\n\ndef main():\n    return idna.encode('a.example'), define\n",
    "/app/mypkg/__init__.py": "from .core import run\n",
    "/app/mypkg/core.py": "from certifi import where\n\n\ndef run():\n    return where()\n",
    "/app/mypkg/__main__.py": "from . import core\ncore.run()\n",
    "/app/main.js": "const ms = require('ms');\nconst semver = require('semver');\nconsole.log(ms('2h'), semver.valid('1.2.3'));\n",
    "/app/cli.js": "const argv = require('minimist')(process.argv.slice(2));\nconsole.log(argv);\n",
}
CLI = [str(REPO / ".venv" / "bin" / "python"), "-m", "hullscan"]
FLAG = "--import-reachability"


def _entries(root: Path, only: str = "") -> list[E]:
    """The tree under `root` (or its `only` subdirectory) as tar members named from the image root."""
    out: list[E] = []
    for path in sorted((root / only).rglob("*")):
        name = "/" + path.relative_to(root).as_posix()
        if path.name == ".hullscan-complete":
            continue
        if path.is_symlink():
            out.append(sym(name, os.readlink(path)))
        elif path.is_dir():
            out.append(d(name))
        else:
            out.append(f(name, path.read_bytes(), mode=path.stat().st_mode & 0o777))
    return out


def image_layers() -> list[Layer]:
    site, node = python_site(), npm_tree()
    minimist = npm_tree("reach-minimist-v1", {"minimist": "1.2.5"})
    app = [f(name, text) for name, text in APP.items()]
    return [layer(_entries(site), created_by="pip install --target /usr/local/lib/python3.11/site-packages …"),
            layer([*_entries(node), *_entries(minimist, "app/node_modules/minimist")], created_by="npm install"),
            layer(app, created_by="COPY . /app")]


def import_db(out: Path) -> Path:
    subprocess.run([*CLI, "db", "import", "--db", str(out), *map(str, RECORDS)], check=True, capture_output=True)
    return out


def scan(tmp: Path, layers: list[Layer], db: Path, cmd: list[str], *extra: str) -> dict[str, Any]:
    """The CLI's JSON report of the image whose Cmd is `cmd` (`extra`: more options)."""
    inner = {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": cmd, "WorkingDir": "/app"}
    name = "-".join(cmd).replace("/", "_")
    image = tmp / f"{name}.tar"
    if not image.exists():
        docker_archive(image, layers, config=config_doc(layers, config=inner))
    out = tmp / f"{name}{''.join(extra)}.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"), "XDG_DATA_HOME": str(tmp / "data")}
    subprocess.run([*CLI, "image", f"docker-archive:{image}", "--db", str(db), "-f", "json", "-o", str(out), *extra],
                   check=True, capture_output=True, env=env, timeout=600)
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def levels(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """package name → the `reachability` of its finding."""
    return {v["package"]["name"]: v["reachability"] for v in report["vulnerabilities"]}
