"""`hullscan image`, `hullscan fs`, `hullscan cache clean`: option parsing and printing only."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from collections.abc import Callable
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


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# Options every scanning command takes (image, fs, sbom), declared once.
SHARED_OPTIONS = [
    _option("format", Optional[str], typer.Option(None, "--format", "-f", help=f"Output format: {FORMATS_HELP}. Default: table on a terminal, else json.")),
    _option("output", Optional[str], typer.Option(None, "--output", "-o", help="Write the report to FILE (atomically) instead of stdout.")),
    _option("quiet", bool, typer.Option(False, "--quiet", "-q", help="No progress and no warnings on stderr.")),
    _option("exit_code", int, typer.Option(0, "--exit-code", help="Exit with this code when findings remain after the display filters (default 0: the gate never fails).")),
    _option("db", Optional[str], typer.Option(None, "--db", help="Vulnerability DB: a SQLite file or postgresql:// URL (default: $HULLSCAN_DB_URL, else the XDG data dir).")),
    _option("severity", Optional[str], typer.Option(None, "--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN). Display only: the policy decides the exit code.")),
    _option("ignore_unfixed", bool, typer.Option(False, "--ignore-unfixed", help="Show only vulnerabilities with a fixed version.")),
    _option("pkg_types", str, typer.Option("os,library", "--pkg-types", help="Package types to match: os, library.")),
    _option("policy", Optional[str], typer.Option(None, "--policy", help="Policy YAML (default: ./.hullscan.yaml when present); its verdict decides the exit code. See docs/policy.md.")),
    _option("ignorefile", Optional[str], typer.Option(None, "--ignorefile", help="Trivy .trivyignore or .trivyignore.yaml (default: those in the working directory).")),
    _option("vex", Optional[list[str]], typer.Option(None, "--vex", help="OpenVEX, CycloneDX VEX or CSAF VEX document (repeatable).")),
]


def _with_shared_options(fn: Callable[..., None]) -> Callable[..., None]:
    """Append SHARED_OPTIONS to fn's signature (typer reads `__signature__`); fn gets them in **shared."""
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fn.__signature__ = sig.replace(parameters=own + SHARED_OPTIONS)  # type: ignore[attr-defined]
    return fn


def _scan_options(shared: dict[str, Any]) -> dict[str, Any]:
    """The shared options as run_scan's keywords."""
    return {("fmt" if k == "format" else k): v for k, v in shared.items()}


def register(app: typer.Typer) -> None:
    scanners_opt = typer.Option("vuln,secret", "--scanners", help=SCANNERS_HELP)
    cache_opt = typer.Option(None, "--cache-dir", help="Per-layer cache directory (default: $XDG_CACHE_HOME/hullscan).")
    secret_cfg_opt = typer.Option(None, "--secret-config", help="Secret rules file (ours or Trivy's secret-config YAML): adds rules and allow rules, disables rule ids.")

    @app.command("image", epilog=EXIT_CODES_HELP)
    @_with_shared_options
    def image_cmd(
        target: str = typer.Argument(..., help="docker-archive:PATH, oci:PATH[:TAG|@DIGEST], oci-archive:PATH, dir:PATH, registry:REF, or a path / reference to detect."),
        scanners: str = scanners_opt,
        platform: Optional[str] = typer.Option(None, "--platform", help="os/arch[/variant] to pick from a multi-platform image."),
        cache_dir: Optional[Path] = cache_opt,
        no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the per-layer cache."),
        secret_config: Optional[str] = secret_cfg_opt,
        insecure: bool = typer.Option(False, "--insecure", help=cli_registry.INSECURE_HELP),
        username: Optional[str] = typer.Option(None, "--username", help=cli_registry.USERNAME_HELP),
        password_stdin: bool = typer.Option(False, "--password-stdin", help=cli_registry.PASSWORD_STDIN_HELP),
        **shared: Any,
    ) -> None:
        """Scan a container image, layer by layer."""
        run_scan(target, scanners=scanners, platform=platform, cache_dir=cache_dir, no_cache=no_cache,
                 secret_config=secret_config, source=cli_registry.source_options(platform, insecure, username, password_stdin),
                 **_scan_options(shared))

    @app.command("fs", epilog=EXIT_CODES_HELP)
    @_with_shared_options
    def fs_cmd(
        directory: str = typer.Argument(..., help="A root filesystem or project directory."),
        scanners: str = scanners_opt,
        secret_config: Optional[str] = secret_cfg_opt,
        **shared: Any,
    ) -> None:
        """Scan a directory (a root filesystem or a project checkout) as one layer."""
        run_scan(f"dir:{directory}", scanners=scanners, platform=None, cache_dir=None, no_cache=True,
                 secret_config=secret_config, **_scan_options(shared))

    @app.command("sbom", epilog=EXIT_CODES_HELP)
    @_with_shared_options
    def sbom_cmd(
        path: str = typer.Argument(..., help="A CycloneDX (JSON, XML) or SPDX (JSON, tag-value) SBOM: ours, Syft's, Trivy's…"),
        **shared: Any,
    ) -> None:
        """Match the packages of an SBOM against the vulnerability DB, without the image."""
        run_scan(f"sbom:{path}", scanners="vuln", platform=None, cache_dir=None, no_cache=True, **_scan_options(shared))

    cache_app = typer.Typer(help="Manage the per-layer cache.", no_args_is_help=True)

    @cache_app.command("clean")
    def cache_clean(cache_dir: Optional[Path] = cache_opt) -> None:
        """Delete the per-layer cache."""
        from hullscan.cache import clean_cache

        d = clean_cache(cache_dir)
        typer.echo(f"cache cleaned: {d}")

    app.add_typer(cache_app, name="cache")
