"""`hullscan convert REPORT.json --format X`: option parsing only (the work is in report/convert.py)."""

from __future__ import annotations

from typing import Optional

import typer

from hullscan.cli_scan import FORMATS_HELP


def register(app: typer.Typer) -> None:
    @app.command("convert")
    def convert_cmd(
        report: str = typer.Argument(..., help="A JSON report saved with --format json."),
        format: str = typer.Option(..., "--format", "-f", help=f"Output format: {FORMATS_HELP}."),
        output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE (atomically) instead of stdout."),
        severity: Optional[str] = typer.Option(None, "--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)."),
        ignore_unfixed: bool = typer.Option(False, "--ignore-unfixed", help="Show only vulnerabilities with a fixed version."),
    ) -> None:
        """Re-render a saved JSON report in another format (losslessly: every format is rendered from it)."""
        from hullscan.report.convert import load_report
        from hullscan.report.filters import apply_display_filters, parse_severities
        from hullscan.report.formats import write_output, writer

        render = writer(format)
        shown = parse_severities(severity)
        data = load_report(report)
        if shown is not None or ignore_unfixed:
            data = apply_display_filters(data, shown, ignore_unfixed)
        write_output(render(data), output)
