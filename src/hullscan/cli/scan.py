"""`hullscan image`, `hullscan fs`, `hullscan sbom`, `hullscan cache clean`: option parsing and printing only."""

from __future__ import annotations

import argparse
import sys

from hullscan.cli import registry as cli_registry
from hullscan.errors import EXIT_CODES_HELP, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from hullscan.cli.main import Subparsers

FORMATS_HELP = "table, json, cyclonedx, cyclonedx-xml, spdx-json, spdx, sarif, junit, html, openvex"
SCANNERS_HELP = "Comma-separated: vuln, secret, config, license (default vuln,secret)."
CACHE_DIR_HELP = "Per-layer cache directory (default: $XDG_CACHE_HOME/hullscan)."
SECRET_CONFIG_HELP = "Secret rules file (ours or Trivy's secret-config YAML): adds rules and allow rules, disables rule ids."


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    return lambda msg: print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)


def _scanners(text: str) -> frozenset[str]:
    from hullscan.scan.service import SCANNERS

    chosen = frozenset(s.strip() for s in text.split(",") if s.strip())
    bad = chosen - set(SCANNERS)
    if bad or not chosen:
        raise UsageError(f"--scanners: unknown {', '.join(sorted(bad)) or 'empty list'}; choose from {', '.join(SCANNERS)}")
    return chosen


def run_scan(
    target: str,
    *,
    fmt: str | None,
    output: str | None,
    scanners: str,
    platform: str | None,
    cache_dir: str | None,
    no_cache: bool,
    quiet: bool,
    exit_code: int,
    db: str | None = None,
    severity: str | None = None,
    ignore_unfixed: bool = False,
    pkg_types: str = "os,library",
    policy: str | None = None,
    ignorefile: str | None = None,
    vex: list[str] | None = None,
    secret_config: str | None = None,
    source: Any = None,
) -> None:
    from hullscan.image.model import Platform
    from hullscan.image.target import SourceOptions
    from hullscan.match.options import MatchOptions
    from hullscan.policy.gate import exit_code_for, judge_report
    from hullscan.policy.load import load_policy
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.report.formats import write_output, writer
    from hullscan.scan.service import ScanOptions, scan_report

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    render = writer(fmt)
    if fmt == "table" and output is None and sys.stdout.isatty():  # a table as wide as the terminal
        from hullscan.cli.main import terminal_width
        from hullscan.report.table import render as render_table

        width = max(60, terminal_width())
        render = lambda report: render_table(report, width=width)  # noqa: E731
    shown = parse_severities(severity)
    gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)  # a bad policy fails before the scan
    options = ScanOptions(
        db=db,
        secret_config=secret_config,
        match=MatchOptions(pkg_types=_pkg_types(pkg_types)),
        scanners=_scanners(scanners),
        source=source or SourceOptions(platform=Platform.parse(platform) if platform else None),
        cache_dir=cache_dir,
        use_cache=not no_cache,
        progress=_progress(quiet),
    )
    # JSON output of a cached result with no licence rule to judge: the packages pass through as JSON
    packages_json = fmt == "json" and gate_policy.rules.licenses is None
    scanned = scan_report(target, options, packages_json=packages_json)
    if options.progress:
        print("\r\033[K", end="", file=sys.stderr)
    report = judge_report(scanned, gate_policy)
    if not quiet:
        for w in report["warnings"]:
            layer = f"layer {w['layer']}: " if w.get("layer") is not None else ""
            path = f"{w['path']}: " if w.get("path") else ""
            print(f"hullscan: warning: {layer}{path}{w['message']}", file=sys.stderr)
    visible = apply_display_filters(report, shown, ignore_unfixed)
    write_output(render(visible), output)
    code = exit_code_for(report, visible, exit_code)
    if code:
        raise SystemExit(code)


