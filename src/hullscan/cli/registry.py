"""`hullscan registry scan HOST`: every repository and tag of a registry, one JSON report per image.

Option parsing and printing only; the pipeline is `hullscan.scan.scan_report` as for `hullscan image`.
Images are scanned in threads (`--parallel`); a layer shared by several images is analyzed once
(analyze.py takes turns per diff_id and the per-layer cache holds the facts).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hullscan.errors import ExitCode, HullscanError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from hullscan.cli.main import Subparsers

INSECURE_HELP = "Allow plain HTTP and unverified TLS (self-signed certificates) for the registry."
USERNAME_HELP = "Registry username (with --password-stdin). See docs/registry.md for the other credential sources."
PASSWORD_STDIN_HELP = "Read the registry password (or token) from standard input."


def read_password(username: str | None, password_stdin: bool) -> str:
    """The password given on stdin; both options go together."""
    if password_stdin and not username:
        raise UsageError("--password-stdin needs --username")
    if username and not password_stdin:
        raise UsageError("--username needs --password-stdin (passwords are never taken on the command line)")
    if not password_stdin:
        return ""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("--password-stdin: nothing read from standard input")
    return password


def source_options(platform: str | None, insecure: bool, username: str | None, password_stdin: bool):
    from hullscan.image.model import Platform
    from hullscan.image.target import SourceOptions

    return SourceOptions(
        platform=Platform.parse(platform) if platform else None,
        insecure=insecure,
        username=username or "",
        password=read_password(username, password_stdin),
    )


class ImageResult:
    """One image's line in the summary (summary.json holds its __dict__). A plain class: dataclasses
    costs milliseconds to import and every `hullscan` run imports this module."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.report_path = ""
        self.manifest_digest = ""
        self.packages = 0
        self.severities: dict[str, int] = {}
        self.secrets = 0
        self.passed: bool | None = None
        self.walked = 0
        self.cached = 0
        self.seconds = 0.0
        self.error = ""
        self.exit_code = 0


def _select(names: list[str], globs: list[str]) -> list[str]:
    import fnmatch

    if not globs:
        return sorted(names)
    return sorted(n for n in names if any(fnmatch.fnmatchcase(n, g) for g in globs))


def _write_atomic(path: Path, data: bytes) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hullscan-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def report_path(output_dir: Path, repo: str, tag: str) -> Path:
    """DIR/REPO/TAG.json: repository and tag names were checked against the reference grammar,
    so they cannot climb out of DIR."""
    return output_dir.joinpath(*repo.split("/"), f"{tag}.json")


def add_credential_options(parser: argparse.ArgumentParser) -> None:
    """--insecure, --username, --password-stdin (`hullscan image` and `hullscan registry scan`)."""
    parser.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    parser.add_argument("--username", help=USERNAME_HELP)
    parser.add_argument("--password-stdin", action="store_true", help=PASSWORD_STDIN_HELP)


