"""`hullscan registry scan HOST` (scan/registry_scan.py does it): option parsing and printing only."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hullscan.cli import options as opt
from hullscan.cli.main import add_command, add_group, path_arg

if TYPE_CHECKING:
    from pathlib import Path

    from hullscan.cli.main import Subparsers
    from hullscan.scan.registry_scan import RegistryScan


def _parallel(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 1 <= n <= 32:
        raise argparse.ArgumentTypeError(f"{n} is not in the range 1<=x<=32")
    return n


def register(subparsers: Subparsers) -> None:
    registry = add_group(subparsers, "registry", "Scan whole registries.")
    scan = add_command(registry, "scan", scan_cmd)
    add = scan.add_argument
    add("host", help="Registry host[:port], e.g. registry.example.com or 127.0.0.1:5000.")
    add("--repo", action="append", metavar="GLOB", help="Only repositories matching this glob (repeatable), e.g. 'team/*'.")
    add("--tag", action="append", metavar="GLOB", help="Only tags matching this glob (repeatable), e.g. 'v1.*'.")
    add("--parallel", type=_parallel, default=2, metavar="1..32", help="Images scanned at once.")
    add("--output-dir", type=path_arg, default="hullscan-reports", metavar="DIR",
        help="Where the per-image JSON reports go (DIR/REPO/TAG.json, plus summary.json).")
    for group in (opt.add_scanners, opt.add_source, opt.add_cache_dir, opt.add_db, opt.add_policy, opt.add_quiet):
        group(scan)


def scan_cmd(*, host: str, repo: list[str] | None, tag: list[str] | None, parallel: int, output_dir: Path, scanners: str,
             secret_config: str | None, platform: str | None, insecure: bool, username: str | None, password_stdin: bool,
             cache_dir: str | None, db: str | None, policy: str | None, quiet: bool) -> None:
    """List the catalog and tags of HOST, scan every image, write one JSON report per image and print a summary.

    Exit code: 0 every image scanned (and passed the policy, when one is given); 1 an image failed the
    policy; otherwise the code of the first image that could not be scanned (2 unreadable, 3 registry
    failure, 4 vulnerability DB)."""
    # the stages load here: `hullscan --help` imports this module to register `registry`
    from hullscan.policy.load import load_policy
    from hullscan.scan.registry_scan import scan_registry
    from hullscan.scan.wiring import build_service

    source = opt.source(platform, insecure, username, password_stdin)
    options = opt.scan_options(scanner_list=scanners, source_options=source, cache_dir=cache_dir, db=db,
                               secret_config=secret_config)
    gate_policy = load_policy(policy)
    say = (lambda msg: None) if quiet else (lambda msg: print(f"hullscan: {msg}", file=sys.stderr, flush=True))
    result = scan_registry(host, build_service(options), gate_policy, output_dir, repos=repo or [], tags=tag or [],
                           parallel=parallel, say=say)
    _print_summary(result)
    if result.exit_code:
        raise SystemExit(result.exit_code)


def _print_summary(result: RegistryScan) -> None:
    import shutil  # these two with the command too, not with `hullscan --help`

    from hullscan.report.boxes import table

    rows: list[tuple[object, ...]] = []
    for r in result.images:
        if r.error:
            rows.append((r.reference, "", "", "", "", "", f"error: {r.error}"))
            continue
        s = r.severities
        vulns = "/".join(str(s.get(k, 0)) for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW"))
        verdict = "-" if r.passed is None else ("pass" if r.passed else "FAIL")
        rows.append((r.reference, r.manifest_digest[7:19], r.packages, vulns, r.secrets, f"{r.walked}/{r.cached}", verdict))
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 160
    columns = ("IMAGE", "DIGEST", "PKGS", "VULNS C/H/M/L", "SECRETS", "LAYERS new/cached", "VERDICT")
    print(table(columns, rows, width=width, title=f"{len(result.images)} images in {result.seconds:.1f}s",
                no_wrap=columns[1:-1]))
