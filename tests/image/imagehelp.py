"""Helpers for the image tests (imported by name; fixtures are in conftest.py): run the real CLI in a subprocess
(exit code, stderr, peak memory, or the modules it loaded), a vulnerability DB of the example feeds for warm
scans, and a recording analyzer that shows exactly which file contents the walker handed over."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullscan.cache.blobs import RACY_NS
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule
from testsupport import require_tool  # noqa: F401  (re-exported for the image tests)

REPO = Path(__file__).resolve().parents[2]
HULLSCAN = [sys.executable, "-m", "hullscan"]
"""The CLI as a subprocess: this interpreter (the venv running the tests) with `-m hullscan`."""
FEEDS = REPO / "examples" / "feeds"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    maxrss_mb: float
    """Peak RSS of the child process (ru_maxrss of RUSAGE_CHILDREN, measured around this run)."""

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run_cli(*args: str, timeout: float = 600, env: dict[str, str] | None = None, fresh: bool = True) -> Run:
    """`hullscan ARGS` as a user runs it, in a fresh process (`fresh=False`: through the same entry
    point in this process, which saves the interpreter start-up; maxrss is then 0).
    Peak RSS: the children's ru_maxrss is a running maximum over every waited-for child, so each
    measured run goes through a fresh helper process."""
    if not fresh:
        return _in_process(args, env or {})
    cmd = [*HULLSCAN, *args]
    probe = (
        "import resource,subprocess,sys,json;"
        "p=subprocess.run(sys.argv[1:],capture_output=True);"
        "sys.stdout.buffer.write(p.stdout);sys.stderr.buffer.write(p.stderr);"
        "open(__import__('os').environ['HS_RSS_OUT'],'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
        "sys.exit(p.returncode)"
    )
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        child_env = {**os.environ, **(env or {}), "HS_RSS_OUT": rss.name}
        p = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, timeout=timeout, env=child_env)
        text = Path(rss.name).read_text().strip()
    return Run(p.returncode, p.stdout, p.stderr, int(text or 0) / 1024)


def _in_process(args: tuple[str, ...], env: dict[str, str]) -> Run:
    import io

    from hullscan.cli import main as cli

    saved_env = dict(os.environ)
    old = sys.argv, sys.stdout, sys.stderr
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.StringIO()
    code = 0
    os.environ.update(env)
    sys.argv, sys.stdout, sys.stderr = ["hullscan", *args], out, err
    try:
        cli.main()
    except SystemExit as ex:
        code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
    finally:
        sys.argv, sys.stdout, sys.stderr = old
        os.environ.clear()
        os.environ.update(saved_env)
    out.flush()
    return Run(code, out.buffer.getvalue().decode(), err.getvalue(), 0.0)


def modules_loaded(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules `hullscan ARGS` has loaded when it is done (it must exit 0), in a fresh process. Read
    from `sys.modules`: `-X importtime` does not list the modules loaded by `importlib.import_module`
    (cli/main.py's commands, report/formats.py's writers)."""
    code = ("import sys\nfrom hullscan.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as ex:\n    assert not ex.code, ex.code\n"
            "print('modules:', *sys.modules)")
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    assert p.returncode == 0, p.stderr[-2000:]
    return set(p.stdout.rpartition("modules: ")[2].split())


def settle() -> None:
    """Files written just now are not remembered (their timestamps could hide a write in the same tick)."""
    time.sleep(RACY_NS / 1e9 + 0.2)


def example_db(db: Path) -> Path:
    """`db`: a vulnerability DB of examples/feeds (Alpine 3.10, PyPI, KEV); settled, as is what was written before."""
    r = run_cli("db", "import", str(FEEDS), "--db", str(db))
    assert r.code == 0, r.stderr
    settle()
    return db


def scan_json(target: str | Path, *extra: str, cache: Path | None = None, fresh: bool = False) -> Run:
    # `license` runs the package analyzers without needing a vulnerability DB
    args = ["image", str(target), "--format", "json", "--quiet", "--scanners", "license"]
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    run = run_cli(*args, *extra, fresh=fresh)
    assert "Traceback" not in run.stderr, run.stderr
    if run.code == 0:
        validate_report(run.report)  # every report the image tests see must match docs/report.schema.json
    return run


_VALIDATOR = None


def validate_report(report: dict[str, Any]) -> None:
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema

        schema = json.loads((REPO / "docs" / "report.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATOR = jsonschema.Draft202012Validator(schema)
    _VALIDATOR.validate(report)


class Recorder(Analyzer):
    """Test analyzer: reads every file under /app, /etc/app or named `marker*`; records the content."""

    name = "test-recorder"
    version = 1
    files = (FileRule(prefixes=("/app/", "/etc/app/"), globs=("**/marker*",),
                      parse=lambda path, data, warn: data.decode("utf-8", "replace")),)
    wants_history = True
    scanners = frozenset({"vuln", "secret", "config", "license"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(
            facts={
                "files": {p: {"content": ff.fact, "layer": ff.layer} for p, ff in sorted(view.files.items())},
                "history": sorted(
                    [ff.path, ff.layer, ff.removed_in, ff.fact] for ff in view.history if ff.removed_in is not None
                ),
            }
        )


def peak_rss_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
