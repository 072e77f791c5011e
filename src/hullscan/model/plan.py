"""The fix plan (`hullscan plan`, `hullscan image --plan`): the fewest upgrades that remove the most risk.

Built by plan/build.py from a judged report's findings (their risk scores) and the base advice; rendered by
report/plan.py. Never part of a cached result: it is computed after the scan and the policy, only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullscan.record import record

if TYPE_CHECKING:
    from hullscan.model.inventory import LayerRef
    from hullscan.model.report import AdviceFinding


@record(frozen=True)
class PlanFinding:
    """A vulnerability as the plan lists it: what a step removes, or what no step can."""

    id: str
    package: str
    """The package's name (the binary package for an OS package)."""
    version: str
    """Installed."""
    severity: str
    status: str
    """The vendor status (model.findings.STATUSES): `fixed` for what a step removes by an upgrade."""
    fixed_version: str
    """'' when there is no fix."""
    risk: float
    """The finding's risk score (policy/risk.py)."""
    inherited: bool | None = None
    layer: int | None = None
    """The index of the layer that introduced the package."""


@record(frozen=True)
class PlanStep:
    """One change: upgrade one package (the binaries of one OS source package, or every copy of one
    language package, in one layer) to `target`, or move to another base image."""

    rank: int
    """1-based: the order to make the changes in."""
    kind: str
    """`package` or `base`."""
    name: str
    """The package to upgrade (an OS package's source package), or for `base` the base to move to."""
    type: str
    """purl type (`deb`, `pypi`…); `base` for a base bump."""
    ecosystem: str
    installed: tuple[str, ...]
    """The installed versions (an OS package's source version), lowest first; for `base` the current base."""
    target: str
    """The smallest version that fixes every finding the step removes (the max of their fixed versions in
    the package's version scheme), or the base reference to move to."""
    scheme: str
    """The version scheme that ordered the fixed versions (`deb`, `pep440`…); '' for `base`."""
    packages: tuple[str, ...]
    """The packages the step changes (the binaries of an OS source package; the package itself otherwise)."""
    layer: LayerRef | None
    """The layer whose history instruction installed the package; None for `base` (the base's layers)."""
    removes: tuple[PlanFinding, ...]
    """The findings the step removes that no earlier step removed, highest risk first."""
    risk_removed: float
    """The sum of their risk scores."""
    risk_left: float
    """The risk of every finding no step up to this one removes."""
    covers: tuple[str, ...] = ()
    """For `base`: the package upgrades it makes unnecessary (every finding of theirs is inherited and
    gone in the new base), `type/name` each."""
    adds: tuple[AdviceFinding, ...] = ()
    """For `base`: the findings of the new base the current one does not have (base advice `adds`)."""


@record(frozen=True)
class PlanLayer:
    """The steps touching one layer: the Dockerfile line to change."""

    index: int
    diff_id: str
    created_by: str
    """The layer's history instruction (`RUN pip install …`), secrets masked by the scan service."""
    base: bool | None
    steps: tuple[int, ...]
    """The ranks of the package steps changing packages this layer installed."""


@record(frozen=True)
class FixPlan:
    """The ordered changes, the risk each removes and the risk left after it, and what no change fixes."""

    risk_total: float
    """The risk of every vulnerability the plan was made from (the judged report's, suppressed ones left out)."""
    risk_left: float
    """After every step."""
    steps: tuple[PlanStep, ...]
    unfixed: tuple[PlanFinding, ...]
    """Findings no step removes (no fixed version, and not gone in the chosen base), highest risk first."""
    layers: tuple[PlanLayer, ...]
    """The package steps grouped by the layer that installed the package, by layer index."""
    base_note: str = ""
    """Why no base bump is part of the plan, when none is ('' when one is, or no advice was asked)."""
    order: str = "greedy"
    """How the steps were ordered: each is the change that removes the most risk not yet removed
    (docs/plan.md "Order": exact for independent upgrades)."""
