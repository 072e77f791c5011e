"""The command line as users run it: --version, --help, `python -m hullscan`, target detection
(DESIGN.md "Targets"), output options, and every JSON report validated against docs/report.schema.json."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "image"))

from builders import OCILayout, docker25_archive, docker_archive, f, layer, oci_archive, oci_image, sym, wh  # noqa: E402
from imagehelp import run_cli, scan_json  # noqa: E402

from testsupport import on_a_terminal  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())


def validate(report: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(report)


def _layers(n: int = 1):
    return [layer([f("etc/os-release", f"ID=debian\nVERSION_ID=1{n}\n")])]


def test_version():
    run = run_cli("--version")
    assert run.code == 0
    assert run.stdout.strip() == f"hullscan {version('hullscan')}"
    p = subprocess.run([sys.executable, "-m", "hullscan", "--version"], capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0 and p.stdout.strip() == f"hullscan {version('hullscan')}"


def test_help_lists_commands_and_exit_codes():
    run = run_cli("--help")
    assert run.code == 0
    for word in ("image", "fs", "cache"):
        assert word in run.stdout
    text = " ".join(run.stdout.split())
    for code in ("0 scan done", "1 gate failed", "2 bad usage or unreadable input", "3 I/O, network or registry failure",
                 "4 vulnerability DB"):
        assert code in text


def test_image_help_lists_options():
    run = run_cli("image", "--help")
    assert run.code == 0
    for opt in ("--format", "--output", "--scanners", "--platform", "--cache-dir", "--no-cache", "--quiet", "--exit-code"):
        assert opt in run.stdout
    for word in ("docker-archive:", "oci:", "oci-archive:", "dir:"):
        assert word in run.stdout
    assert run_cli("cache", "clean", "--help").code == 0


def test_group_and_command_help_lists_options():
    for args, opts in (
        (("db", "--help"), ("update", "import", "status", "export")),
        (("db", "update", "--help"), ("--feed", "--feed-url", "--rebuild", "--db")),
        (("db", "import", "--help"), ("--format", "--feed", "--replace", "--rebuild", "--db")),
        (("db", "status", "--help"), ("--max-age", "--fail-stale", "--json", "--db")),
        (("db", "export", "--help"), ("file", "--db")),
        (("registry", "scan", "--help"), ("--repo", "--tag", "--parallel", "--output-dir", "--scanners", "--platform",
                                          "--insecure", "--username", "--password-stdin", "--cache-dir", "--db", "--policy", "--quiet")),
        (("convert", "--help"), ("--format", "-f", "--output", "-o", "--severity", "--ignore-unfixed")),
        (("sbom", "--help"), ("--format", "--vex", "--policy", "--ignorefile", "--pkg-types", "--exit-code")),
    ):
        run = run_cli(*args, fresh=False)
        assert run.code == 0, (args, run.stderr)
        for opt in opts:
            assert opt in run.stdout, (args, opt)


def test_bare_command_and_groups_print_help():
    run = run_cli(fresh=False)
    assert run.code == 0 and "registry" in run.stdout and "Exit codes" in run.stdout
    for group, command in (("db", "update"), ("cache", "clean"), ("registry", "scan")):
        run = run_cli(group, fresh=False)
        assert run.code == 2 and command in run.stderr, (group, run.stderr)


def test_usage_error_is_the_commands_usage_and_one_line():
    for args, line in (
        (("db", "update", "--bogus"), "hullscan db update: error: unrecognized arguments: --bogus"),
        (("registry", "scan", "h", "--parallel", "0"), "hullscan registry scan: error: argument --parallel: 0 is not in the range"),
        (("convert", "r.json"), "hullscan convert: error: the following arguments are required: -f/--format"),
    ):
        run = run_cli(*args, fresh=False)
        lines = run.stderr.strip().splitlines()
        assert run.code == 2 and len(lines) == 2 and lines[0].startswith(f"usage: hullscan {args[0]}"), (args, run.stderr)
        assert lines[1].startswith(line), (args, run.stderr)


def test_cli_import_stays_light():
    """Start-up time: `hullscan` (parsing, --help) loads none of the heavy libraries; commands import them."""
    code = (
        "import sys, hullscan.cli.main; hullscan.cli.main.build_parser().format_help();"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in"
        " {'typer', 'click', 'rich', 'sqlalchemy', 'httpx', 'yaml'} or m == 'hullscan.scan.service')))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == []


def test_python_dash_m(tmp_path):
    target = oci_image(tmp_path / "oci", _layers())
    p = subprocess.run(
        [sys.executable, "-m", "hullscan", "image", str(target), "--format", "json", "--no-cache", "--scanners", "license"],
        capture_output=True, text=True,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["os"]["version"] == "11"


def test_usage_errors_exit_2(tmp_path):
    target = oci_image(tmp_path / "oci", _layers())
    for args in (
        ["image", str(target), "--scanners", "bogus"],
        ["image", str(target), "--format", "no-such-format"],
        ["image", str(target), "--platform", "linux"],
        ["image"],
        ["no-such-command"],
    ):
        run = run_cli(*args, "--no-cache") if args[0] == "image" and len(args) > 1 else run_cli(*args)
        assert run.code == 2, (args, run.code, run.stderr)
        assert "Traceback" not in run.stderr


def _detect(target, *extra) -> dict:
    run = scan_json(target, *extra)
    assert run.code == 0, (target, run.stderr)
    validate(run.report)
    return run.report


def test_target_detection_order(tmp_path):
    """DESIGN.md: directory with oci-layout → OCI layout, other directory → dir; tar with index.json →
    OCI archive, else with manifest.json → docker-archive; Docker >= 25 tar (both) → the OCI layout."""
    oci = oci_image(tmp_path / "oci", _layers(1))
    assert _detect(oci)["target"]["type"] == "oci"
    rootfs = tmp_path / "rootfs" / "etc"
    rootfs.mkdir(parents=True)
    (rootfs / "os-release").write_text("ID=debian\nVERSION_ID=12\n")
    rep = _detect(tmp_path / "rootfs")
    assert rep["target"]["type"] == "dir" and rep["os"]["version"] == "12"
    arch = oci_archive(oci_image(tmp_path / "oci2", _layers(3)), tmp_path / "img.oci.tar")
    assert _detect(arch)["target"]["type"] == "oci-archive"
    dock = docker_archive(tmp_path / "img.docker.tar", _layers(4))
    assert _detect(dock)["target"]["type"] == "docker-archive"
    dock_gz = docker_archive(tmp_path / "img.docker.tar.gz", _layers(5), gz=True)
    assert _detect(dock_gz)["target"]["type"] == "docker-archive"
    d25 = docker25_archive(tmp_path / "img25.tar", _layers(6), tag="app:6")
    rep = _detect(d25)
    assert rep["target"]["type"] == "oci-archive" and rep["os"]["version"] == "16"

    d25gz = docker25_archive(tmp_path / "img25.tar.gz", _layers(9), tag="app:9", gz=True)
    rep = _detect(d25gz)
    assert rep["target"]["type"] == "oci-archive" and rep["os"]["version"] == "19"

    # explicit prefixes win over sniffing
    assert _detect(f"docker-archive:{d25}")["target"]["type"] == "docker-archive"
    assert _detect(f"oci-archive:{arch}")["target"]["type"] == "oci-archive"
    assert _detect(f"oci-dir:{oci}")["target"]["type"] == "oci"
    assert _detect(f"oci:{oci}:latest")["target"]["type"] == "oci"
    rep = _detect(f"dir:{oci}")  # a layout scanned as a plain directory
    assert rep["target"]["type"] == "dir" and rep["os"] is None


def test_path_with_colon(tmp_path):
    weird = tmp_path / "a:b"
    oci_image(weird, _layers(7))
    assert _detect(weird)["os"]["version"] == "17"
    assert _detect(f"oci:{weird}")["os"]["version"] == "17"
    assert _detect(f"oci:{weird}:latest")["os"]["version"] == "17"


def test_docker_archive_tag_choice(tmp_path):
    p = docker_archive(tmp_path / "t.tar", _layers(8), tags=("example/app:1.0",))
    assert _detect(f"docker-archive:{p}:example/app:1.0")["target"]["repo_tags"] == ["example/app:1.0"]
    run = scan_json(f"docker-archive:{p}:nope")
    assert run.code == 2 and "nope" in run.stderr


def test_missing_local_paths_are_input_errors(tmp_path):
    for target in (f"{tmp_path}/nothing.tar", "./does-not-exist", f"docker-archive:{tmp_path}/x.tar", f"dir:{tmp_path}/nodir"):
        run = scan_json(target)
        assert run.code == 2, (target, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_output_file_and_table(tmp_path):
    target = oci_image(tmp_path / "oci", _layers())
    out = tmp_path / "report.json"
    run = run_cli("image", str(target), "--format", "json", "--no-cache", "--scanners", "license", "-o", str(out))
    assert run.code == 0 and run.stdout == ""
    validate(json.loads(out.read_text()))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    run = run_cli("image", str(target), "--format", "table", "--no-cache", "--scanners", "license")
    assert run.code == 0 and "debian" in run.stdout.lower()


def test_warnings_on_stderr_unless_quiet(tmp_path):
    target = oci_image(tmp_path / "oci", [layer([f("../evil", "x"), f("etc/os-release", "ID=debian\nVERSION_ID=12\n")])])
    loud = run_cli("image", str(target), "--format", "json", "--no-cache", "--scanners", "license")
    assert loud.code == 0 and "warning" in loud.stderr and "layer 0" in loud.stderr and "../evil" in loud.stderr
    quiet = run_cli("image", str(target), "--format", "json", "--no-cache", "--scanners", "license", "--quiet")
    assert quiet.code == 0 and quiet.stderr == ""


def test_reports_validate_against_schema(tmp_path):
    """A real docker save, a multi-layer image with deletions and hostile members, a rootfs."""
    reports = [_detect(REPO / "tests/image/testdata/alpine-3.11.docker-save.tar.gz")]
    lays = [
        layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"), f("lib/apk/db/installed",
              "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\n")]),
        layer([wh("lib/apk/db/installed"), f("../x", "x"), sym("etc/passwd", "/etc/shadow")]),
    ]
    rep = _detect(oci_image(tmp_path / "layers", lays))
    reports.append(rep)
    assert rep["warnings"]
    root = tmp_path / "fs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=debian\nVERSION_ID=12\n")
    fs = run_cli("fs", str(root), "--format", "json", "--scanners", "license")
    assert fs.code == 0, fs.stderr
    validate(fs.report)
    for r in reports:
        validate(r)
        assert r["schema_version"]
        assert r["tool"]["name"] == "hullscan"


def test_multi_manifest_layout_lists_manifests(tmp_path):
    oci = OCILayout(tmp_path / "two")
    a = oci.image(_layers(1))
    b = oci.image(_layers(2), arch="arm64")
    oci.add(a, tag="a", platform={"os": "linux", "architecture": "amd64"})
    oci.add(b, tag="b", platform={"os": "linux", "architecture": "arm64"})
    root = oci.save()
    run = scan_json(root)
    assert run.code == 2
    assert a["digest"][:19] in run.stderr and b["digest"][:19] in run.stderr and "tag a" in run.stderr
    assert _detect(root, "--platform", "linux/arm64")["target"]["manifest_digest"] == b["digest"]
    assert _detect(f"{root}:a")["target"]["manifest_digest"] == a["digest"]


@pytest.mark.parametrize("ref", ["registry:127.0.0.1:1/none/such:1"])
def test_unreachable_registry_is_one_line(ref):
    run = scan_json(ref)
    assert run.code in (2, 3), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_progress_on_a_terminal_only(tmp_path):
    """Progress goes to stderr when it is a terminal (a pty here), never with --quiet or into a pipe."""
    import os
    import pty

    target = oci_image(tmp_path / "oci", _layers())

    def stderr_on_pty(*extra: str) -> str:
        master, slave = pty.openpty()
        p = subprocess.Popen([sys.executable, "-m", "hullscan", "image", str(target), "--format", "json", "--no-cache",
                              "--scanners", "license", *extra], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO once the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        p.communicate(timeout=120)
        os.close(master)
        assert p.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    assert "layer 1/1" in stderr_on_pty()
    assert stderr_on_pty("--quiet").strip() == ""
    assert "layer 1/1" not in run_cli("image", str(target), "--format", "json", "--no-cache", "--scanners", "license").stderr


def test_on_a_terminal_the_table_fits_its_width(tmp_path):
    """No --format and stdout a terminal: a table, as wide as the terminal (COLUMNS here)."""
    db = tmp_path / "vuln.db"
    assert run_cli("db", "import", str(REPO / "examples" / "feeds"), "--db", str(db)).code == 0
    cmd = [sys.executable, "-m", "hullscan", "image", str(REPO / "examples" / "alpine-3.10-django"), "--db", str(db),
           "--no-cache", "--quiet"]
    shown = on_a_terminal(cmd, {"COLUMNS": "100"}, timeout=120)
    import re  # severities are coloured on a terminal: the colour takes no columns

    lines = re.sub(r"\x1b\[[0-9;]*m", "", shown).splitlines()
    boxes = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert boxes and "Total:" in "\n".join(lines), lines[:20]
    assert max(len(line) for line in boxes) <= 100, max(lines, key=len)
    wide = run_cli(*cmd[3:], "--format", "table", env={"COLUMNS": "140"})  # no terminal: COLUMNS, else 80
    assert wide.code == 0 and max(len(line) for line in wide.stdout.splitlines()) > 100, "the width was the terminal's"
