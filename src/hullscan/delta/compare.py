"""The one package/finding delta: `compare(old, new)` over two judged `Report`s.

Identities (docs/diff.md "Identity"):
- a package is (type, name, architecture); the same one at another version is an upgrade (paired in
  version order when several versions of it are installed), a version on one side only is added or removed;
- a vulnerability finding is (package type, package name, the vulnerability under any of its ids): the
  ids of both sides' findings of one package are joined through their aliases first, so a GHSA that
  gained a CVE alias (or a record merged under a CVE) is the same finding, never fixed + introduced;
  of several copies of one package, findings of the same version and architecture pair first;
- a secret (or image-config finding) is (rule, path, masked line): never the secret itself.

Symmetric by construction — every pairing is made over both sides sorted the same way — so
`compare(a, b)`'s added/introduced are `compare(b, a)`'s removed/fixed.
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import TYPE_CHECKING

from hullscan.delta.model import (
    BaseChange,
    Delta,
    FieldChange,
    FindingChange,
    FindingDelta,
    OsChange,
    PackageDelta,
    SecretDelta,
    Side,
    Upgrade,
    VerdictChange,
)
from hullscan.model.findings import SEVERITY_RANK, location_order
from hullscan.versions import scheme_for_ecosystem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, TypeAlias, TypeVar

    from hullscan.model.findings import ConfigFinding, SecretFinding
    from hullscan.model.inventory import Package
    from hullscan.model.report import Report

    T = TypeVar("T")
    S: TypeAlias = "SecretFinding | ConfigFinding"

EPSS_STEP = 0.01
"""The least EPSS score move reported as a change: FIRST republishes every score daily, and moves in
the third decimal would make every rescan report most findings as changed."""


def compare(old: Report, new: Report) -> Delta:
    """What changed from `old` to `new` (both judged: suppressed findings are matched too, so a
    finding an exception now accepts is a change, not a fix)."""
    return Delta(
        packages=packages(old.packages, new.packages),
        findings=findings(_sides(old), _sides(new)),
        secrets=secrets(old.secrets, new.secrets),
        misconfigurations=secrets(old.misconfigurations, new.misconfigurations),
        base=BaseChange(old.base_image, new.base_image),
        os=OsChange(old.os, new.os),
        verdict=VerdictChange(old.verdict, new.verdict),
    )


# -- packages ----------------------------------------------------------------------------------------


def packages(old: Iterable[Package], new: Iterable[Package]) -> PackageDelta:
    """Added, removed and upgraded packages by (type, name, architecture); each version stands for the
    copy the lowest layer brought (its `layer` is the layer that introduced it)."""
    before, after = _by_version(old), _by_version(new)
    added: list[Package] = []
    removed: list[Package] = []
    upgraded: list[Upgrade] = []
    unchanged = 0
    for key in sorted(before.keys() | after.keys()):
        o, n = before.get(key, {}), after.get(key, {})
        unchanged += len(o.keys() & n.keys())
        order = _version_order(next(iter({**o, **n}.values())).ecosystem)
        gone = sorted(o.keys() - n.keys(), key=order)
        came = sorted(n.keys() - o.keys(), key=order)
        for a, b in zip(gone, came, strict=False):
            upgraded.append(Upgrade(o[a], n[b], downgrade=_older(o[a].ecosystem, b, a)))
        removed += (o[v] for v in gone[len(came):])
        added += (n[v] for v in came[len(gone):])
    return PackageDelta(tuple(added), tuple(removed), tuple(upgraded), unchanged)


def _by_version(pkgs: Iterable[Package]) -> dict[tuple[str, str, str], dict[str, Package]]:
    out: dict[tuple[str, str, str], dict[str, Package]] = {}
    for p in pkgs:
        versions = out.setdefault((p.type, p.name, p.arch), {})
        seen = versions.get(p.version)
        if seen is None or location_order(p) < location_order(seen):
            versions[p.version] = p
    return out


def _version_order(ecosystem: str) -> Callable[[str], Any]:
    """A sort key in the ecosystem's version order; versions it cannot read sort as plain strings after
    those it can (a total order either way, the same on both sides)."""
    scheme = scheme_for_ecosystem(ecosystem)

    def cmp(a: str, b: str) -> int:
        if scheme is not None:
            try:
                return scheme.compare(a, b)
            except (ValueError, TypeError):
                pass
        return (a > b) - (a < b)

    return cmp_to_key(cmp)


def _older(ecosystem: str, a: str, b: str) -> bool:
    """`a` is below `b` in the ecosystem's order (False when the scheme is unknown or cannot read them)."""
    scheme = scheme_for_ecosystem(ecosystem)
    if scheme is None:
        return False
    try:
        return scheme.compare(a, b) < 0
    except (ValueError, TypeError):
        return False


# -- vulnerability findings --------------------------------------------------------------------------


def _sides(report: Report) -> list[Side]:
    """The report's findings, live and suppressed."""
    out = [Side(f) for f in report.vulnerabilities]
    out += (Side(s.finding, s.by) for s in report.suppressed if s.kind == "vulnerability")  # type: ignore[arg-type]  # kind says it is a Finding
    return out


