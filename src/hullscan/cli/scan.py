"""`hullscan image`, `hullscan fs`, `hullscan sbom`, `hullscan cache clean`: option parsing and printing only."""

from __future__ import annotations

import sys

from hullscan.cli import options as opt
from hullscan.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any

    from hullscan.cli.main import Subparsers
    from hullscan.scan.options import ScanOptions


def run_scan(target: str, options: ScanOptions, *, fmt: str | None, output: str | None, quiet: bool, exit_code: int,
             severity: str | None, ignore_unfixed: bool, policy: str | None, ignorefile: str | None,
             vex: list[str] | None, template: str | None = None, no_progress: bool = False,
             show_suppressed: bool = False, timeout: float | None = None, base_advice: bool = False,
             exit_on_eol: int = 0, store: bool = False, state: str | None = None, plan: bool = False,
             vex_reachability: bool = False, scan: Any = None) -> None:
    """Scan, (with --base-advice) advise on the base, judge, filter for display, write; exit with the gate's
    code. The --timeout deadline covers everything but the writing: a report is written whole or not at all.
    `scan(service)`, when given, makes the report instead of `service.scan(target)` (`hullscan container`)."""
    from hullscan.policy.gate import exit_code_for, judge
    from hullscan.policy.load import load_policy
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.report.formats import write_output, writer
    from hullscan.report.json_report import render_packages
    from hullscan.scan.wiring import build_service

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    fmt = fmt.strip().lower()  # `--format JSON`, as Trivy takes it
    render = writer(fmt, template=template)  # --format template without --template (or the reverse) is exit 2
    if fmt == "table":  # as wide as COLUMNS or the terminal; colour only there; -q: warnings counted, not printed
        from hullscan.report.table import render as render_table
        render = lambda report: render_table(report, colour=output in (None, "-"), quiet=quiet,  # noqa: E731
                                             show_suppressed=show_suppressed)
    if vex_reachability:
        if fmt != "openvex":
            raise UsageError("--vex-reachability goes with --format openvex")
        from hullscan.report.openvex import render as render_vex
        render = lambda report: render_vex(report, reachability=True)  # noqa: E731
    if plan and "vuln" not in options.scanners:
        raise UsageError("--plan needs the vuln scanner (--scanners vuln,...): it plans the fix of vulnerabilities")
    if base_advice and "vuln" not in options.scanners:
        raise UsageError("--base-advice needs the vuln scanner (--scanners vuln,...): advice ranks bases by the "
                         "inherited vulnerabilities they remove")
    for collision in (opt.exit_code_collision(exit_code), opt.exit_code_collision(exit_on_eol, "--exit-on-eol")):
        if collision and not quiet:
            print(f"hullscan: warning: {collision}", file=sys.stderr)
    shown = parse_severities(severity)
    gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)  # a bad policy fails before the scan
    progress = opt.progress(quiet or no_progress)
    notice = opt.notice(quiet, progress)
    with opt.deadline(timeout):
        service = build_service(options, progress, notice)
        if state is not None:  # `stored:` targets are read from --state
            from hullscan.state.store import open_state

            service.open_state = lambda: open_state(state)
        scanned = scan(service) if scan is not None else service.scan(target, render_packages=render_packages)
        if base_advice:  # after the scan, never cached with it: the flag's absence costs nothing
            from hullscan.scan.advice import with_advice

            scanned = with_advice(scanned, options)
        if progress:
            print("\r\033[K", end="", file=sys.stderr)
        report = judge(scanned, gate_policy)
        if plan:  # after the policy (risk scores, suppressions), never cached: the flag's absence costs nothing
            from hullscan.cli.plan import with_plan

            report = with_plan(scanned, report, options, state)
        if store:  # after the scan, before the output: a store that fails is exit 2/3 with nothing written
            _store(scanned, gate_policy, state, quiet)
    if notice is not None and not report.packages and {"vuln", "license"} & set(report.scanners):
        notice("0 packages found")
    if not quiet:
        for w in report.warnings:
            layer = f"layer {w.layer}: " if w.layer is not None else ""
            path = f"{w.path}: " if w.path else ""
            print(f"hullscan: warning: {layer}{path}{w.message}", file=sys.stderr)
    visible = apply_display_filters(report, shown, ignore_unfixed)
    write_output(render(visible), output)
    code = exit_code_for(report, visible, exit_code, exit_on_eol)
    if code:
        raise SystemExit(code)


def _store(report: Any, policy: Any, state: str | None, quiet: bool) -> None:
    """`--store`: the scanned image's inventory into the state store (state/inventories.py)."""
    from hullscan.state.inventories import store_report
    from hullscan.state.store import open_state

    with open_state(state) as st:
        done = store_report(st, report, policy)
    if not quiet:
        how = "stored" if done.new else "updated stored"
        print(f"hullscan: info: {how} inventory stored:{done.key} ({done.layers_written} layers written, "
              f"{done.layers_shared} shared)", file=sys.stderr)


