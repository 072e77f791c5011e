"""The fix plan: which upgrades, in which order, remove the most risk with the fewest changes.

Input: a judged report's vulnerabilities (their risk scores, policy/risk.py — reachability is in the
score when the scan assessed it) and its base advice (base/advise.py, as `--base-advice` computes it:
reused, never recomputed). Output: `model.plan.FixPlan`.

The changes (`Change`):
- a *package upgrade*: the findings of one package installed by one layer — an OS package by its source
  package (its binaries upgrade together and the feeds' fixed versions are the source's), a language
  package by its name (every copy the layer installed) — move to the smallest version that fixes all of
  them: the greatest of their fixed versions in the version scheme that matched them (each finding's
  fixed version is the nearest fix above its installed version, so nothing below the greatest fixes all);
- a *base bump*: move to the catalogued base that removes the most inherited risk (the advice's
  candidates, by the risk of the image's findings each removes); it removes what the advice says it
  removes, fixed or not.
Upgrades of different packages remove disjoint sets of findings; the base bump overlaps the upgrades
of inherited packages.

Order: greedy by marginal risk — each step is the change that removes the most risk not removed yet
(ties: the base bump first, then lower layer, then name). For independent changes (no bump, or a bump
overlapping no upgrade) every prefix of k steps removes the most risk any k changes can: the marginals
never change, so this is sorting disjoint weights. With the bump, marginals are recomputed after each
step: an upgrade whose findings the bump already removed is dropped (the bump `covers` it), one it
removed in part is kept for the rest, its target recomputed from what is left. The whole plan then makes
the fewest changes that remove every removable finding (the bump's marginal is never below that of an
upgrade it contains, so such an upgrade never comes first); a prefix is not always the best k changes
(docs/plan.md gives a case).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from hullscan.model.findings import Finding
from hullscan.model.plan import FixPlan, PlanFinding, PlanLayer, PlanStep
from hullscan.model.report import AdviceCandidate, AdviceFinding, BaseAdvice
from hullscan.plan.fixes import VersionOrder, order_for
from hullscan.policy.risk import vulnerability_risk


@dataclass(frozen=True)
class Change:
    """A candidate step before ordering: what it changes and which findings (indices) it can remove."""

    kind: str
    """`package` or `base`."""
    key: tuple[object, ...]
    """Identity and tie-break order: (layer index, type, ecosystem, name) for a package."""
    findings: frozenset[int]
    candidate: AdviceCandidate | None = None


def risk_of(f: Finding) -> float:
    """The finding's risk score; computed as the policy stage would when the report was not judged."""
    return (f.risk or vulnerability_risk(f)).score


def fixable(f: Finding) -> bool:
    return bool(f.fixed_version)


def upgrade_key(f: Finding) -> tuple[int, str, str, str]:
    """The package upgrade a finding belongs to: the layer that installed the package, its type, ecosystem,
    and the source package (OS) or the name (language packages)."""
    p = f.package
    name = (p.source_name or p.name) if p.is_os else p.name
    return (p.layer.index if p.layer is not None else -1, p.type, p.ecosystem, name)


def _advice_key(r: AdviceFinding) -> tuple[str, str, str]:
    return (r.id, r.package, r.version)


def _finding_key(f: Finding) -> tuple[str, str, str]:
    return (f.id, f.package.name, f.package.version)


def base_change(findings: Sequence[Finding], risks: Sequence[float], advice: BaseAdvice | None) -> tuple[Change | None, str]:
    """The best base bump of the advice — the candidate whose removed findings carry the most of this
    report's risk (ties: the advice's own order) — or None and why there is none."""
    if advice is None:
        return None, ""
    if advice.base is None or not advice.candidates:
        return None, advice.reason or "no other base to compare"
    inherited = {_finding_key(f): i for i, f in enumerate(findings) if f.inherited}
    best: tuple[float, int, Change] | None = None
    for n, cand in enumerate(advice.candidates):
        removed = frozenset(inherited[k] for k in map(_advice_key, cand.removes) if k in inherited)
        if not removed:
            continue
        risk = sum(risks[i] for i in removed)
        if best is None or risk > best[0]:
            best = (risk, n, Change("base", (-1, "base", "", cand.base.reference), removed, cand))
    if best is None:
        return None, "no catalogued base removes an inherited vulnerability of this image"
    return best[2], ""


