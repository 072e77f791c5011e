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
    ) -> None:
        """Re-render a saved JSON report in another format (losslessly: every format is rendered from it)."""
        from hullscan.report.convert import convert
        from hullscan.report.formats import write_output

        write_output(convert(report, format), output)