def image_cmd(*, target: str | None, input: str | None, scanners: str, secret_config: str | None,  # noqa: A002
              platform: str | None, insecure: bool, username: str | None, password_stdin: bool, cache_dir: str | None,
              no_cache: bool, db: str | None, pkg_types: str, skip_files: list[str] | None, skip_dirs: list[str] | None,
              download_db_only: bool, import_reachability: bool = False, **gate: Any) -> None:
    """Scan a container image, layer by layer."""
    if download_db_only:
        return _download_db(db)
    source = opt.source(platform, insecure, username, password_stdin)
    run_scan(opt.image_target(target, input),
             opt.scan_options(scanner_list=scanners, source_options=source, cache_dir=cache_dir, no_cache=no_cache, db=db,
                              secret_config=secret_config, pkg_type_list=pkg_types,
                              skip=opt.skip_globs(skip_files, skip_dirs), import_reachability=import_reachability),
             **gate)


def fs_cmd(*, directory: str | None, scanners: str, secret_config: str | None, db: str | None, pkg_types: str,
           skip_files: list[str] | None, skip_dirs: list[str] | None, download_db_only: bool, **gate: Any) -> None:
    """Scan a directory (a root filesystem or a project checkout) as one layer. Like Trivy, every `.git`
    directory in it is skipped (with --skip-dirs, more)."""
    if download_db_only:
        return _download_db(db)
    if not directory:
        raise UsageError("no directory given (hullscan fs DIR)")
    skip = opt.skip_globs(skip_files, skip_dirs, default_dirs=FS_SKIP_DIRS)
    run_scan(f"dir:{directory}", opt.scan_options(scanner_list=scanners, no_cache=True, db=db, secret_config=secret_config,
                                                  pkg_type_list=pkg_types, skip=skip), **gate)


FS_SKIP_DIRS = ("**/.git",)
"""What `hullscan fs` skips unasked, as Trivy's filesystem walker does."""


def sbom_cmd(*, path: str | None, db: str | None, pkg_types: str, download_db_only: bool, **gate: Any) -> None:
    """Match the packages of an SBOM against the vulnerability DB, without the image."""
    if download_db_only:
        return _download_db(db)
    if not path:
        raise UsageError("no SBOM given (hullscan sbom FILE)")
    run_scan(f"sbom:{path}", opt.scan_options(scanner_list="vuln", no_cache=True, db=db, pkg_type_list=pkg_types),
             **gate)


def _download_db(db: str | None) -> None:
    """Trivy's --download-db-only: what `hullscan db update --db DB` does, then exit."""
    from hullscan.cli.db import update_cmd

    update_cmd(feed=None, feed_url=None, rebuild=False, db=db)


def cache_clean_cmd(*, cache_dir: str | None) -> None:
    """Delete the per-layer cache."""
    from hullscan.cache.store import clean_cache

    print(f"cache cleaned: {clean_cache(cache_dir)}")


def register_image(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    image = add_command(subparsers, "image", image_cmd)
    image.add_argument("target", nargs="?", help="docker-archive:PATH, oci:PATH[:TAG|@DIGEST], oci-archive:PATH, dir:PATH, "
                                                 "registry:REF, or a path / reference to detect (or --input FILE).")
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db, opt.add_output, opt.add_gate,
                opt.add_scan_limits, opt.add_base_advice, opt.add_plan, opt.add_store, opt.add_import_reachability):
        add(image)
    opt.add_trivy(image, input_file=True)


def register_fs(subparsers: Subparsers, name: str = "fs") -> None:
    from hullscan.cli.main import add_command

    fs = add_command(subparsers, name, fs_cmd)
    fs.add_argument("directory", nargs="?", help="A root filesystem or project directory.")
    for add in (opt.add_scanners, opt.add_db, opt.add_output, opt.add_gate, opt.add_scan_limits, opt.add_trivy):
        add(fs)


def register_rootfs(subparsers: Subparsers) -> None:
    """Trivy's `rootfs` (a root filesystem, e.g. `/` inside a container): hullscan's `fs` under its name."""
    register_fs(subparsers, "rootfs")


def register_sbom(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    sbom = add_command(subparsers, "sbom", sbom_cmd)
    sbom.add_argument("path", nargs="?", help="A CycloneDX (JSON, XML) or SPDX (JSON, tag-value) SBOM: ours, Syft's, "
                                              "Trivy's…")
    for add in (opt.add_db, opt.add_output, opt.add_gate, opt.add_trivy):
        add(sbom)
    opt.add_scan_limits(sbom, skip=False)


def register_cache(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group

    cache = add_group(subparsers, "cache", "Manage the per-layer cache.")
    opt.add_cache_dir(add_command(cache, "clean", cache_clean_cmd))