def findings(old: Sequence[Side], new: Sequence[Side]) -> FindingDelta:
    """Introduced, fixed and changed findings (see the module docstring for what makes two the same)."""
    roots = _alias_roots([*old, *new])
    buckets: dict[tuple[str, str, str], tuple[list[Side], list[Side]]] = {}
    for i, group in enumerate((old, new)):
        for s in group:
            pkg = s.finding.package
            key = (pkg.type, pkg.name, roots[(pkg.type, pkg.name, s.finding.id)])
            buckets.setdefault(key, ([], []))[i].append(s)
    introduced: list[Side] = []
    fixed: list[Side] = []
    changed: list[FindingChange] = []
    unchanged = 0
    for key in sorted(buckets):
        olds, news = buckets[key]
        pairs, gone, came = _pair(olds, news, _side_order, _same_copy)
        fixed += gone
        introduced += came
        for a, b in pairs:
            moved = _moved(a, b)
            if moved:
                changed.append(FindingChange(a, b, moved))
            else:
                unchanged += 1
    return FindingDelta(tuple(sorted(introduced, key=_by_severity)), tuple(sorted(fixed, key=_by_severity)),
                        tuple(changed), unchanged)


def _alias_roots(sides: Iterable[Side]) -> dict[tuple[str, str, str], str]:
    """(package type, package name, finding id) → the smallest id of its alias group: every id a finding
    of that package names (id, aliases, matching records) joins one group, over both sides together."""
    parent: dict[tuple[str, str, str], tuple[str, str, str]] = {}

    def find(x: tuple[str, str, str]) -> tuple[str, str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    firsts: list[tuple[str, str, str]] = []
    for s in sides:
        f = s.finding
        pkg = f.package
        first = (pkg.type, pkg.name, f.id)
        firsts.append(first)
        for other in f.ids:
            a, b = find(first), find((pkg.type, pkg.name, other))
            if a != b:
                parent[max(a, b)] = min(a, b)  # the smallest id stays the root: the same on both sides
    return {x: find(x)[2] for x in firsts}


def _side_order(s: Side) -> tuple[str, str, str, str, str]:
    f = s.finding
    return (f.package.version, f.package.arch, f.package.paths[0] if f.package.paths else "", f.id, s.suppressed)


def _same_copy(a: Side, b: Side) -> bool:
    return (a.finding.package.version, a.finding.package.arch) == (b.finding.package.version, b.finding.package.arch)


def _moved(a: Side, b: Side) -> tuple[FieldChange, ...]:
    fa, fb = a.finding, b.finding
    out = [FieldChange(name, x, y) for name, x, y in (
        ("severity", fa.severity, fb.severity),
        ("status", fa.status, fb.status),
        ("fixed_version", fa.fixed_version, fb.fixed_version),
        ("kev", fa.kev is not None, fb.kev is not None),
        ("suppressed", a.suppressed, b.suppressed),
    ) if x != y]
    ea = fa.epss.score if fa.epss is not None else None
    eb = fb.epss.score if fb.epss is not None else None
    if (ea is None) != (eb is None) or (ea is not None and eb is not None and abs(ea - eb) >= EPSS_STEP):
        out.append(FieldChange("epss", ea, eb))
    return tuple(out)


def _by_severity(s: Side) -> tuple[int, str, str, str, str]:
    f = s.finding
    return (-SEVERITY_RANK.get(f.severity, 0), f.id, f.package.type, f.package.name, f.package.version)


# -- secrets and image-config findings ---------------------------------------------------------------


def secrets(old: Iterable[S], new: Iterable[S]) -> SecretDelta:
    """Added and removed by (rule, path, masked line); the same key twice (one masked line repeated
    in a file) counts twice."""
    buckets: dict[tuple[str, str, str], tuple[list[S], list[S]]] = {}
    for i, group in enumerate((old, new)):
        for s in group:
            buckets.setdefault((s.rule_id, s.path, s.match), ([], []))[i].append(s)
    added: list[S] = []
    removed: list[S] = []
    unchanged = 0
    for key in sorted(buckets):
        pairs, gone, came = _pair(*buckets[key], lambda s: (s.start_line, s.end_line, s.offset), None)
        unchanged += len(pairs)
        removed += gone
        added += came

    return SecretDelta(tuple(sorted(added, key=_secret_order)), tuple(sorted(removed, key=_secret_order)), unchanged)


def _secret_order(s: S) -> tuple[int, str, str, int]:
    return (-SEVERITY_RANK.get(s.severity, 0), s.rule_id, s.path, s.start_line)


# -- pairing ------------------------------------------------------------------------------------------


def _pair(olds: Sequence[T], news: Sequence[T], order: Callable[[T], object],
          same: Callable[[T, T], bool] | None) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pairs of old and new items, and the old and new items left unpaired. Both sides sorted by
    `order`; items `same` calls alike pair first (in order), the rest pair in order. Swapping the sides
    swaps the result."""
    a = sorted(olds, key=order)  # type: ignore[arg-type]  # the key is comparable: tuples of str and int
    b = sorted(news, key=order)  # type: ignore[arg-type]
    pairs: list[tuple[T, T]] = []
    if same is not None:
        left_a: list[T] = []
        for x in a:
            j = next((j for j, y in enumerate(b) if same(x, y)), None)
            if j is None:
                left_a.append(x)
            else:
                pairs.append((x, b.pop(j)))
        a = left_a
    n = min(len(a), len(b))
    pairs += zip(a[:n], b[:n], strict=True)
    return pairs, a[n:], b[n:]
