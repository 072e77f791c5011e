"""`hullscan plan TARGET`: scan as `hullscan image` does (the same option groups, the result cache
included), advise on the base, judge with the policy (risk scores), and print the fix plan (plan/build.py);
`with_plan` is also `hullscan image --plan`'s."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hullscan.cli import options as opt
from hullscan.errors import UsageError

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers
    from hullscan.model.report import Report
    from hullscan.scan.options import ScanOptions


def with_plan(scanned: Report, judged: Report, options: ScanOptions, state: str | None) -> Report:
    """`judged` with its fix plan, made from its findings (risk set, suppressed ones gone) and the base
    advice: the report's own (`--base-advice`), else computed as `--base-advice` computes it (scan/advice.py)
    from `scanned`, the report before the policy, without adding it to the report."""
    from hullscan.plan.build import build
    from hullscan.record import replace

    advice = judged.base_advice
    if advice is None:
        from hullscan.scan.advice import compute, to_model

        advice = to_model(compute(scanned, options, state))
    return replace(judged, plan=build(judged.vulnerabilities, advice))


def plan_cmd(*, target: str, scanners: str, secret_config: str | None, platform: str | None, insecure: bool,
             username: str | None, password_stdin: bool, cache_dir: str | None, no_cache: bool, db: str | None,
             pkg_types: str, skip_files: list[str] | None, skip_dirs: list[str] | None, timeout: float | None,
             fmt: str | None, output: str | None, quiet: bool, policy: str | None, ignorefile: str | None,
             vex: list[str] | None, state: str | None) -> None:
    """Plan the fix: the fewest upgrades that remove the most risk.

    TARGET is any target `hullscan image` reads, scanned as it scans it. For each vulnerable package, the
    smallest version that fixes all its findings (in its ecosystem's version scheme, from the DB's fixed
    versions), grouped by the layer and history instruction that installed it; a move to another catalogued
    base image when the base advice finds one that removes inherited findings (`hullscan base add`); the
    changes ranked by the risk each removes (policy/risk.py scores), with the risk left after each.
    Vulnerabilities without a fix are listed with their status. The policy (--policy, --vex, --ignorefile)
    suppresses findings as in `hullscan image`; the plan never gates (exit 0).
    JSON output: docs/plan.schema.json; docs/plan.md."""
    from hullscan.policy.gate import judge
    from hullscan.policy.load import load_policy
    from hullscan.report.formats import write_output
    from hullscan.report.json_report import render_packages
    from hullscan.scan.wiring import build_service

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    options = opt.scan_options(scanner_list=scanners, source_options=opt.source(platform, insecure, username,
                                                                                password_stdin),
                               cache_dir=cache_dir, no_cache=no_cache, db=db, secret_config=secret_config,
                               pkg_type_list=pkg_types, skip=opt.skip_globs(skip_files, skip_dirs))
    if "vuln" not in options.scanners:
        raise UsageError("hullscan plan needs the vuln scanner (--scanners vuln,...): it plans the fix of vulnerabilities")
    gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)  # a bad policy fails before the scan
    progress = opt.progress(quiet)
    with opt.deadline(timeout):
        service = build_service(options, progress, opt.notice(quiet, progress))
        scanned = service.scan(target, render_packages=render_packages)
        report = with_plan(scanned, judge(scanned, gate_policy), options, state)
    if progress:
        print("\r\033[K", end="", file=sys.stderr)
    if not quiet:
        for w in report.warnings:
            layer = f"layer {w.layer}: " if w.layer is not None else ""
            path = f"{w.path}: " if w.path else ""
            print(f"hullscan: warning: {layer}{path}{w.message}", file=sys.stderr)
    if fmt == "json":
        from hullscan.report.json_report import render_dict
        from hullscan.report.plan import document

        data = render_dict(document(report))
    else:
        from hullscan.report.boxes import terminal_columns
        from hullscan.report.plan import table_lines
        from hullscan.report.table import image_name

        width = terminal_columns()
        title = f"{image_name(report.target)}"
        assert report.plan is not None
        data = ("\n".join([title, "=" * min(width, len(title)), *table_lines(report.plan, width)]) + "\n").encode()
    write_output(data, output)


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    cmd = add_command(subparsers, "plan", plan_cmd)
    cmd.add_argument("target", metavar="TARGET", help="Any target `hullscan image` reads.")
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db):
        add(cmd)
    opt.add_document_output(cmd, "plan.schema.json")
    judged = cmd.add_argument_group("matching and policy")
    opt.add_pkg_types(judged)
    opt.add_policy(judged)
    opt.add_suppressions(judged)
    cmd.add_argument("--state", metavar="URL", help=opt.STATE_HELP + " The base catalog the base bump comes from.")
    opt.add_scan_limits(cmd)
