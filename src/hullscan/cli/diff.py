"""`hullscan diff OLD NEW`: scan two targets as `hullscan image` does (result cache included), judge both
with one policy, print what changed (delta/), exit with `--exit-code` when the new side brings in
findings at or above `--severity`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hullscan.cli import options as opt

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers
    from hullscan.model.report import Report
    from hullscan.policy.model import Policy
    from hullscan.scan.service import ScanService


def diff_cmd(*, old: str, new: str, scanners: str, secret_config: str | None, platform: str | None, insecure: bool,
             username: str | None, password_stdin: bool, cache_dir: str | None, no_cache: bool, db: str | None,
             skip_files: list[str] | None, skip_dirs: list[str] | None, timeout: float | None, fmt: str | None,
             output: str | None, quiet: bool, severity: str | None, exit_code: int, policy: str | None) -> None:
    """Compare two images: packages added, removed and upgraded (with the layer that brought each),
    vulnerabilities introduced, fixed and changed (the same vulnerability under any shared alias is one
    finding), secrets and image-config findings added and removed, the base image, the OS and the
    policy verdict (pass -> fail called out). The pull-request view of a rebuild.

    OLD and NEW are any targets `hullscan image` reads, each scanned as it scans them (the per-layer and
    whole-result caches included) against the same DB and judged by the same policy. With --exit-code N,
    exit N when NEW introduces a vulnerability, secret or image-config finding at or above --severity
    (any severity without it), or when the policy's verdict goes from pass to fail; else 0.
    JSON output: docs/diff.schema.json; docs/diff.md."""
    from hullscan.delta.compare import compare
    from hullscan.delta.gate import crossing
    from hullscan.policy.load import load_policy
    from hullscan.report.formats import write_output
    from hullscan.scan.wiring import build_service

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    threshold = severity_threshold(severity)
    collision = opt.exit_code_collision(exit_code)
    if collision and not quiet:
        print(f"hullscan: warning: {collision}", file=sys.stderr)
    gate_policy = load_policy(policy)  # a bad policy fails before either scan
    source = opt.source(platform, insecure, username, password_stdin)
    options = opt.scan_options(scanner_list=scanners, source_options=source, cache_dir=cache_dir, no_cache=no_cache,
                               db=db, secret_config=secret_config, skip=opt.skip_globs(skip_files, skip_dirs))
    progress = opt.progress(quiet)
    service = build_service(options, progress, opt.notice(quiet, progress))
    with opt.deadline(timeout):
        before = _scan(service, old, gate_policy, "old", quiet, progress is not None)
        after = _scan(service, new, gate_policy, "new", quiet, progress is not None)
    delta = compare(before, after)
    failed = crossing(delta, threshold)
    if fmt == "json":
        from hullscan.delta.document import to_dict
        from hullscan.report.json_report import render_dict

        data = render_dict(to_dict(delta, before, after, threshold=threshold, failed=failed))
    else:
        from hullscan.delta.table import render

        data = render(delta, before, after, threshold=threshold, failed=failed, gated=bool(exit_code),
                      colour=output in (None, "-")).encode()
    write_output(data, output)
    if exit_code and failed:
        raise SystemExit(exit_code)


def _scan(service: ScanService, target: str, policy: Policy, side: str, quiet: bool, progress: bool) -> Report:
    """One side scanned and judged; its warnings on stderr, named by side."""
    from hullscan.policy.gate import judge
    from hullscan.report.json_report import render_packages

    report = judge(service.scan(target, render_packages=render_packages), policy)
    if progress:
        print("\r\033[K", end="", file=sys.stderr)
    if not quiet:
        for w in report.warnings:
            layer = f"layer {w.layer}: " if w.layer is not None else ""
            path = f"{w.path}: " if w.path else ""
            print(f"hullscan: warning: {side} ({target}): {layer}{path}{w.message}", file=sys.stderr)
    return report


def severity_threshold(text: str | None) -> str | None:
    """`--severity`: a threshold, the lowest severity named (`HIGH` and Trivy's `HIGH,CRITICAL` alike mean
    HIGH and above); None when not given (every severity counts)."""
    from hullscan.model.findings import SEVERITY_RANK
    from hullscan.report.filters import parse_severities

    chosen = parse_severities(text)  # the same words and errors as elsewhere (exit 2)
    return min(chosen, key=SEVERITY_RANK.__getitem__) if chosen else None


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    cmd = add_command(subparsers, "diff", diff_cmd)
    cmd.add_argument("old", metavar="OLD", help="The image before (any target `hullscan image` reads).")
    cmd.add_argument("new", metavar="NEW", help="The image after.")
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db):
        add(cmd)
    opt.add_document_output(cmd, "diff.schema.json")
    gate = cmd.add_argument_group("gate")
    gate.add_argument("-s", "--severity", metavar="LEVEL",
                      help="The --exit-code threshold: NEW's new findings at or above this severity fail the gate "
                           "(CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, any case; a list such as HIGH,CRITICAL means its "
                           "lowest). Default: every severity.")
    gate.add_argument("--exit-code", type=opt.exit_code_value, default=0, metavar="N",
                      help="Exit with this code (0-255) when NEW introduces findings at or above --severity, or the "
                           "policy's verdict goes from pass to fail (default 0: never). 2-5 collide with the "
                           "documented error codes.")
    opt.add_policy(gate)
    opt.add_scan_limits(cmd)
