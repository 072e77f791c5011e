"""`hullscan image`, `hullscan fs`, `hullscan sbom`, `hullscan cache clean`: option parsing and printing only."""

from __future__ import annotations

import sys

from hullscan.cli import options as opt

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any

    from hullscan.cli.main import Subparsers
    from hullscan.scan.options import ScanOptions


def run_scan(target: str, options: ScanOptions, *, fmt: str | None, output: str | None, quiet: bool, exit_code: int,
             severity: str | None, ignore_unfixed: bool, policy: str | None, ignorefile: str | None,
             vex: list[str] | None) -> None:
    """Scan, judge, filter for display, write; exit with the gate's code."""
    from hullscan.policy.gate import exit_code_for, judge
    from hullscan.policy.load import load_policy
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.report.formats import write_output, writer
    from hullscan.report.json_report import render_packages
    from hullscan.scan.wiring import build_service

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    render = writer(fmt)
    if fmt == "table" and output is None and sys.stdout.isatty():  # a table as wide as the terminal
        from hullscan.cli.main import terminal_width
        from hullscan.report.table import render as render_table

        width = max(60, terminal_width())
        render = lambda report: render_table(report, width=width)  # noqa: E731
    collision = opt.exit_code_collision(exit_code)
    if collision and not quiet:
        print(f"hullscan: warning: {collision}", file=sys.stderr)
    shown = parse_severities(severity)
    gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)  # a bad policy fails before the scan
    progress = opt.progress(quiet)
    scanned = build_service(options, progress).scan(target, render_packages=render_packages)
    if progress:
        print("\r\033[K", end="", file=sys.stderr)
    report = judge(scanned, gate_policy)
    if not quiet:
        for w in report.warnings:
            layer = f"layer {w.layer}: " if w.layer is not None else ""
            path = f"{w.path}: " if w.path else ""
            print(f"hullscan: warning: {layer}{path}{w.message}", file=sys.stderr)
    visible = apply_display_filters(report, shown, ignore_unfixed)
    write_output(render(visible), output)
    code = exit_code_for(report, visible, exit_code)
    if code:
        raise SystemExit(code)


def image_cmd(*, target: str, scanners: str, secret_config: str | None, platform: str | None, insecure: bool,
              username: str | None, password_stdin: bool, cache_dir: str | None, no_cache: bool, db: str | None,
              pkg_types: str, **gate: Any) -> None:
    """Scan a container image, layer by layer."""
    source = opt.source(platform, insecure, username, password_stdin)
    run_scan(target, opt.scan_options(scanner_list=scanners, source_options=source, cache_dir=cache_dir, no_cache=no_cache,
                                      db=db, secret_config=secret_config, pkg_type_list=pkg_types), **gate)


def fs_cmd(*, directory: str, scanners: str, secret_config: str | None, db: str | None, pkg_types: str,
           **gate: Any) -> None:
    """Scan a directory (a root filesystem or a project checkout) as one layer."""
    run_scan(f"dir:{directory}", opt.scan_options(scanner_list=scanners, no_cache=True, db=db, secret_config=secret_config,
                                                  pkg_type_list=pkg_types), **gate)


def sbom_cmd(*, path: str, db: str | None, pkg_types: str, **gate: Any) -> None:
    """Match the packages of an SBOM against the vulnerability DB, without the image."""
    run_scan(f"sbom:{path}", opt.scan_options(scanner_list="vuln", no_cache=True, db=db, pkg_type_list=pkg_types),
             **gate)


def cache_clean_cmd(*, cache_dir: str | None) -> None:
    """Delete the per-layer cache."""
    from hullscan.cache.store import clean_cache

    print(f"cache cleaned: {clean_cache(cache_dir)}")


def register_image(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    image = add_command(subparsers, "image", image_cmd)
    image.add_argument("target", help="docker-archive:PATH, oci:PATH[:TAG|@DIGEST], oci-archive:PATH, dir:PATH, "
                                      "registry:REF, or a path / reference to detect.")
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db, opt.add_output, opt.add_gate):
        add(image)


def register_fs(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    fs = add_command(subparsers, "fs", fs_cmd)
    fs.add_argument("directory", help="A root filesystem or project directory.")
    for add in (opt.add_scanners, opt.add_db, opt.add_output, opt.add_gate):
        add(fs)


def register_sbom(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    sbom = add_command(subparsers, "sbom", sbom_cmd)
    sbom.add_argument("path", help="A CycloneDX (JSON, XML) or SPDX (JSON, tag-value) SBOM: ours, Syft's, Trivy's…")
    for add in (opt.add_db, opt.add_output, opt.add_gate):
        add(sbom)


def register_cache(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group

    cache = add_group(subparsers, "cache", "Manage the per-layer cache.")
    opt.add_cache_dir(add_command(cache, "clean", cache_clean_cmd))
