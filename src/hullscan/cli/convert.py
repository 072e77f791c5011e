"""`hullscan convert REPORT.json --format X`: option parsing, and the gate run again on a saved report
(the rendering is in report/convert.py, the judging in policy/gate.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.cli.main import add_command
from hullscan.cli.options import FORMATS, add_template, exit_code_collision, exit_code_value

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers
    from hullscan.model.report import Report


def convert_cmd(*, report: str, format: str, output: str | None, severity: str | None, ignore_unfixed: bool,  # noqa: A002
                template: str | None, exit_code: int, policy: str | None, ignorefile: str | None,
                vex: list[str] | None) -> None:
    """Re-render a saved JSON report in another format (losslessly: every format is rendered from it),
    and gate on it later: with --policy (or --ignorefile, --vex) the saved findings are judged again by
    that policy; --exit-code exits as a scan would (the saved verdict decides when it had a policy). Without
    --policy, --ignorefile, --vex or --exit-code it only renders: exit 0."""
    # the stages load here: `hullscan --help` imports this module to register `convert`
    import sys

    from hullscan.policy.gate import exit_code_for, judge
    from hullscan.report.convert import read_report
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.report.formats import write_output, writer

    render = writer(format.strip().lower(), template=template)
    shown = parse_severities(severity)
    collision = exit_code_collision(exit_code)
    if collision:
        print(f"hullscan: warning: {collision}", file=sys.stderr)
    gate_policy = None
    if policy or ignorefile or vex:
        from hullscan.policy.load import load_policy

        gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)  # a bad policy fails before reading
    saved = read_report(report)
    if gate_policy is not None:
        before = len(saved.warnings)
        saved = judge(unjudged(saved), gate_policy)
        for w in saved.warnings[before:]:
            print(f"hullscan: warning: {w.message}", file=sys.stderr)
    visible = apply_display_filters(saved, shown, ignore_unfixed) if shown is not None or ignore_unfixed else saved
    write_output(render(visible), output)
    if gate_policy is None and not exit_code:
        return  # a plain re-render gates nothing (as `trivy convert`): a pipeline may render a failed report
    code = exit_code_for(saved, visible, exit_code)
    if code:
        raise SystemExit(code)


def unjudged(report: Report) -> Report:
    """A saved report as the scan made it, before a policy judged it: the findings the saved verdict
    suppressed are findings again (the new policy decides about them), and no verdict."""
    from hullscan.model.findings import ConfigFinding, Finding, SecretFinding
    from hullscan.record import replace

    back = [s.finding for s in report.suppressed]
    return replace(
        report,
        vulnerabilities=(*report.vulnerabilities, *(f for f in back if isinstance(f, Finding))),
        secrets=(*report.secrets, *(f for f in back if isinstance(f, SecretFinding))),
        misconfigurations=(*report.misconfigurations, *(f for f in back if isinstance(f, ConfigFinding))),
        suppressed=(), verdict=None,
    )


def register(subparsers: Subparsers) -> None:
    convert = add_command(subparsers, "convert", convert_cmd)
    add = convert.add_argument
    add("report", help="A JSON report saved with --format json.")
    add("-f", "--format", required=True, help=f"Output format (any case): {FORMATS}.")
    add("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
    add_template(convert)
    add("-s", "--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).")
    add("--ignore-unfixed", action="store_true", help="Show only vulnerabilities with a fixed version.")
    add("--exit-code", type=exit_code_value, default=0, metavar="N",
        help="Exit with this code (0-255) when the gate fails: the policy's verdict (this --policy's, else the saved "
             "one's), or without a policy any finding left after the display filters.")
    add("--policy", metavar="FILE", help="Judge the saved findings again with this policy YAML (docs/policy.md).")
    add("--ignorefile", metavar="FILE", help="Judge again with this Trivy .trivyignore or .trivyignore.yaml.")
    add("--vex", action="append", metavar="FILE", help="Judge again with this VEX document (repeatable).")
