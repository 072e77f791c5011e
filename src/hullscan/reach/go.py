"""Go, symbol level: is an affected symbol of a Go vulnerability record in the binary?

A Go vulndb record lists, per module, the affected packages and symbols
(`ecosystem_specific.imports[]` {path, symbols}; stored in hs_imports, fetched for the matched
records while the DB is open). The binary's function table (inventory/go_symbols.py, read during
the walk) holds its functions in govulncheck's symbol form, and the functions inlined into others.
Per Go finding of a program (its modules and `stdlib`):
- `reachable`: an affected symbol is in the binary, or inlined into a function that is (evidence:
  the symbols, `pkg.Symbol`); a package listed without symbols counts when any of its functions is;
- `not_present`: the binary links the module but holds none of the affected symbols;
- `unknown`: the records list no symbols, or the table could not be read.
"""

from __future__ import annotations

from typing import Any

from hullscan.inventory.go_symbols import symbols_in, unpack
from hullscan.model.findings import Finding, Reachability
from hullscan.reach.context import FindingKey, ReachContext, unknown

ANALYZER = "go-symbols"
"""The analyzer whose facts this level reads (inventory/go_symbols.py)."""
METHOD = "go-symbols"
IMPORTS = "vulndb:imports"
"""Key of `ReachContext.facts` holding the matched records' imports ((feed, advisory, package) → imports)."""
EVIDENCE = 6


def _imports_of(f: Finding, imports: dict[tuple[str, str, str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The affected packages and symbols of a finding: of every matched record that lists them."""
    out: list[dict[str, Any]] = []
    for d in f.details:
        for i in imports.get((d.feed, d.advisory_id, d.package), []):
            if isinstance(i, dict) and i not in out:
                out.append(i)
    return out


def level(fact: dict[str, Any], imports: list[dict[str, Any]], binary: str) -> Reachability:
    """The level of one finding in one binary from its function table fact and the records' imports."""
    if not imports:
        return unknown(METHOD, "the vulnerability records list no affected symbols")
    table = unpack(fact)
    if "error" in table:
        return unknown(METHOD, f"the function table of {binary} was not read: {table['error']}")
    own: list[str] = table.get("own") or []
    inlined: list[str] = table.get("inlined") or []
    found: list[str] = []
    looked = 0
    for imp in imports:
        path, symbols = str(imp.get("path", "")), [str(s) for s in imp.get("symbols") or []]
        have = symbols_in(own, path)
        inl = symbols_in(inlined, path) - have
        if not symbols:  # the whole package is affected
            looked += 1
            if have or inl:
                found.append(f"{path} (whole package: {len(have)} functions)")
            continue
        looked += len(symbols)
        for s in symbols:
            if s in have:
                found.append(f"{path}.{s}")
            elif s in inl:
                found.append(f"{path}.{s} (inlined)")
    if found:
        return Reachability(level="reachable", evidence=tuple(found[:EVIDENCE]), method=METHOD)
    paths = ", ".join(sorted({str(i.get("path", "")) for i in imports}))
    return Reachability(level="not_present", evidence=(
        f"none of the {looked} affected symbols of {paths} is in {binary}",), method=METHOD)


def assess(ctx: ReachContext) -> dict[FindingKey, Reachability]:
    """Findings of Go programs' modules (`stdlib` included) by the binaries' function tables."""
    tables = ctx.facts.get(ANALYZER) or {}
    imports = ctx.facts.get(IMPORTS) or {}
    out: dict[FindingKey, Reachability] = {}
    unpacked: dict[str, dict[str, Any]] = {}  # a big table is inflated once, not once per finding
    for f in ctx.findings:
        if f.package.type != "golang" or f.package.analyzer != "go-binary" or not f.package.paths:
            continue
        wanted = _imports_of(f, imports)
        levels = []
        for where in f.where:  # the same module version in several programs: one finding, any program counts
            binary = where.path
            fact = tables.get(binary)
            if isinstance(fact, dict) and binary not in unpacked:
                unpacked[binary] = unpack(fact)
            levels.append(level(unpacked[binary], wanted, binary) if isinstance(fact, dict)
                          else unknown(METHOD, f"no function table recorded for {binary}"))
        out[(f.package.id, f.id)] = _combine(levels)
    return out


def _combine(levels: list[Reachability]) -> Reachability:
    """Reachable in any program → reachable; not present in every one → not_present; else unknown."""
    for want in ("reachable", "unknown"):
        hit = [r for r in levels if r.level == want]
        if hit:
            return hit[0] if len(hit) == 1 else Reachability(
                level=want, evidence=tuple(e for r in hit for e in r.evidence)[:EVIDENCE], method=METHOD)
    return levels[0] if len(levels) == 1 else Reachability(
        level="not_present", evidence=tuple(e for r in levels for e in r.evidence)[:EVIDENCE], method=METHOD)
