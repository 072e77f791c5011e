"""The reachability stage: after matching, before the policy (docs/reachability.md).

It reads what the layer walk already gathered — the reach analyzers' applied facts (symlinks, ELF
dynamic sections, Go function tables…) — and the image config; it never reads the image again. Each
level module decides what it can: `go.py` per finding (a Go record names symbols), the others per
package. A finding no level decided is `unknown`, which counts as reachable wherever a rule filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hullscan.model.findings import Finding, Reachability
from hullscan.model.image import ImageConfig
from hullscan.model.inventory import Package
from hullscan.reach import elf, go, node, python
from hullscan.reach.context import FindingKey, ImageFiles, PackageKey, ReachContext, find_program
from hullscan.record import replace

SYMLINKS = "symlinks"
"""The analyzer whose facts are the image's symlinks (inventory/symlinks.py)."""

FINDING_LEVELS: tuple[Callable[[ReachContext], dict[FindingKey, Reachability]], ...] = (go.assess,)
"""Levels that decide per (package, vulnerability)."""
PACKAGE_LEVELS: tuple[Callable[[ReachContext], dict[PackageKey, Reachability]], ...] = (elf.assess, python.assess,
                                                                                 node.assess)
"""Levels that decide per package (one line each; python/node imports plug in here)."""

NOT_COVERED = "no reachability level covers {} packages"


def image_files(facts: Mapping[str, Any]) -> ImageFiles:
    """The image's symlinks and the files the reach analyzers recorded."""
    links = facts.get(SYMLINKS) or {}
    known: set[str] = set()
    for name in (elf.ANALYZER, go.ANALYZER):
        known.update((facts.get(name) or {}).keys())
    return ImageFiles(links={k: v for k, v in links.items() if isinstance(v, str)}, files=frozenset(known))


def context(config: ImageConfig, facts: Mapping[str, Any], packages: Sequence[Package],
            findings: Sequence[Finding]) -> ReachContext:
    files = image_files(facts)
    argv = (*config.entrypoint, *config.cmd)
    return ReachContext(config=config, facts=facts, packages=packages, findings=findings, files=files,
                        program=find_program(argv, config, files, elf.scripts(facts)))


def assess(config: ImageConfig, facts: Mapping[str, Any], packages: Sequence[Package],
           findings: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """Every finding with its `reachability` (`unknown` when no level decided), and warnings."""
    ctx = context(config, facts, packages, findings)
    per_finding: dict[FindingKey, Reachability] = {}
    for level in FINDING_LEVELS:
        per_finding.update(level(ctx))
    per_package: dict[PackageKey, Reachability] = {}
    for plevel in PACKAGE_LEVELS:
        per_package.update(plevel(ctx))
    out = []
    for f in findings:
        pid = f.package.id
        found = per_finding.get((pid, f.id)) or per_package.get(pid)
        if found is None:
            found = Reachability(level="unknown", evidence=(NOT_COVERED.format(f.package.type),), method="")
        out.append(replace(f, reachability=found))
    return out, list(dict.fromkeys(ctx.warnings))