def _pkg_types(text: str) -> frozenset[str]:
    chosen = frozenset(t.strip() for t in text.split(",") if t.strip())
    if not chosen or chosen - {"os", "library"}:
        raise UsageError("--pkg-types: choose from os, library")
    return chosen


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """The options every scanning command takes (image, fs, sbom), declared once: run_scan's keywords."""
    add = parser.add_argument
    add("-f", "--format", dest="fmt", metavar="FORMAT", help=f"Output format: {FORMATS_HELP}. Default: table on a terminal, else json.")
    add("-o", "--output", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
    add("-q", "--quiet", action="store_true", help="No progress and no warnings on stderr.")
    add("--exit-code", type=int, default=0, metavar="N",
        help="Exit with this code when findings remain after the display filters (default 0: the gate never fails).")
    add("--db", help="Vulnerability DB: a SQLite file or postgresql:// URL (default: $HULLSCAN_DB_URL, else the XDG data dir).")
    add("--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN). "
                           "Display only: the policy decides the exit code.")
    add("--ignore-unfixed", action="store_true", help="Show only vulnerabilities with a fixed version.")
    add("--pkg-types", default="os,library", help="Package types to match: os, library.")
    add("--policy", metavar="FILE",
        help="Policy YAML (default: ./.hullscan.yaml when present); its verdict decides the exit code. See docs/policy.md.")
    add("--ignorefile", metavar="FILE", help="Trivy .trivyignore or .trivyignore.yaml (default: those in the working directory).")
    add("--vex", action="append", metavar="FILE", help="OpenVEX, CycloneDX VEX or CSAF VEX document (repeatable).")


def image_cmd(*, target: str, scanners: str, platform: str | None, cache_dir: str | None, no_cache: bool,
              secret_config: str | None, insecure: bool, username: str | None, password_stdin: bool, **shared: Any) -> None:
    """Scan a container image, layer by layer."""
    run_scan(target, scanners=scanners, platform=platform, cache_dir=cache_dir, no_cache=no_cache,
             secret_config=secret_config, source=cli_registry.source_options(platform, insecure, username, password_stdin),
             **shared)


def fs_cmd(*, directory: str, scanners: str, secret_config: str | None, **shared: Any) -> None:
    """Scan a directory (a root filesystem or a project checkout) as one layer."""
    run_scan(f"dir:{directory}", scanners=scanners, platform=None, cache_dir=None, no_cache=True,
             secret_config=secret_config, **shared)


def sbom_cmd(*, path: str, **shared: Any) -> None:
    """Match the packages of an SBOM against the vulnerability DB, without the image."""
    run_scan(f"sbom:{path}", scanners="vuln", platform=None, cache_dir=None, no_cache=True, **shared)


def cache_clean_cmd(*, cache_dir: str | None) -> None:
    """Delete the per-layer cache."""
    from hullscan.cache.store import clean_cache

    d = clean_cache(cache_dir)
    print(f"cache cleaned: {d}")


def register_image(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    image = add_command(subparsers, "image", image_cmd, epilog=EXIT_CODES_HELP)
    image.add_argument("target", help="docker-archive:PATH, oci:PATH[:TAG|@DIGEST], oci-archive:PATH, dir:PATH, registry:REF, "
                                      "or a path / reference to detect.")
    image.add_argument("--scanners", default="vuln,secret", help=SCANNERS_HELP)
    image.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image.")
    image.add_argument("--cache-dir", metavar="DIR", help=CACHE_DIR_HELP)
    image.add_argument("--no-cache", action="store_true", help="Neither read nor write the per-layer cache.")
    image.add_argument("--secret-config", metavar="FILE", help=SECRET_CONFIG_HELP)
    cli_registry.add_credential_options(image)
    add_scan_options(image)


def register_fs(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    fs = add_command(subparsers, "fs", fs_cmd, epilog=EXIT_CODES_HELP)
    fs.add_argument("directory", help="A root filesystem or project directory.")
    fs.add_argument("--scanners", default="vuln,secret", help=SCANNERS_HELP)
    fs.add_argument("--secret-config", metavar="FILE", help=SECRET_CONFIG_HELP)
    add_scan_options(fs)


def register_sbom(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    sbom = add_command(subparsers, "sbom", sbom_cmd, epilog=EXIT_CODES_HELP)
    sbom.add_argument("path", help="A CycloneDX (JSON, XML) or SPDX (JSON, tag-value) SBOM: ours, Syft's, Trivy's…")
    add_scan_options(sbom)


def register_cache(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group

    cache = add_group(subparsers, "cache", "Manage the per-layer cache.")
    add_command(cache, "clean", cache_clean_cmd).add_argument("--cache-dir", metavar="DIR", help=CACHE_DIR_HELP)
