"""The gate of a delta (DESIGN.md "Gates": `diff`/`rescan` exit with `--exit-code` when something new
crosses the threshold): what the new side brings in at or above a severity, and a verdict that went
from pass to fail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.delta.model import at_or_above
from hullscan.policy.gate import label

if TYPE_CHECKING:
    from hullscan.delta.model import Delta


def crossing(delta: Delta, threshold: str | None) -> list[str]:
    """Why the gate fails (empty: it passes): each introduced live finding — vulnerability, secret,
    image-config finding — at or above `threshold` (None: any severity), labelled as the verdict labels
    findings; and `verdict: passed -> failed` when a policy judged the old side passing and the new failing.
    A finding the policy suppresses on the new side (VEX, an exception) never counts."""
    out = [label(s.finding) for s in delta.findings.introduced
           if not s.suppressed and at_or_above(s.finding.severity, threshold)]
    out += (label(s) for s in (*delta.secrets.added, *delta.misconfigurations.added) if at_or_above(s.severity, threshold))
    if delta.verdict.change == "pass_to_fail":
        out.append("verdict: passed -> failed")
    return out
