"""No secret of the image config is echoed: a real docker-archive whose config holds a GitHub token in
Env, Entrypoint, Cmd, Labels, User, WorkingDir and history (created_by and comment), a password found
only with its label key in front, and a secret-named build argument, scanned by the `hullscan image` CLI
in every format, cold and warm (served from the result cache). The token appears in no output and in no
row of the cache file; a finding names each field; the echoed config shows the masked forms.

The token is Trivy's own test value for the `github-pat` rule (`ghp_` + 36 alphanumerics, the rule's
regex), read from tests/secrets/testdata/trivy-scanner/builtin-rule-secret.txt (PROVENANCE.md there).
The expected masked forms are written out by hand from docs/secrets.md's masking rule: a secret of 16+
characters keeps its first 4, every other character becomes `*`; a shorter one is starred whole.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TOKEN = (HERE / "testdata/trivy-scanner/builtin-rule-secret.txt").read_text().splitlines()[0].split("=", 1)[1]
MASKED = "ghp_" + "*" * 36
PASSWORD = "Zq8#kLm2Rt9!"  # fabricated; a secret only as the value of a key named like one
BUILD_ARG = "plainvalue123"  # no rule matches it: a secret by its argument's name alone
LEAKS = (TOKEN[4:], PASSWORD, "kLm2Rt9", BUILD_ARG)

FORMATS = ["table", "json", "cyclonedx", "cyclonedx-xml", "spdx-json", "spdx", "sarif", "junit", "html", "openvex"]


def _builders() -> Any:
    """tests/image/builders.py by path, under its own module name (no sys.path change)."""
    path = HERE.parent / "image" / "builders.py"
    spec = importlib.util.spec_from_file_location("hullscan_test_image_builders", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


B = _builders()

CONFIG = {
    "Env": ["PATH=/usr/bin:/bin", f"GITHUB_PAT={TOKEN}"],
    "Entrypoint": ["/bin/app", "--token", TOKEN],
    "Cmd": ["serve", f"--auth={TOKEN}"],
    "Labels": {"org.acme.team": "core", "DB_PASSWORD": PASSWORD, "org.acme.gh": TOKEN},
    "User": TOKEN,
    "WorkingDir": f"/srv/{TOKEN}",
}
HISTORY = [
    {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created_by": f"LABEL org.acme.gh={TOKEN}", "empty_layer": True, "comment": f"token {TOKEN}"},
    {"created_by": f"RUN |1 NPM_TOKEN={BUILD_ARG} /bin/sh -c echo {TOKEN} # buildkit"},
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = [B.layer([B.f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n')], compression=""),
              B.layer([B.f("srv/app.txt", "app\n")], compression="")]
    doc = B.config_doc(layers, config=CONFIG, history=HISTORY)
    return B.docker_archive(tmp_path_factory.mktemp("img") / "config-secrets.tar", layers, config=doc)


@pytest.fixture(scope="module")
def cache_dir(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache filled by one cold scan: per-layer facts and the whole result."""
    cache = tmp_path_factory.mktemp("cache")
    p = _hullscan(archive, "json", "--cache-dir", str(cache))
    assert json.loads(p.stdout)["stats"].get("result_cached") is not True
    return cache


