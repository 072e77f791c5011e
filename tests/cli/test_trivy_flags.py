"""The flags and habits a Trivy user brings (issue 27, docs/trivy-users.md), through the real CLI.

Each accepted flag is shown to do what Trivy's documentation says it does, each no-op to change
nothing, each refused flag to end in one line and exit 2. Expected packages and severities are read by
hand from the example image's inputs (examples/PROVENANCE.md: the Pipfile.lock from Trivy's tests,
Django 2.2's dist-info) and from tests/test_demo.py's hand-read table of GitHub's severities.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS / "image"), str(TESTS)]  # builders, imagehelp; test_demo

from builders import f, layer, oci_image  # noqa: E402
from imagehelp import example_db, run_cli, validate_report  # noqa: E402

from test_demo import GHSA  # noqa: E402  (the hand-read severities of the demo's findings)

REPO = TESTS.parent
IMAGE = str(REPO / "examples" / "alpine-3.10-django")
HULLSCAN = [sys.executable, "-m", "hullscan"]

# Read by hand: /app/Pipfile.lock of the example image is Trivy's Pipfile_django.lock ("default" section)
LOCKFILE = {"certifi", "chardet", "django", "djangorestframework", "idna", "pytz", "pyyaml", "requests", "sqlparse",
            "urllib3"}
DIST_INFO = "/usr/lib/python3.7/site-packages/Django-2.2.dist-info"
GHP = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"  # format-valid, fabricated (as in tests/secrets)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(example_db(tmp_path_factory.mktemp("db") / "vuln.db"))


def scan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                       env={**os.environ, **(env or {})})
    assert "Traceback" not in p.stderr, p.stderr
    return p


def report(p: subprocess.CompletedProcess[str]) -> dict:
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    validate_report(doc)
    return doc


def packages(doc: dict) -> set[tuple[str, str]]:
    """(name, first path) of every package."""
    return {(p["name"], p["paths"][0] if p["paths"] else "") for p in doc["packages"]}


def findings(doc: dict) -> set[tuple[str, str]]:
    return {(v["package"]["name"], v["id"]) for v in doc["vulnerabilities"]}


def info_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hullscan: info:")]


# -- accepted with Trivy's meaning -------------------------------------------------------------------

def test_no_op_flags_change_nothing(db: str, tmp_path: Path) -> None:
    plain = report(scan("image", IMAGE, "--db", db, "--no-cache", "-f", "json", "-q"))
    trivy = report(scan("image", IMAGE, "--db", db, "--no-cache", "-f", "json", "-q", "--skip-db-update",
                        "--skip-java-db-update", "--offline-scan", "--list-all-pkgs", "--no-progress"))
    assert plain["packages"] == trivy["packages"]
    assert plain["vulnerabilities"] == trivy["vulnerabilities"]
    assert {p["name"] for p in trivy["packages"]} >= LOCKFILE  # --list-all-pkgs: every package, as always


def test_severity_short_flag_and_any_case(db: str) -> None:
    doc = report(scan("image", IMAGE, "--db", db, "--no-cache", "--format", "JSON", "-s", "high", "-q"))
    hand = {(pkg, cve) for (pkg, cve), (_ghsa, sev, _vec) in GHSA.items() if sev == "HIGH"}
    assert findings(doc) == hand
    assert doc["display_filters"]["severity"] == ["HIGH"]
    table = scan("image", IMAGE, "--db", db, "--no-cache", "--format", "Table", "-s", "Critical,High", "-q")
    assert table.returncode == 0 and "CVE-2019-14234" in table.stdout and "CVE-2019-12308" not in table.stdout  # MEDIUM


def test_skip_files_and_dirs_use_the_same_cached_layers(db: str, tmp_path: Path) -> None:
    """Skip globs apply when layers are applied: scans with other globs reuse every cached layer, and a
    warm scan with the same globs gives the same (skipped) result from the whole-result cache."""
    cache = str(tmp_path / "cache")
    base = ["image", IMAGE, "--db", db, "--cache-dir", cache, "-f", "json"]
    full = report(scan(*base, "-q"))
    assert {n for n, path in packages(full) if path == "/app/Pipfile.lock"} == LOCKFILE
    assert ("django", DIST_INFO) in packages(full)

    p = scan(*base, "--skip-files", "/app/Pipfile.lock")
    no_lock = report(p)
    assert not {path for _n, path in packages(no_lock)} & {"/app/Pipfile.lock"}
    assert ("django", DIST_INFO) in packages(no_lock)
    assert no_lock["stats"]["walked"] == 0 and not no_lock["stats"].get("result_cached")  # layers shared, result new
    assert info_lines(p.stderr) == ["hullscan: info: skipped 1 file: /app/Pipfile.lock"]
    # the lockfile's own findings are gone; django's stay (found through the dist-info)
    assert ("requests", "CVE-2023-32681") in findings(full) and ("requests", "CVE-2023-32681") not in findings(no_lock)
    assert ("django", "CVE-2019-14234") in findings(no_lock)

    no_site = report(scan(*base, "-q", "--skip-dirs", "**/site-packages"))
    assert ("django", DIST_INFO) not in packages(no_site)
    assert {n for n, path in packages(no_site) if path == "/app/Pipfile.lock"} == LOCKFILE
    assert no_site["stats"]["walked"] == 0

    both = report(scan(*base, "-q", "--skip-dirs", "/usr/lib/python3.7/site-packages,/app"))
    assert {p["type"] for p in both["packages"]} == {"apk"} and both["vulnerabilities"] == []

    again = report(scan(*base, "-q", "--skip-files", "./app/Pipfile.lock"))  # Trivy's cleaning: ./ and / alike
    assert again["stats"].get("result_cached") is True
    assert packages(again) == packages(no_lock) and findings(again) == findings(no_lock)
    assert report(scan(*base, "-q"))["packages"] == full["packages"]  # and nothing is lost for a scan without


def _secret_image(root: Path) -> Path:
    return oci_image(root, [layer([
        f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"),
        f("app/.env", f"GITHUB_TOKEN={GHP}\n"),
        f("app/config/deploy.txt", f"token: {GHP}\n"),
        f("srv/app.conf", f"token = {GHP}\n"),
    ])])


@pytest.mark.parametrize(("skip", "left"), [
    ((), {"/app/.env", "/app/config/deploy.txt", "/srv/app.conf"}),
    (("--skip-files", "/app/.env"), {"/app/config/deploy.txt", "/srv/app.conf"}),
    (("--skip-dirs", "**/config"), {"/app/.env", "/srv/app.conf"}),
    (("--skip-files", "**/*.{env,txt}"), {"/srv/app.conf"}),
    (("--skip-files", "app/*", "--skip-dirs", "srv"), {"/app/config/deploy.txt"}),  # `*` stays in its directory
    (("--skip-dirs", "/*"), set()),
])
def test_skip_globs_remove_secrets(tmp_path: Path, skip: tuple[str, ...], left: set[str]) -> None:
    image = _secret_image(tmp_path / "img")
    doc = report(scan("image", str(image), "--scanners", "secret", "--no-cache", "-f", "json", "-q", *skip))
    assert {s["path"] for s in doc["secrets"]} == left


def test_bad_skip_glob_is_usage(tmp_path: Path) -> None:
    p = scan("image", IMAGE, "--scanners", "secret", "--skip-files", "app/[abc")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == ["hullscan: error: --skip-files 'app/[abc': unclosed ["]


def test_fs_skips_git_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for rel, text in {".git/config": f"[remote]\n\turl = https://x:{GHP}@github.com/a/b\n",
                      "vendor/lib/.git/config": f"url = https://x:{GHP}@github.com/c/d\n",
                      "src/app.py": f'TOKEN = "{GHP}"\n', "etc/app.conf": f"token = {GHP}\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    p = scan("fs", str(root), "--scanners", "secret", "-f", "json")
    assert {s["path"] for s in report(p)["secrets"]} == {"/src/app.py", "/etc/app.conf"}
    assert info_lines(p.stderr) == ["hullscan: info: skipped 2 files: /.git/ (1), /vendor/lib/.git/ (1)"]
    p = scan("fs", str(root), "--scanners", "secret", "-f", "json", "--skip-dirs", "etc")
    assert {s["path"] for s in report(p)["secrets"]} == {"/src/app.py"}
    quiet = scan("fs", str(root), "--scanners", "secret", "-f", "json", "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    rootfs = scan("rootfs", str(root), "--scanners", "secret", "-f", "json", "-q")  # Trivy's name for it
    assert {s["path"] for s in report(rootfs)["secrets"]} == {"/src/app.py", "/etc/app.conf"}


def test_input_is_the_target(db: str, tmp_path: Path) -> None:
    given = report(scan("image", IMAGE, "--db", db, "--no-cache", "-f", "json", "-q"))
    via_input = report(scan("image", "--input", IMAGE, "--db", db, "--no-cache", "-f", "json", "-q"))
    assert via_input["packages"] == given["packages"] and via_input["vulnerabilities"] == given["vulnerabilities"]
    missing = scan("image", "--input", "ruby-3.1.tar", "--db", db, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == ["hullscan: error: ruby-3.1.tar: no such file (--input)"]
    both = scan("image", IMAGE, "--input", IMAGE, "--db", db)
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1
    neither = scan("image", "--db", db)
    assert neither.returncode == 2 and "no image given" in neither.stderr


def test_timeout_expiry_is_exit_3_with_one_line(db: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    p = scan("image", IMAGE, "--db", db, "--no-cache", "--timeout", "1ms", "-o", str(out))
    assert p.returncode == 3
    assert p.stderr.strip().splitlines() == ["hullscan: error: the scan took longer than --timeout 1ms and was stopped"]
    assert not out.exists()  # nothing half-written
    ok = scan("image", IMAGE, "--db", db, "--no-cache", "--timeout", "10m", "-f", "json", "-q")
    assert ok.returncode == 0 and json.loads(ok.stdout)["vulnerabilities"]
    for bad in ("5", "0s", "1d", "-1m"):
        p = scan("image", IMAGE, "--db", db, "--timeout", bad)
        assert p.returncode == 2 and "--timeout" in p.stderr, bad


def test_timeout_stops_the_layer_walkers(tmp_path: Path) -> None:
    """Expiry while forked walker processes read the layers: exit 3, and none of them outlives the scan."""
    import random

    rnd = random.Random(27)
    words = ("password", "secret", "token", "api_key", "auth")  # keyword hits: every line goes to the rules

    def text() -> str:
        return "\n".join(f"{rnd.choice(words)}_{k} = {rnd.randbytes(12).hex()}" for k in range(200))

    # 4 layers of 200 such files: a walk of a minute or more, four layers walked at once
    layers = [layer([f(f"data/l{i}/f{j}.conf", text()) for j in range(200)], compression="") for i in range(4)]
    image = oci_image(tmp_path / "slow-image", layers)
    started = time.monotonic()
    p = scan("image", str(image), "--scanners", "secret", "--no-cache", "--timeout", "1500ms", "-q",
             env={"HULLSCAN_PARALLEL": "2"})
    assert p.returncode == 3, p.stderr
    assert p.stderr.strip().splitlines() == ["hullscan: error: the scan took longer than --timeout 1500ms and was stopped"]
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 10
    while _processes_naming(str(image)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_naming(str(image)) == []


def _processes_naming(text: str) -> list[int]:
    """Pids of live processes whose command line holds `text` (forked walkers share the scan's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_download_db_only_runs_db_update_and_scans_nothing(tmp_path: Path) -> None:
    """No network here (a proxy that refuses): both commands try every default feed and fail the same way."""
    env = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
           "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
    only = scan("image", IMAGE, "--download-db-only", "--db", str(tmp_path / "a.db"), env=env)
    update = scan("db", "update", "--db", str(tmp_path / "b.db"), env=env)
    assert only.returncode == update.returncode == 3
    assert only.stdout == ""  # no report: nothing was scanned

    def feeds(stderr: str) -> list[str]:
        return [line.split(":")[1].strip() for line in stderr.splitlines() if line.startswith("db update: ")]

    assert feeds(only.stderr) == feeds(update.stderr) and "osv" in feeds(only.stderr)
    assert only.stderr.splitlines()[-1].startswith("hullscan: error: db update failed for every feed, no DB was created")
    assert not (tmp_path / "a.db").exists()


# -- refused with one line ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (("image", IMAGE, "--ignore-policy", "policy.rego"),
     "hullscan: error: --ignore-policy: not supported: hullscan policies are YAML (--policy FILE), see docs/policy.md"),
    (("fs", ".", "--ignore-policy"),
     "hullscan: error: --ignore-policy: not supported: hullscan policies are YAML (--policy FILE), see docs/policy.md"),
    (("image", IMAGE, "--db-repository", "ghcr.io/aquasecurity/trivy-db:2"),
     "hullscan: error: --db-repository: not supported: hullscan builds its DB from the public feeds; use "
     "`hullscan db update --feed-url NAME=URL` for a mirror, or `hullscan db import` offline"),
    (("image", IMAGE, "--scanners", "vuln,misconfig"),
     "hullscan: error: --scanners misconfig: not supported: hullscan's `config` scanner checks the image config "
     "only; IaC scanning (Dockerfiles, Kubernetes, Terraform) is not supported"),
    (("fs", ".", "--scanners", "misconfig"),
     "hullscan: error: --scanners misconfig: not supported: hullscan's `config` scanner checks the image config "
     "only; IaC scanning (Dockerfiles, Kubernetes, Terraform) is not supported"),
])
def test_refused_flags(args: tuple[str, ...], line: str) -> None:
    p = scan(*args)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [line]


