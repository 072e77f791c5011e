"""Merge per-layer facts into one inventory (Trivy's applier, in one place).

Layers are applied bottom to top: whiteouts and opaque directories remove what lower layers wrote,
a file written again replaces the lower copy. Each analyzer assembles the squashed state after every
layer that changed its facts; comparing those states gives each package the layer that introduced
its current version (the lowest layer from which the same name and version is present continuously
to the top) and the packages a later layer removed or replaced (`history`).

A hostile file costs only itself: a package whose name or version makes no valid purl
(`inventory/purl.py`) is left out with a warning naming its file; when `assemble` raises, each file
is assembled alone to find the ones it raises on, which are left out with a warning each, and the
analyzer's other files stand. Only an `assemble` that raises on no single file (or on every one: a
bug, not a file) costs the analyzer's results, with one warning; the other analyzers' results stand.

`--skip-files`/`--skip-dirs` (inventory/skip.py) apply here, before the layers are merged: a skipped
file's facts are left out of every layer, so neither its packages nor its secrets (nor their history)
reach the inventory, while the cached per-layer facts stay whole and shareable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace as replace_fact
from typing import TYPE_CHECKING, Any

from hullscan.model.inventory import Inventory, LayerRef, Package, RemovedPackage, ScanWarning
from hullscan.record import replace
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileFact, LayerFacts, parse_guarded
from hullscan.walk.index import PathIndex

if TYPE_CHECKING:
    from hullscan.inventory.skip import SkipPaths


def _one_line(err: Exception) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


class _Squash:
    """The squashed facts of one analyzer, updated layer by layer, remembering what was removed."""

    def __init__(self, keep_history: bool) -> None:
        self.files: dict[str, FileFact] = {}
        self.keep_history = keep_history
        self.history: list[FileFact] = []  # removed ones; live ones are in `files`

    def apply(self, index: int, layer: LayerFacts, facts: dict[str, Any]) -> bool:
        changed = False
        doomed: list[str] = []
        if layer.deleted or layer.opaque:
            for path in self.files:
                if any(_under(path, d) for d in layer.deleted) or any(
                    path != d and _under(path, d) for d in layer.opaque
                ):
                    doomed.append(path)
        doomed.extend(p for p in layer.written if p in self.files and p not in facts)
        doomed.extend(p for p in facts if p in self.files)
        for path in doomed:
            ff = self.files.pop(path, None)
            if ff is not None:
                changed = True
                if self.keep_history:
                    self.history.append(replace_fact(ff, removed_in=index))
        for path, fact in facts.items():
            self.files[path] = FileFact(path=path, layer=index, fact=fact)
            changed = True
        return changed

    def view(self, layers: list[LayerRef], os: Any, left_out: set[tuple[str, int]]) -> AnalyzerView:
        """The squashed state, without the files (path, layer) an earlier `assemble` raised on."""
        def keep(ff: FileFact) -> bool:
            return (ff.path, ff.layer) not in left_out

        history = [ff for ff in (*self.history, *self.files.values()) if keep(ff)] if self.keep_history else []
        return AnalyzerView(files={p: ff for p, ff in self.files.items() if keep(ff)}, layers=layers, os=os,
                            history=history)


def apply_layers(analyzers: Sequence[Analyzer], layer_facts: Sequence[LayerFacts], skip: SkipPaths | None = None) -> Inventory:
    """Merge the layers' facts for these analyzers into an Inventory, without the files `skip` leaves
    out (`skip.tally` then says what they were)."""
    if skip:
        layer_facts = skip.filter(layer_facts)
    layers = [lf.ref for lf in layer_facts]
    inv = Inventory()
    for lf in layer_facts:
        inv.warnings.extend(lf.warnings)
    ordered = sorted(analyzers, key=lambda a: not a.detects_os)  # OS first: the others read view.os
    for analyzer in ordered:
        try:
            final, states = _states(analyzer, layer_facts, layers, inv)
        except Exception as err:  # one analyzer's bug costs its own results, never the others' or the scan
            inv.warnings.append(ScanWarning(
                message=f"{analyzer.name}: assemble failed: {_one_line(err)}; its results are left out"))
            continue
        if analyzer.detects_os and final.os is not None:
            inv.os = final.os
        if final.facts is not None:
            inv.facts[analyzer.name] = final.facts
        if states:
            attributed, removed = _attribute(states, layers)
            inv.packages.extend(attributed)
            inv.history.extend(removed)
    _mark_owned(inv)
    return inv


class _Assembler:
    """One analyzer's `assemble` over successive squashed states, with its warnings said once each
    (a state is assembled again after every layer that changes the analyzer's facts)."""

    def __init__(self, analyzer: Analyzer, layers: list[LayerRef], inv: Inventory) -> None:
        self.analyzer, self.layers, self.inv = analyzer, layers, inv
        self.left_out: set[tuple[str, int]] = set()
        """(path, layer) of the files `assemble` raised on."""
        self.said: set[tuple[str, str]] = set()

    def warn(self, path: str, message: str, layer: int | None) -> None:
        if (path, message) not in self.said:
            self.said.add((path, message))
            self.inv.warnings.append(ScanWarning(message=f"{self.analyzer.name}: {message}", path=path, layer=layer))

    def __call__(self, squash: _Squash, index: int | None) -> Assembled:
        view = squash.view(self.layers, self.inv.os, self.left_out)
        try:
            out = self.analyzer.assemble(view)
        except Exception:
            if not self._isolate(view):
                raise  # apply_layers leaves the analyzer out with one warning
            view = squash.view(self.layers, self.inv.os, self.left_out)
            out = self.analyzer.assemble(view)
        for path, message in view.warnings:
            self.warn(path, message, index)
        if all(p.purl for p in out.packages):
            return out
        return replace_fact(out, packages=[p for p in out.packages if self._valid(p, view, index)])

    def _isolate(self, view: AnalyzerView) -> bool:
        """Assemble each file of a view that raised alone; leave out those that raise. True when some
        but not all do: when every file raises, the bug is the analyzer's, not a file's."""
        raising: list[tuple[FileFact, Exception]] = []
        for path, ff in view.files.items():
            alone = AnalyzerView(files={path: ff}, layers=view.layers, os=view.os,
                                 history=[h for h in view.history if h.path == path])
            try:
                self.analyzer.assemble(alone)
            except Exception as err:  # hostile content in this file: it alone is left out
                raising.append((ff, err))
        if not raising or len(raising) == len(view.files):
            return False
        for ff, exc in raising:
            self.left_out.add((ff.path, ff.layer))
            self.warn(ff.path, f"left out, assemble failed on it: {_one_line(exc)}", ff.layer)
        return True

    def _valid(self, pkg: Package, view: AnalyzerView, index: int | None) -> bool:
        if pkg.purl:
            return True
        path = pkg.paths[0] if pkg.paths else ""
        ff = view.files.get(path)
        self.warn(path, f"package {pkg.name!r} {pkg.version!r} left out: its name or version makes no valid package URL",
                  ff.layer if ff is not None else index)
        return False


def _states(
    analyzer: Analyzer, layer_facts: Sequence[LayerFacts], layers: list[LayerRef], inv: Inventory
) -> tuple[Assembled, list[list[Package]]]:
    """The analyzer's final result and its packages after each layer (assembled again only after a
    layer that changed its facts)."""
    squash = _Squash(analyzer.wants_history)
    assemble = _Assembler(analyzer, layers, inv)
    states: list[list[Package]] = []
    final: Assembled | None = None
    for i, lf in enumerate(layer_facts):
        facts = lf.facts.get(analyzer.name, {})
        if squash.apply(i, lf, facts) or final is None:
            final = assemble(squash, i)
        states.append(final.packages)
    if final is None:
        final = assemble(squash, None)
    return final, states


def _attribute(
    states: list[list[Package]], layers: list[LayerRef]
) -> tuple[list[Package], list[RemovedPackage]]:
    """Layer of each final package, and the packages that disappeared on the way up.

    A key may hold several versions at once (a lockfile listing memchr 1.0.2 and 2.7.4, two kernels),
    so each state maps key → {version: package}."""
    by_state: list[dict[tuple[str, str, str, str], dict[str, Package]]] = []
    for pkgs in states:
        state: dict[tuple[str, str, str, str], dict[str, Package]] = {}
        for p in pkgs:
            state.setdefault(p.key, {})[p.version] = p
        by_state.append(state)

    def first_layer(key: tuple[str, str, str, str], version: str, top: int) -> int:
        first = top
        while first > 0 and version in by_state[first - 1].get(key, {}):
            first -= 1
        return first

    top = len(states) - 1
    result = [replace(p, layer=layers[first_layer(p.key, p.version, top)]) for p in states[top]]
    removed: list[RemovedPackage] = []
    for i in range(top):
        for key, versions in by_state[i].items():
            after = by_state[i + 1].get(key, {})
            for version, pkg in versions.items():
                if version in after:
                    continue
                newer = [v for v in after if v not in versions]
                removed.append(
                    RemovedPackage(
                        package=replace(pkg, layer=layers[first_layer(key, version, i)]),
                        removed_in=layers[i + 1],
                        replaced_by=newer[0] if len(newer) == 1 else ", ".join(sorted(newer)),
                    )
                )
    return result, removed


def _mark_owned(inv: Inventory) -> None:
    """Language packages whose files an OS package owns get `owned_by` (not matched twice)."""
    owners: dict[str, str] = {}
    for pkg in inv.packages:
        for f in pkg.files:
            owners[f] = pkg.name
    if not owners:
        return
    for i, pkg in enumerate(inv.packages):
        if pkg.files or pkg.owned_by or pkg.kind != "installed":
            continue
        for p in pkg.paths:
            owner = owners.get(p)
            if owner:
                inv.packages[i] = replace(pkg, owned_by=owner)
                break


def analyze_files(
    analyzers: Sequence[Analyzer], layers: Iterable[dict[str, bytes | None]]
) -> Inventory:
    """Run analyzers over in-memory layers ({path: bytes}, None = whiteout) — for tests and SBOM-free checks.

    Paths are absolute (`/var/lib/dpkg/status`); every file has mode 0644. No cache, no tar: the
    walker's path index and parser guard, then the same apply step.
    """
    index = PathIndex(analyzers)
    facts_per_layer: list[LayerFacts] = []
    for i, files in enumerate(layers):
        lf = LayerFacts(ref=LayerRef(index=i, diff_id=""))
        for path, data in files.items():
            if data is None:
                lf.deleted.append(path)
                continue
            lf.written.add(path)
            for an, rule in index.match(path, len(data), 0o644):
                if len(data) > an.max_size:
                    continue
                fact, problems = parse_guarded(an, rule, path, data)
                lf.warnings.extend(ScanWarning(message=m, path=path, layer=i) for m in problems)
                if fact is not None:
                    lf.facts.setdefault(an.name, {})[path] = fact
        facts_per_layer.append(lf)
    return apply_layers(analyzers, facts_per_layer)
