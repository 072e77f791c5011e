"""Exit codes (DESIGN.md "Conventions"): an unexpected exception is 5 with one line (the traceback only
with --debug or HULLSCAN_DEBUG=1), never 1 ("gate failed"); every --help and the README list 0–5;
--exit-code takes 0–255 and warns on 2–5; a reader closing the output early is 3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
HULLSCAN = [sys.executable, "-m", "hullscan"]
FEEDS = REPO / "examples" / "feeds"
INTERNAL = "hullscan: internal error (RuntimeError: collaborator failed) — this is a bug; please report it"
# What each code means, as DESIGN.md words it (the help text may wrap lines anywhere).
CODES = ("0 scan done", "1 gate failed", "2 bad usage or unreadable input", "3 I/O, network or registry failure",
         "4 vulnerability DB missing", "5 internal error")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`hullscan ARGS` through the CLI's own `main` in this process (so that a test can make one of its
    collaborators fail): exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as ex:
        cli.main(list(args))
    out, err = capsys.readouterr()
    code = ex.value.code
    assert isinstance(code, int)
    return code, out, err


@pytest.fixture
def failing_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The scan service's builder raises RuntimeError, as a bug would: the CLI's handler is under test.
    Run from an empty directory (no ./.hullscan.yaml or .trivyignore is picked up) with no debug setting."""

    def boom(*_args: object, **_kw: object) -> None:
        raise RuntimeError("collaborator failed\nsecond line of the message")

    monkeypatch.setattr("hullscan.scan.wiring.build_service", boom)
    monkeypatch.delenv("HULLSCAN_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("db") / "vuln.db")
    r = run("db", "import", str(FEEDS), "--db", db)
    assert r.returncode == 0, r.stderr
    return db


@pytest.fixture
def django_sbom(tmp_path: Path) -> Path:
    """django 2.2.1: GHSA-7rp2-fm2h-wchj (CVE-2019-12308) in examples/feeds affects 2.2.0 up to 2.2.2
    (read by hand from examples/feeds/ghsa-pypi/django/GHSA-7rp2-fm2h-wchj.json)."""
    path = tmp_path / "django.cdx.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "django", "version": "2.2.1", "purl": "pkg:pypi/django@2.2.1"}]}))
    return path


# -- 5: internal error ------------------------------------------------------------------------------

def test_an_unexpected_exception_is_exit_5_in_one_line(failing_service, capsys):
    code, out, err = run_main(capsys, "image", "some-image.tar", "--no-cache", "-f", "json")
    assert code == 5
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(INTERNAL)
    assert lines[0].endswith("rerun with --debug for the traceback")
    assert "second line" not in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_debug_prints_the_traceback(failing_service, capsys, monkeypatch, where):
    args = ["image", "some-image.tar", "--no-cache"]
    if where == "before":
        args.insert(0, "--debug")
    elif where == "after":
        args.append("--debug")
    else:
        monkeypatch.setenv("HULLSCAN_DEBUG", "1")
    code, _, err = run_main(capsys, *args)
    assert code == 5
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: collaborator failed\nsecond line of the message" in err
    assert "in boom" in err  # the frame that raised
    last = err.splitlines()[-1]
    assert last.startswith(INTERNAL) and last.endswith("with the command line and the traceback above")


def test_hullscan_debug_0_is_off(failing_service, capsys, monkeypatch):
    monkeypatch.setenv("HULLSCAN_DEBUG", "0")
    code, _, err = run_main(capsys, "image", "some-image.tar", "--no-cache")
    assert code == 5 and "Traceback" not in err and len(err.splitlines()) == 1


def test_the_process_exit_status_is_5(tmp_path):
    """Through `entry` (the console script and `python -m hullscan`, which leaves with os._exit) in a
    real process: the status the shell sees is 5."""
    code = (
        "import sys\n"
        "import hullscan.scan.wiring as wiring\n"
        "def boom(*a, **k):\n    raise RuntimeError('collaborator failed')\n"
        "wiring.build_service = boom\n"
        "sys.argv = ['hullscan', *sys.argv[1:]]\n"
        "from hullscan.cli.main import entry\nentry()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HULLSCAN_DEBUG"}
    p = subprocess.run([sys.executable, "-c", code, "image", "x.tar", "--no-cache"], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert p.returncode == 5, p.stderr
    assert p.stderr.splitlines() == [p.stderr.strip()] and p.stderr.startswith(INTERNAL)


def test_a_library_exiting_with_a_message_is_not_exit_1(tmp_path):
    """`sys.exit("message")` somewhere below the CLI: the message is printed and the status is 5, not the
    1 Python would give it ("gate failed")."""
    code = (
        "import sys\n"
        "import hullscan.scan.wiring as wiring\n"
        "wiring.build_service = lambda *a, **k: sys.exit('a library gave up')\n"
        "sys.argv = ['hullscan', *sys.argv[1:]]\n"
        "from hullscan.cli.main import entry\nentry()\n"
    )
    p = subprocess.run([sys.executable, "-c", code, "image", "x.tar", "--no-cache"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.returncode == 5 and p.stderr == "a library gave up\n", p.stderr


def test_debug_turns_on_debug_logging_and_shows_where_an_error_came_from(tmp_path):
    missing = str(tmp_path / "absent.tar")
    plain = run("image", missing, "--no-cache", "--scanners", "license")
    assert plain.returncode == 2
    assert plain.stderr.splitlines() == [f"hullscan: error: {missing}: no such file or directory"]
    debug = run("image", missing, "--no-cache", "--scanners", "license", "--debug")
    assert debug.returncode == 2
    lines = debug.stderr.splitlines()
    assert re.fullmatch(r"hullscan: debug: hullscan: hullscan \S+ on Python \S+ \(\w+\)", lines[0]), lines[0]
    assert "Traceback (most recent call last):" in debug.stderr and "InputError" in debug.stderr
    assert lines[-1] == f"hullscan: error: {missing}: no such file or directory"


# -- 3: the output's reader went away ---------------------------------------------------------------

def test_a_closed_output_pipe_is_exit_3(demo_db, django_sbom):
    p = subprocess.Popen([*HULLSCAN, "sbom", str(django_sbom), "--db", demo_db, "-f", "json", "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # long before the report is written: the write gets EPIPE
    err = p.stderr.read()
    assert p.wait() == 3, err
    assert err.splitlines() == ["hullscan: error: output closed by its reader before the report was written (broken pipe)"]


# -- the help and the README list every code --------------------------------------------------------

@pytest.mark.parametrize("args", [
    (), ("image",), ("fs",), ("sbom",), ("convert",), ("db",), ("db", "update"), ("db", "import"), ("db", "status"),
    ("db", "export"), ("registry",), ("registry", "scan"), ("cache",), ("cache", "clean"),
])
def test_every_help_lists_exit_codes_0_to_5(capsys, args):
    code, out, _ = run_main(capsys, *args, "--help")
    assert code == 0
    text = " ".join(out.split())
    for meaning in CODES:
        assert meaning in text, (args, meaning)
    assert "--debug" in out, args


def test_readme_table_lists_exit_codes_0_to_5():
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d) \| (.+) \|$", section, re.M)
    assert [int(c) for c, _ in rows] == [0, 1, 2, 3, 4, 5]
    assert "internal error" in rows[5][1] and "--debug" in rows[5][1]


# -- --exit-code: 0..255, and a warning for 2..5 ----------------------------------------------------

@pytest.mark.parametrize("command", ["image", "fs", "sbom"])
@pytest.mark.parametrize("value", ["-1", "256", "300", "x"])
def test_exit_code_outside_0_255_is_a_usage_error(capsys, command, value):
    code, out, err = run_main(capsys, command, "target", f"--exit-code={value}")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"usage: hullscan {command}"), err
    want = f"invalid int value: '{value}'" if value == "x" else f"{value} is not in the range 0..255"
    assert lines[1].startswith(f"hullscan {command}: error: argument --exit-code: {want}"), err


def test_exit_code_255_is_the_gates_code(demo_db, django_sbom):
    r = run("sbom", str(django_sbom), "--db", demo_db, "-f", "json", "--exit-code", "255")
    assert r.returncode == 255, r.stderr
    assert "CVE-2019-12308" in {v["id"] for v in json.loads(r.stdout)["vulnerabilities"]}
    assert "warning: --exit-code" not in r.stderr
    assert run("sbom", str(django_sbom), "--db", demo_db, "-f", "json", "-q", "--exit-code", "0").returncode == 0


@pytest.mark.parametrize("value,meaning", [
    ("2", "bad usage or an unreadable input"), ("3", "an I/O, network or registry failure"),
    ("4", "a vulnerability DB problem"), ("5", "an internal error"),
])
def test_exit_codes_2_to_5_warn_that_they_collide(demo_db, django_sbom, value, meaning):
    r = run("sbom", str(django_sbom), "--db", demo_db, "-f", "json", "--exit-code", value)
    assert r.returncode == int(value)
    warning = (f"hullscan: warning: --exit-code {value} is also the exit code of {meaning}: a failed gate cannot "
               "be told from it (use 1 or a value above 5)")
    assert warning in r.stderr.splitlines(), r.stderr
    quiet = run("sbom", str(django_sbom), "--db", demo_db, "-f", "json", "-q", "--exit-code", value)
    assert quiet.returncode == int(value) and quiet.stderr == ""


def test_exit_codes_1_and_6_do_not_warn(demo_db, django_sbom):
    for value in ("1", "6"):
        r = run("sbom", str(django_sbom), "--db", demo_db, "-f", "json", "--exit-code", value)
        assert r.returncode == int(value)
        assert "--exit-code" not in r.stderr, r.stderr