def _hullscan(archive: Path, fmt: str, *extra: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([sys.executable, "-m", "hullscan", "image", f"docker-archive:{archive}", "--scanners",
                        "secret,config", "--format", fmt, "--quiet", *extra],
                       capture_output=True, text=True, timeout=300, cwd=archive.parent)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return p


def _leaks(text: str) -> list[str]:
    return [s for s in LEAKS if s in text]


def test_every_format_lists_every_writer() -> None:
    """A new format joins FORMATS below (or this fails): each is checked for leaks."""
    from hullscan.report.formats import WRITERS

    assert sorted(WRITERS) == sorted(FORMATS)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_echoes_a_config_secret(archive: Path, cache_dir: Path, fmt: str, warm: bool) -> None:
    p = _hullscan(archive, fmt, *(["--cache-dir", str(cache_dir)] if warm else ["--no-cache"]))
    assert len(p.stdout) > 200
    assert _leaks(p.stdout + p.stderr) == []
    if fmt == "json":
        assert json.loads(p.stdout)["stats"].get("result_cached") is (True if warm else None)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_the_echoed_config_is_masked_and_every_field_has_a_finding(archive: Path, cache_dir: Path, warm: bool) -> None:
    report = json.loads(_hullscan(archive, "json", *(["--cache-dir", str(cache_dir)] if warm else ["--no-cache"])).stdout)
    config = report["config"]
    assert config["env"] == ["PATH=/usr/bin:/bin", f"GITHUB_PAT={MASKED}"]
    assert config["entrypoint"] == ["/bin/app", "--token", MASKED]
    assert config["cmd"] == ["serve", f"--auth={MASKED}"]
    assert config["labels"] == {"org.acme.team": "core", "DB_PASSWORD": "*" * len(PASSWORD), "org.acme.gh": MASKED}
    assert (config["user"], config["working_dir"]) == (MASKED, f"/srv/{MASKED}")
    run_masked = f"RUN |1 NPM_TOKEN={'*' * len(BUILD_ARG)} /bin/sh -c echo {MASKED} # buildkit"
    assert [h["created_by"] for h in config["history"]] == [HISTORY[0]["created_by"], f"LABEL org.acme.gh={MASKED}", run_masked]
    assert config["history"][1]["comment"] == f"token {MASKED}"
    assert [layer["created_by"] for layer in report["layers"]] == [HISTORY[0]["created_by"], run_masked]
    assert {p["layer"]["created_by"] for p in report["packages"] if p.get("layer")} <= {HISTORY[0]["created_by"], run_masked}

    got = {(s["path"], s["rule_id"], s["line"]["start"], s["source"]) for s in report["secrets"]}
    assert got >= {
        ("config:Env", "github-pat", 2, "env"),
        ("config:Entrypoint", "github-pat", 3, "entrypoint"),
        ("config:Cmd", "github-pat", 2, "cmd"),
        ("config:Labels", "generic-password-config", 1, "label"),  # sorted: DB_PASSWORD, org.acme.gh, org.acme.team
        ("config:Labels", "github-pat", 2, "label"),
        ("config:User", "github-pat", 1, "config"),
        ("config:WorkingDir", "github-pat", 1, "config"),
        ("config:history[1]", "github-pat", 1, "history"),
        ("config:history[1].comment", "github-pat", 1, "history"),
        ("config:history[2]", "github-pat", 1, "history"),
    }
    matches = {(s["path"], s["rule_id"]): s["match"] for s in report["secrets"]}
    assert matches[("config:Entrypoint", "github-pat")] == MASKED
    assert matches[("config:Cmd", "github-pat")] == f"--auth={MASKED}"
    assert matches[("config:Labels", "generic-password-config")] == "DB_PASSWORD=" + "*" * len(PASSWORD)
    misconfig = {(m["path"], m["rule_id"]): m["match"] for m in report["misconfigurations"]}
    assert misconfig == {("config:history[2]", "config-secret-build-arg"): run_masked}  # USER is set: not root


def test_the_config_is_masked_when_the_secret_scanner_does_not_run(archive: Path) -> None:
    """The report echoes the config whatever the scanners: masked all the same, no finding reported."""
    p = subprocess.run([sys.executable, "-m", "hullscan", "image", f"docker-archive:{archive}", "--scanners", "license",
                        "--format", "json", "--no-cache", "--quiet"], capture_output=True, text=True, timeout=300,
                       cwd=archive.parent)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["config"]["entrypoint"] == ["/bin/app", "--token", MASKED]
    assert (report["secrets"], report["misconfigurations"], _leaks(p.stdout)) == ([], [], [])


def _expand(value: Any) -> Iterator[bytes]:
    """Every byte string a cache value holds, decompressed and unmarshalled the way cache/store.py and
    cache/results.py write them (zlib around JSON or marshal, with zlib-compressed parts inside)."""
    if isinstance(value, str):
        yield value.encode("utf-8", "surrogatepass")
    elif isinstance(value, bytes | bytearray):
        data = bytes(value)
        yield data
        try:
            inner = zlib.decompress(data)
        except zlib.error:
            return
        yield from _expand(inner)
        try:
            yield from _expand(marshal.loads(inner))
        except (ValueError, EOFError, TypeError):
            return
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _expand(k)
            yield from _expand(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _expand(v)


def test_the_cache_holds_no_config_secret(archive: Path, cache_dir: Path) -> None:
    _hullscan(archive, "json", "--cache-dir", str(cache_dir))  # a warm scan too: it writes nothing new
    files = sorted(cache_dir.iterdir())
    assert any(f.name == "layers.db" for f in files)
    for f in files:  # the raw files first: uncompressed rows, the WAL
        assert _leaks(f.read_bytes().decode("latin-1")) == [], f
    db = sqlite3.connect(cache_dir / "layers.db")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"facts", "results"} <= set(tables)
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] >= 1
        seen = 0
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 — names from sqlite_master
                for blob in _expand(list(row)):
                    seen += 1
                    assert _leaks(blob.decode("latin-1")) == [], table
    finally:
        db.close()
    assert seen > 20


def test_the_library_masks_what_it_reports() -> None:
    """scan_config on the same config without the CLI: one scan gives the findings and the masked
    config, so a label password found with its key is masked in the value (the bug this pins)."""
    from hullscan.secrets.config_scan import config_view, scan_config

    scan = scan_config(config_view({"config": CONFIG, "history": HISTORY}))
    assert scan.config.raw == {}
    assert scan.config.labels["DB_PASSWORD"] == "*" * len(PASSWORD)
    assert _leaks(json.dumps(scan.findings)) == []
    assert _leaks(repr(scan.config)) == []
    assert scan.mask_created_by(f"RUN echo {TOKEN}") == f"RUN echo {MASKED}"  # a line no history entry holds
