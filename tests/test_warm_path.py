"""The warm path (docs/warm-path.md): the hullscan modules a warm scan loads are exactly WARM_PATH, and the
doc's table names exactly these. Only they keep the start-up rules (records, no `typing`, cold imports inside
functions), so a module that joins or leaves the path changes this list, the doc and its own style together."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "image"))

from builders import docker_archive, f, layer, oci_image  # noqa: E402
from imagehelp import REPO, example_db, modules_loaded, run_cli  # noqa: E402

SRC = REPO / "src"

WARM_PATH = frozenset({
    "hullscan", "hullscan.errors", "hullscan.record", "hullscan.digests", "hullscan.fsio",
    "hullscan.cli", "hullscan.cli.main", "hullscan.cli.scan", "hullscan.cli.options",
    "hullscan.model", "hullscan.model.image", "hullscan.model.inventory", "hullscan.model.findings",
    "hullscan.model.verdict", "hullscan.model.report", "hullscan.model.text",
    "hullscan.image", "hullscan.image.target", "hullscan.image.model", "hullscan.image.archive",
    "hullscan.image.oci_layout", "hullscan.image.manifest", "hullscan.image.blobs", "hullscan.image.tarstream",
    "hullscan.image.docker_archive",
    "hullscan.cache", "hullscan.cache.store", "hullscan.cache.blobs", "hullscan.cache.codec", "hullscan.cache.results",
    "hullscan.scan", "hullscan.scan.options", "hullscan.scan.service", "hullscan.scan.wiring",
    "hullscan.scan.result_cache", "hullscan.vulndb", "hullscan.vulndb.location", "hullscan.state",
    "hullscan.state.location", "hullscan.match",
    "hullscan.match.options",
    "hullscan.policy", "hullscan.policy.model", "hullscan.policy.load", "hullscan.policy.gate", "hullscan.policy.risk",
    "hullscan.report", "hullscan.report.formats", "hullscan.report.filters", "hullscan.report.json_report",
    "hullscan.report.table", "hullscan.report.boxes", "hullscan.userfile", "hullscan.schemas",
})
POLICY_ONLY = frozenset({"hullscan.userfile", "hullscan.schemas"})
"""What a policy file adds (read strictly; its schema check remembered, so jsonschema stays out)."""
TABLE_ONLY = frozenset({"hullscan.report.table", "hullscan.report.boxes"})
"""What printing a table adds; a JSON report loads the rest of WARM_PATH (report.json_report too with a
table: the scan stores its rendering of the packages beside the result it caches)."""
DOCKER_ONLY = frozenset({"hullscan.image.docker_archive"})
"""What a classic `docker save` archive adds: OCI layouts and archives (Docker >= 25 saves one) need no more."""

_APK = "".join(f"P:{name}\nV:{version}\nA:x86_64\nL:{lic}\no:{name}\n\n" for name, version, lic in (
    ("musl", "1.1.22-r2", "MIT"), ("busybox", "1.30.1-r2", "GPL-2.0-only"), ("zlib", "1.2.11-r1", "Zlib")))
_DJANGO = "Metadata-Version: 2.1\nName: Django\nVersion: 2.2\nLicense: BSD-3-Clause\n"


def _image(kind: str, tmp: Path) -> Path:
    """Alpine 3.10 with apk packages and Django: findings from both the Alpine and the PyPI feed."""
    layers = [
        layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.10.9\n"), f("lib/apk/db/installed", _APK)],
              created_by="ADD alpine-minirootfs-3.10.9-x86_64.tar.gz /"),
        layer([f("usr/lib/python3.7/site-packages/Django-2.2.dist-info/METADATA", _DJANGO)],
              created_by="RUN pip install django==2.2"),
    ]
    return oci_image(tmp / "oci", layers) if kind == "oci" else docker_archive(tmp / "image.tar", layers)


def _hullscan(names: set[str]) -> set[str]:
    return {m for m in names if m == "hullscan" or m.startswith("hullscan.")}


@pytest.mark.parametrize("kind", ["oci", "docker"])
def test_a_warm_scan_loads_exactly_the_warm_path(tmp_path, kind):
    image = _image(kind, tmp_path)
    db = example_db(tmp_path / "vuln.db")
    cache = tmp_path / "cache"
    args = ("image", str(image), "--quiet", "--db", str(db), "--cache-dir", str(cache))
    cold = run_cli(*args, "--format", "json")
    assert cold.code == 0 and not cold.report["stats"].get("result_cached"), cold.stderr
    assert {v["package"]["ecosystem"] for v in cold.report["vulnerabilities"]} == {"Alpine:v3.10", "PyPI"}, "a result to cache"
    path = WARM_PATH if kind == "docker" else WARM_PATH - DOCKER_ONLY
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nsettings:\n  warn_expiring_within_days: 7\n")  # checked, never fails
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}  # where a policy that passed its schema is remembered
    assert run_cli(*args, "--format", "json", "--policy", str(policy), env=env).code == 0
    for fmt, extra, expected in (("json", (), path - TABLE_ONLY - POLICY_ONLY), ("table", (), path - POLICY_ONLY),
                                 ("json", ("--policy", str(policy)), path - TABLE_ONLY)):
        out = tmp_path / f"report.{fmt}"
        every = modules_loaded(*args, "--format", fmt, "--output", str(out), *extra, env=env)
        loaded = _hullscan(every)
        assert "hullscan.walk.walker" not in loaded, f"{fmt}: not a warm scan (a layer was walked)"
        assert loaded == expected, (fmt, "joined:", sorted(loaded - expected), "left:", sorted(expected - loaded))
        assert "jsonschema" not in every, "a policy that passed its schema is not checked again"
    assert '"result_cached": true' in (tmp_path / "report.json").read_text()


def _module(name: str) -> str | None:
    """`cli.main` or `hullscan.cli.main` -> `hullscan.cli.main` when it names a module of src/hullscan (a
    package's name stands for its __init__.py); None for any other word."""
    full = name if name == "hullscan" or name.startswith("hullscan.") else f"hullscan.{name}"
    path = SRC.joinpath(*full.split("."))
    return full if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() else None


def test_the_doc_table_names_exactly_the_warm_path():
    rows = [line for line in (REPO / "docs" / "warm-path.md").read_text().splitlines() if line.startswith("|")]
    assert len(rows) > 2, "docs/warm-path.md has its table of modules"
    named = {m for row in rows for word in re.findall(r"`([\w.]+)`", row) if (m := _module(word)) is not None}
    assert sorted(WARM_PATH - named) == [], "on the warm path, missing from the doc's table"
    assert sorted(named - WARM_PATH) == [], "in the doc's table, not on the warm path"


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_only_the_warm_path_does_without_typing():
    """The start-up rules hold where a warm scan goes and only there: a module on the path imports no
    `typing` at run time (`TYPE_CHECKING = False` stands in for typing's); one off it has no reason to."""
    wrong = []
    for path in sorted((SRC / "hullscan").rglob("*.py")):
        module, top = _module_of(path), ast.parse(path.read_text()).body
        typing = any(isinstance(n, ast.Import) and any(a.name == "typing" for a in n.names)
                     or isinstance(n, ast.ImportFrom) and n.module == "typing" for n in top)
        fake = any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TYPE_CHECKING" for t in n.targets)
                   for n in top)
        if module in WARM_PATH and typing:
            wrong.append(f"{module}: on the warm path, imports typing")
        if module not in WARM_PATH and fake:
            wrong.append(f"{module}: off the warm path, fakes TYPE_CHECKING (use typing's)")
    assert wrong == []
