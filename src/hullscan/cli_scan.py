"""`hullscan image`, `hullscan fs`, `hullscan cache clean`: option parsing and printing only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from hullscan import cli_registry

from hullscan.errors import EXIT_CODES_HELP, UsageError

FORMATS_HELP = "table, json, cyclonedx, cyclonedx-xml, spdx-json, spdx, sarif, junit, html, openvex"
SCANNERS_HELP = "Comma-separated: vuln, secret, config, license (default vuln,secret)."


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    return lambda msg: print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)


def _scanners(text: str) -> frozenset[str]:
    from hullscan.scan import SCANNERS

    chosen = frozenset(s.strip() for s in text.split(",") if s.strip())
    bad = chosen - set(SCANNERS)
    if bad or not chosen:
        raise UsageError(f"--scanners: unknown {', '.join(sorted(bad)) or 'empty list'}; choose from {', '.join(SCANNERS)}")
    return chosen


def run_scan(
    target: str,
    *,
    fmt: Optional[str],
    output: Optional[str],
    scanners: str,
    platform: Optional[str],
    cache_dir: Optional[Path],
    no_cache: bool,
    quiet: bool,
    exit_code: int,
    db: Optional[str] = None,
    severity: Optional[str] = None,
    ignore_unfixed: bool = False,
    pkg_types: str = "os,library",
    policy: Optional[str] = None,
    ignorefile: Optional[str] = None,
    vex: Optional[list[str]] = None,
    secret_config: Optional[str] = None,
    source: Any = None,
) -> None:
    from hullscan.image.model import Platform
    from hullscan.policy.gate import exit_code_for, judge_report
    from hullscan.policy.load import load_policy
    from hullscan.match.matcher import MatchOptions
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.image.target import SourceOptions
    from hullscan.report.formats import write_output, writer
    from hullscan.report.json_report import build_report
    from hullscan.scan import ScanOptions, scan_target

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    render = writer(fmt)
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
    result = scan_target(target, options)
    if options.progress:
        print("\r\033[K", end="", file=sys.stderr)
    report = judge_report(build_report(result), gate_policy)
    if not quiet:
        for w in report["warnings"]:
            layer = f"layer {w['layer']}: " if w.get("layer") is not None else ""
            path = f"{w['path']}: " if w.get("path") else ""
            print(f"hullscan: warning: {layer}{path}{w['message']}", file=sys.stderr)
    visible = apply_display_filters(report, shown, ignore_unfixed)
    write_output(render(visible), output)
    code = exit_code_for(report, visible, exit_code)
    if code:
        raise typer.Exit(code)


def _pkg_types(text: str) -> frozenset[str]:
    chosen = frozenset(t.strip() for t in text.split(",") if t.strip())
    if not chosen or chosen - {"os", "library"}:
        raise UsageError("--pkg-types: choose from os, library")
    return chosen


def register(app: typer.Typer) -> None:
    fmt_opt = typer.Option(None, "--format", "-f", help=f"Output format: {FORMATS_HELP}. Default: table on a terminal, else json.")
    out_opt = typer.Option(None, "--output", "-o", help="Write the report to FILE (atomically) instead of stdout.")
    scanners_opt = typer.Option("vuln,secret", "--scanners", help=SCANNERS_HELP)
    cache_opt = typer.Option(None, "--cache-dir", help="Per-layer cache directory (default: $XDG_CACHE_HOME/hullscan).")
    nocache_opt = typer.Option(False, "--no-cache", help="Neither read nor write the per-layer cache.")
    quiet_opt = typer.Option(False, "--quiet", "-q", help="No progress and no warnings on stderr.")
    exit_opt = typer.Option(0, "--exit-code", help="Exit with this code when findings remain after the display filters (default 0: the gate never fails).")
    db_opt = typer.Option(None, "--db", help="Vulnerability DB: a SQLite file or postgresql:// URL (default: $HULLSCAN_DB_URL, else the XDG data dir).")
    sev_opt = typer.Option(None, "--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN). Display only: the policy decides the exit code.")
    unfixed_opt = typer.Option(False, "--ignore-unfixed", help="Show only vulnerabilities with a fixed version.")
    types_opt = typer.Option("os,library", "--pkg-types", help="Package types to match: os, library.")
    policy_opt = typer.Option(None, "--policy", help="Policy YAML (default: ./.hullscan.yaml when present); its verdict decides the exit code. See docs/policy.md.")
    ignore_opt = typer.Option(None, "--ignorefile", help="Trivy .trivyignore or .trivyignore.yaml (default: those in the working directory).")
    vex_opt = typer.Option(None, "--vex", help="OpenVEX, CycloneDX VEX or CSAF VEX document (repeatable).")
    secret_cfg_opt = typer.Option(None, "--secret-config", help="Secret rules file (ours or Trivy's secret-config YAML): adds rules and allow rules, disables rule ids.")

    @app.command("image", epilog=EXIT_CODES_HELP)
    def image_cmd(
        target: str = typer.Argument(..., help="docker-archive:PATH, oci:PATH[:TAG|@DIGEST], oci-archive:PATH, dir:PATH, registry:REF, or a path / reference to detect."),
        format: Optional[str] = fmt_opt,
        output: Optional[str] = out_opt,
        scanners: str = scanners_opt,
        platform: Optional[str] = typer.Option(None, "--platform", help="os/arch[/variant] to pick from a multi-platform image."),
        cache_dir: Optional[Path] = cache_opt,
        no_cache: bool = nocache_opt,
        quiet: bool = quiet_opt,
        exit_code: int = exit_opt,
        db: Optional[str] = db_opt,
        severity: Optional[str] = sev_opt,
        ignore_unfixed: bool = unfixed_opt,
        pkg_types: str = types_opt,
        policy: Optional[str] = policy_opt,
        ignorefile: Optional[str] = ignore_opt,
        vex: Optional[list[str]] = vex_opt,
        secret_config: Optional[str] = secret_cfg_opt,
        insecure: bool = typer.Option(False, "--insecure", help=cli_registry.INSECURE_HELP),
        username: Optional[str] = typer.Option(None, "--username", help=cli_registry.USERNAME_HELP),
        password_stdin: bool = typer.Option(False, "--password-stdin", help=cli_registry.PASSWORD_STDIN_HELP),
    ) -> None:
        """Scan a container image, layer by layer."""
        run_scan(target, fmt=format, output=output, scanners=scanners, platform=platform,
                 cache_dir=cache_dir, no_cache=no_cache, quiet=quiet, exit_code=exit_code,
                 db=db, severity=severity, ignore_unfixed=ignore_unfixed, pkg_types=pkg_types,
                 policy=policy, ignorefile=ignorefile, vex=vex, secret_config=secret_config,
                 source=cli_registry.source_options(platform, insecure, username, password_stdin))

    @app.command("fs", epilog=EXIT_CODES_HELP)
    def fs_cmd(
        directory: str = typer.Argument(..., help="A root filesystem or project directory."),
        format: Optional[str] = fmt_opt,
        output: Optional[str] = out_opt,
        scanners: str = scanners_opt,
        quiet: bool = quiet_opt,
        exit_code: int = exit_opt,
        db: Optional[str] = db_opt,
        severity: Optional[str] = sev_opt,
        ignore_unfixed: bool = unfixed_opt,
        pkg_types: str = types_opt,
        policy: Optional[str] = policy_opt,
        ignorefile: Optional[str] = ignore_opt,
        vex: Optional[list[str]] = vex_opt,
        secret_config: Optional[str] = secret_cfg_opt,
    ) -> None:
        """Scan a directory (a root filesystem or a project checkout) as one layer."""
        run_scan(f"dir:{directory}", fmt=format, output=output, scanners=scanners, platform=None,
                 cache_dir=None, no_cache=True, quiet=quiet, exit_code=exit_code,
                 db=db, severity=severity, ignore_unfixed=ignore_unfixed, pkg_types=pkg_types,
                 policy=policy, ignorefile=ignorefile, vex=vex, secret_config=secret_config)

    @app.command("sbom", epilog=EXIT_CODES_HELP)
    def sbom_cmd(
        path: str = typer.Argument(..., help="A CycloneDX (JSON, XML) or SPDX (JSON, tag-value) SBOM: ours, Syft's, Trivy's…"),
        format: Optional[str] = fmt_opt,
        output: Optional[str] = out_opt,
        quiet: bool = quiet_opt,
        exit_code: int = exit_opt,
        db: Optional[str] = db_opt,
        severity: Optional[str] = sev_opt,
        ignore_unfixed: bool = unfixed_opt,
        pkg_types: str = types_opt,
        policy: Optional[str] = policy_opt,
        ignorefile: Optional[str] = ignore_opt,
        vex: Optional[list[str]] = vex_opt,
    ) -> None:
        """Match the packages of an SBOM against the vulnerability DB, without the image."""
        run_scan(f"sbom:{path}", fmt=format, output=output, scanners="vuln", platform=None,
                 cache_dir=None, no_cache=True, quiet=quiet, exit_code=exit_code,
                 db=db, severity=severity, ignore_unfixed=ignore_unfixed, pkg_types=pkg_types,
                 policy=policy, ignorefile=ignorefile, vex=vex)

    cache_app = typer.Typer(help="Manage the per-layer cache.", no_args_is_help=True)

    @cache_app.command("clean")
    def cache_clean(cache_dir: Optional[Path] = cache_opt) -> None:
        """Delete the per-layer cache."""
        from hullscan.cache import clean_cache

        d = clean_cache(cache_dir)
        typer.echo(f"cache cleaned: {d}")

    app.add_typer(cache_app, name="cache")