def test_template_format_needs_a_template(db: str, tmp_path: Path) -> None:
    p = scan("image", IMAGE, "--db", db, "--format", "template")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--template" in p.stderr
    p = scan("image", IMAGE, "--db", db, "--format", "json", "--template", "x")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    tpl = tmp_path / "count.tpl"
    tpl.write_text("{{ packages | length }} packages\n")
    p = scan("image", IMAGE, "--db", db, "--no-cache", "--format", "Template", "--template", f"@{tpl}", "-q")
    assert p.returncode == 0 and p.stdout == "25 packages\n"  # 14 apk + 10 in the lockfile + django's dist-info


# -- bare targets, empty scans -----------------------------------------------------------------------

@pytest.mark.parametrize("target", ["app.tar", "image.tar.gz", "./img", "../img", "sbom.json"])
def test_a_missing_file_is_no_such_file_not_a_pull(tmp_path: Path, target: str) -> None:
    p = scan("image", target, "--scanners", "secret", cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hullscan: error: {target}: no such file or directory")
    assert "registry" not in lines[0].split("(")[0] and "docker.io" not in lines[0]


def test_empty_directory_and_image_pass_and_say_so(db: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    p = scan("fs", str(empty), "--db", db, "-f", "json", "--exit-code", "1")
    assert report(p)["packages"] == []
    assert info_lines(p.stderr) == ["hullscan: info: 0 packages found"]
    assert scan("fs", str(empty), "--db", db, "-f", "json", "-q").stderr == ""
    image = oci_image(tmp_path / "bare", [layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.10.4\n")])])
    p = scan("image", str(image), "--db", db, "--no-cache", "-f", "json", "--exit-code", "1")
    assert report(p)["packages"] == [] and info_lines(p.stderr) == ["hullscan: info: 0 packages found"]


# -- suppressed findings, gating a stored report -----------------------------------------------------

POLICY = """\
version: 1
fail_on:
  severity: CRITICAL
exceptions:
  - id: CVE-2019-14234
    justification: "no JSONField key lookups in this service"
    expires: 2099-12-31
"""


def test_show_suppressed_lists_them_with_the_reason(db: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    base = ["image", IMAGE, "--db", db, "--no-cache", "--policy", str(policy), "-q"]
    doc = json.loads(scan(*base, "-f", "json").stdout)
    assert [(s["finding"]["id"], s["by"], s["justification"]) for s in doc["suppressed"]] == \
        [("CVE-2019-14234", "exception", "no JSONField key lookups in this service")]
    wide = {"COLUMNS": "200"}  # the reason on one line
    plain = scan(*base, "-f", "table", "--show-suppressed", env=wide)
    hidden = scan(*base, "-f", "table", env=wide)
    assert plain.returncode == hidden.returncode == 1  # other CRITICALs fail the gate either way
    assert "no JSONField key lookups" in plain.stdout and "no JSONField key lookups" not in hidden.stdout
    listed = [line for line in plain.stdout.splitlines() if "CVE-2019-14234" in line]
    assert listed and "exception" in " ".join(plain.stdout.split())


def test_convert_gates_a_stored_report(db: str, tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    saved.write_text(scan("image", IMAGE, "--db", db, "--no-cache", "-f", "json", "-q").stdout)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    ids_only = tmp_path / "ids.yaml"
    ids_only.write_text("version: 1\nfail_on:\n  ids: [CVE-2019-14234]\n")
    convert = ["convert", str(saved), "-f", "json"]
    assert scan(*convert).returncode == 0  # no gate asked for: the default gate never fails
    assert scan(*convert, "--exit-code", "7").returncode == 7  # findings left
    assert scan(*convert, "--exit-code", "7", "-s", "LOW").returncode == 0  # none at LOW (hand table: no LOW)
    judged = scan(*convert, "--policy", str(policy))
    assert judged.returncode == 1
    doc = json.loads(judged.stdout)
    assert doc["verdict"]["policy"] == str(policy) and not doc["verdict"]["passed"]
    assert [s["finding"]["id"] for s in doc["suppressed"]] == ["CVE-2019-14234"]
    judged_file = tmp_path / "judged.json"
    judged_file.write_text(judged.stdout)
    assert scan("convert", str(judged_file), "-f", "table", "--exit-code", "9").returncode == 9  # its saved verdict
    # judged again by another policy: the finding the first one suppressed counts again
    again = scan("convert", str(judged_file), "-f", "json", "--policy", str(ids_only), "--exit-code", "9")
    assert again.returncode == 9
    assert json.loads(again.stdout)["verdict"]["failed_rules"][0]["findings"] == ["CVE-2019-14234 (django 2.2)"]


def test_help_documents_the_trivy_flags() -> None:
    text = " ".join(run_cli("image", "--help", fresh=False).stdout.split())
    for flag in ("--skip-files", "--skip-dirs", "--timeout", "--input", "--download-db-only", "--skip-db-update",
                 "--offline-scan", "--list-all-pkgs", "--no-progress", "--show-suppressed", "--template",
                 "--ignore-policy", "--db-repository", "-s SEVERITY, --severity SEVERITY"):
        assert flag in text, flag
    assert "No effect: a scan never updates the DB" in text
    for command in ("fs", "rootfs", "sbom", "convert"):
        assert run_cli(command, "--help", fresh=False).code == 0
