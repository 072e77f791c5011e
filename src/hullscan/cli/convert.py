"""`hullscan convert REPORT.json --format X`: option parsing only (the work is in report/convert.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.cli.main import add_command
from hullscan.cli.options import FORMATS

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers


def convert_cmd(*, report: str, format: str, output: str | None, severity: str | None, ignore_unfixed: bool) -> None:
    """Re-render a saved JSON report in another format (losslessly: every format is rendered from it)."""
    # the stages load here: `hullscan --help` imports this module to register `convert`
    from hullscan.report.convert import read_report
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.report.formats import write_output, writer

    render = writer(format)
    shown = parse_severities(severity)
    saved = read_report(report)
    if shown is not None or ignore_unfixed:
        saved = apply_display_filters(saved, shown, ignore_unfixed)
    write_output(render(saved), output)


def register(subparsers: Subparsers) -> None:
    convert = add_command(subparsers, "convert", convert_cmd)
    add = convert.add_argument
    add("report", help="A JSON report saved with --format json.")
    add("-f", "--format", required=True, help=f"Output format: {FORMATS}.")
    add("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
    add("--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).")
    add("--ignore-unfixed", action="store_true", help="Show only vulnerabilities with a fixed version.")