def build(findings: Sequence[Finding], advice: BaseAdvice | None = None) -> FixPlan:
    """The plan for `findings` (a judged report's vulnerabilities) with the base bump `advice` offers."""
    risks = [risk_of(f) for f in findings]
    groups: dict[tuple[int, str, str, str], set[int]] = {}
    for i, f in enumerate(findings):
        if fixable(f):
            groups.setdefault(upgrade_key(f), set()).add(i)
    changes = [Change("package", key, frozenset(ix)) for key, ix in groups.items()]
    bump, base_note = base_change(findings, risks, advice)
    if bump is not None:
        changes.append(bump)

    removed: set[int] = set()
    cumulative = 0.0
    total = sum(risks)
    steps: list[PlanStep] = []
    left = list(changes)
    while left:
        best = min(left, key=partial(_priority, removed=frozenset(removed), risks=risks))
        rest = best.findings - removed
        if not rest:
            break  # every change left is covered by the steps taken
        left.remove(best)
        gained = sum(risks[i] for i in rest)
        cumulative += gained
        removed |= rest
        steps.append(_step(len(steps) + 1, best, rest, findings, risks, gained, max(total - cumulative, 0.0), left,
                           removed))
    unfixed = sorted((i for i in range(len(findings)) if i not in removed), key=lambda i: _finding_order(findings[i], risks[i]))
    return FixPlan(
        risk_total=round(total, 1),
        risk_left=round(max(total - cumulative, 0.0), 1),
        steps=tuple(steps),
        unfixed=tuple(_listed(findings[i], risks[i]) for i in unfixed),
        layers=_layers(steps),
        base_note=base_note,
    )


def _priority(c: Change, removed: frozenset[int], risks: Sequence[float]) -> tuple[object, ...]:
    """`min` picks the next step: most risk not removed yet, then more findings, the bump before an upgrade
    it may cover, then lower layer, type, ecosystem, name."""
    rest = c.findings - removed
    return (-sum(risks[i] for i in rest), -len(rest), c.kind != "base", c.key)


def _finding_order(f: Finding, risk: float) -> tuple[float, str, str]:
    return (-risk, f.id, f.package.name)


def _listed(f: Finding, risk: float) -> PlanFinding:
    return PlanFinding(id=f.id, package=f.package.name, version=f.package.version, severity=f.severity or "UNKNOWN",
                       status=f.status, fixed_version=f.fixed_version, risk=round(risk, 1), inherited=f.inherited,
                       layer=f.package.layer.index if f.package.layer is not None else None)


def _step(rank: int, change: Change, rest: frozenset[int], findings: Sequence[Finding], risks: Sequence[float],
          gained: float, left: float, waiting: Sequence[Change], removed: set[int]) -> PlanStep:
    ordered = sorted(rest, key=lambda i: _finding_order(findings[i], risks[i]))
    removes = tuple(_listed(findings[i], risks[i]) for i in ordered)
    if change.kind == "base":
        cand = change.candidate
        assert cand is not None
        # the upgrades not made yet whose every finding is gone now: dropped from the plan
        covers = tuple(sorted(f"{c.key[1]}/{c.key[3]}" for c in waiting if c.kind == "package" and c.findings <= removed))
        return PlanStep(rank=rank, kind="base", name=cand.base.reference, type="base", ecosystem="",
                        installed=(), target=cand.base.reference, scheme="", packages=(), layer=None, removes=removes,
                        risk_removed=round(gained, 1), risk_left=round(left, 1), covers=covers, adds=cand.adds)
    mine = [findings[i] for i in ordered]
    order = order_for(mine)
    first = mine[0].package
    return PlanStep(rank=rank, kind="package", name=str(change.key[3]), type=first.type, ecosystem=first.ecosystem,
                    installed=_installed(mine, order), target=order.greatest(f.fixed_version for f in mine),
                    scheme=order.name, packages=tuple(sorted({f.package.name for f in mine})), layer=first.layer,
                    removes=removes, risk_removed=round(gained, 1), risk_left=round(left, 1))


def _installed(found: Sequence[Finding], order: VersionOrder) -> tuple[str, ...]:
    """The versions installed, as the matcher compared them (an OS package's source version), lowest first."""
    versions = {f.details[0].version if f.details else f.package.version for f in found}
    return order.sorted(versions)


def _layers(steps: Sequence[PlanStep]) -> tuple[PlanLayer, ...]:
    by_index: dict[int, PlanLayer] = {}
    for s in steps:
        if s.layer is None:
            continue
        ref = s.layer
        have = by_index.get(ref.index)
        ranks = (*have.steps, s.rank) if have is not None else (s.rank,)
        by_index[ref.index] = PlanLayer(ref.index, ref.diff_id, ref.created_by, ref.base, ranks)
    return tuple(by_index[i] for i in sorted(by_index))