def _parallel(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 1 <= n <= 32:
        raise argparse.ArgumentTypeError(f"{n} is not in the range 1<=x<=32")
    return n


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group, path_arg

    registry = add_group(subparsers, "registry", "Scan whole registries.")
    scan = add_command(registry, "scan", scan_cmd)
    add = scan.add_argument
    add("host", help="Registry host[:port], e.g. registry.example.com or 127.0.0.1:5000.")
    add("--repo", action="append", metavar="GLOB", help="Only repositories matching this glob (repeatable), e.g. 'team/*'.")
    add("--tag", action="append", metavar="GLOB", help="Only tags matching this glob (repeatable), e.g. 'v1.*'.")
    add("--parallel", type=_parallel, default=2, metavar="1..32", help="Images scanned at once.")
    add("--output-dir", type=path_arg, default="hullscan-reports", metavar="DIR",
        help="Where the per-image JSON reports go (DIR/REPO/TAG.json, plus summary.json).")
    add("--scanners", default="vuln,secret", help="Comma-separated: vuln, secret, config, license (default vuln,secret).")
    add("--platform", help="os/arch[/variant] to pick from multi-platform images (default: linux on this machine's architecture).")
    add_credential_options(scan)
    add("--cache-dir", type=path_arg, metavar="DIR", help="Per-layer cache directory (default: $XDG_CACHE_HOME/hullscan).")
    add("--db", help="Vulnerability DB: a SQLite file or postgresql:// URL.")
    add("--policy", metavar="FILE", help="Policy YAML; its verdict is shown per image and decides the exit code.")
    add("-q", "--quiet", action="store_true", help="No progress lines on stderr.")


def scan_cmd(*, host: str, repo: list[str] | None, tag: list[str] | None, parallel: int, output_dir: Path, scanners: str,
             platform: str | None, insecure: bool, username: str | None, password_stdin: bool, cache_dir: Path | None,
             db: str | None, policy: str | None, quiet: bool) -> None:
    """List the catalog and tags of HOST, scan every image, write one JSON report per image and print a summary.

    Exit code: 0 every image scanned (and passed the policy, when one is given); 1 an image failed the
    policy; otherwise the code of the first image that could not be scanned (2 unreadable, 3 registry
    failure, 4 vulnerability DB)."""
    import json
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from hullscan.cli.scan import _scanners
    from hullscan.image.registry import connect, list_repositories, list_tags
    from hullscan.image.registry_ref import valid_repository, valid_tag
    from hullscan.policy.load import load_policy
    from hullscan.scan.service import ScanOptions

    source = source_options(platform, insecure, username, password_stdin)
    chosen = _scanners(scanners)
    gate_policy = load_policy(policy)
    options = ScanOptions(scanners=chosen, source=source, cache_dir=cache_dir, db=db)
    if "vuln" in chosen:  # a missing DB would fail every image: say it once, before any pull
        from hullscan.scan.service import _open_db

        _open_db(options).close()

    client = connect(host, insecure=insecure, username=source.username, password=source.password)
    say = (lambda msg: None) if quiet else (lambda msg: print(f"hullscan: {msg}", file=sys.stderr, flush=True))
    try:
        repos = []
        for name in _select(list_repositories(client), repo or []):
            if valid_repository(name):  # names from the registry become paths under DIR: check them
                repos.append(name)
            else:
                say(f"skipping invalid repository name {name!r}")
        images: list[tuple[str, str]] = []
        for name in repos:
            for t in _select(list_tags(client, name), tag or []):
                if valid_tag(t):
                    images.append((name, t))
                else:
                    say(f"{name}: skipping invalid tag {t!r}")
    finally:
        client.close()
    say(f"{len(images)} images in {len(repos)} repositories of {host}")

    results: list[ImageResult] = []
    lock = threading.Lock()

    def one(item: tuple[str, str]) -> ImageResult:
        name, t = item
        res = _scan_one(f"{host}/{name}:{t}", options, gate_policy, report_path(output_dir, name, t))
        with lock:
            results.append(res)
            state = res.error or f"{res.packages} packages, {res.walked} layers analyzed, {res.cached} from cache"
            say(f"[{len(results)}/{len(images)}] {res.reference}: {state}")
        return res

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        ordered = list(pool.map(one, images))
    elapsed = time.perf_counter() - started
    summary = {
        "registry": host,
        "images": [r.__dict__ for r in ordered],
        "seconds": round(elapsed, 3),
    }
    _write_atomic(output_dir / "summary.json", json.dumps(summary, indent=2).encode() + b"\n")
    _print_summary(ordered, elapsed)
    code = next((r.exit_code for r in ordered if r.exit_code not in (0, ExitCode.GATE_FAILED)), 0)
    if not code and any(r.passed is False for r in ordered):
        code = ExitCode.GATE_FAILED
    if code:
        raise SystemExit(code)


def _scan_one(reference: str, options: Any, gate_policy: Any, out: Path) -> ImageResult:
    from hullscan.policy.gate import judge_report
    from hullscan.report.formats import writer
    from hullscan.scan.service import scan_report

    res = ImageResult(reference=reference)
    started = time.perf_counter()
    try:
        report = judge_report(scan_report(f"registry:{reference}", options), gate_policy)
        _write_atomic(out, writer("json")(report))
    except HullscanError as err:
        res.error, res.exit_code = str(err), err.exit_code
    except OSError as err:
        res.error, res.exit_code = f"cannot write {out}: {err.strerror}", ExitCode.IO_FAILURE
    else:
        res.report_path = str(out)
        res.manifest_digest = report["target"].get("manifest_digest", "")
        res.packages = len(report.get("packages") or [])
        for v in report.get("vulnerabilities") or []:
            sev = str(v.get("severity") or "UNKNOWN").upper()
            res.severities[sev] = res.severities.get(sev, 0) + 1
        res.secrets = len(report.get("secrets") or [])
        verdict = report.get("verdict") or {}
        res.passed = bool(verdict.get("passed")) if verdict.get("gate") else None
        res.walked = int(report["stats"].get("walked", 0))
        res.cached = int(report["stats"].get("cached", 0))
    res.seconds = round(time.perf_counter() - started, 3)
    return res


def _print_summary(results: list[ImageResult], elapsed: float) -> None:
    import shutil

    from hullscan.report.boxes import table

    rows: list[tuple[object, ...]] = []
    for r in results:
        if r.error:
            rows.append((r.reference, "", "", "", "", "", f"error: {r.error}"))
            continue
        s = r.severities
        vulns = "/".join(str(s.get(k, 0)) for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW"))
        verdict = "-" if r.passed is None else ("pass" if r.passed else "FAIL")
        rows.append((r.reference, r.manifest_digest[7:19], r.packages, vulns, r.secrets, f"{r.walked}/{r.cached}", verdict))
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 160
    columns = ("IMAGE", "DIGEST", "PKGS", "VULNS C/H/M/L", "SECRETS", "LAYERS new/cached", "VERDICT")
    print(table(columns, rows, width=width, title=f"{len(results)} images in {elapsed:.1f}s", no_wrap=columns[1:-1]))
