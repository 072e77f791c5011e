"""Shared pieces of lockfile parsing: the plain-data record every parser returns, and the
dependency-graph walk that derives dev/indirect flags when a format only records edges."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import yaml

from hullscan.model.inventory import Package
from hullscan.walk.analyzer import WarnFn

R = TypeVar("R")


def record(
    name: str,
    version: str,
    *,
    dev: bool = False,
    indirect: bool = False,
    licenses: Iterable[str] = (),
    deps: Iterable[str] = (),
    root: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One declared package as JSON data (the per-layer fact format of the lockfile analyzers).

    `deps` holds the ids (`name@version`) or names of its dependencies, used by `flag_by_graph`;
    `root` marks the project itself (a lockfile's own package), reported with relationship `root`."""
    rec: dict[str, Any] = {"name": name, "version": version, "dev": dev, "indirect": indirect}
    lic = [x for x in licenses if x]
    if lic:
        rec["licenses"] = lic
    d = sorted(set(deps))
    if d:
        rec["deps"] = d
    if root:
        rec["root"] = True
    extra = {k: v for k, v in extra.items() if v not in (None, "", [], {})}
    if extra:
        rec["extra"] = extra
    return rec


def as_dict(value: Any) -> dict[Any, Any]:
    """`value` when it is a mapping, else {}: a lockfile field of the wrong type is an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a list, else []."""
    return value if isinstance(value, list) else []


def per_entry(entries: Iterable[Any], build: Callable[[Any], R | None], what: str, warn: WarnFn) -> list[R]:
    """`build` over a lockfile's entries, each inside one guard: an entry whose fields have types
    `build` does not expect (a number for a name, a string for a table) is left out with a warning,
    the others stand. `build` returns None for an entry that is no package."""
    out: list[R] = []
    for n, entry in enumerate(entries, 1):
        try:
            rec = build(entry)
        except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
            warn(f"{what}: entry {n} left out: {type(exc).__name__}: {exc}")
            continue
        if rec is not None:
            out.append(rec)
    return out


def declared_package(
    rec: dict[str, Any], *, type: str, ecosystem: str, name: str, purl: str, analyzer: str, path: str, lockfile: str
) -> Package:
    """The Package for one `record` of a lockfile at `path` (its format in extra `lockfile`; the
    project's own package with relationship `root`)."""
    extra = {**(rec.get("extra") or {}), "lockfile": lockfile}
    if rec.get("root"):
        extra["relationship"] = "root"
    return Package(
        type=type,
        name=name,
        version=rec["version"],
        ecosystem=ecosystem,
        purl=purl,
        analyzer=analyzer,
        paths=(path,),
        licenses=tuple(rec.get("licenses") or ()),
        kind="declared",
        dev=bool(rec.get("dev")),
        indirect=bool(rec.get("indirect")),
        extra=extra,
    )


def flag_by_graph(
    records: list[dict[str, Any]],
    prod_roots: Iterable[str],
    dev_roots: Iterable[str],
    key: str = "id",
) -> None:
    """Set `dev` and `indirect` from reachability, in place.

    `records[i][key]` identifies a record, its `deps` list the identifiers it depends on;
    `prod_roots`/`dev_roots` are the identifiers the project depends on directly. A package
    reachable from a production root is not dev; one reachable only from dev roots is dev; one not
    among the roots is indirect. Packages reachable from no root keep their flags.
    """
    by_id = {r[key]: r for r in records if key in r}
    prod = _reach(by_id, prod_roots)
    dev = _reach(by_id, dev_roots)
    direct = set(prod_roots) | set(dev_roots)
    for ident, rec in by_id.items():
        if rec.get("root"):
            continue
        if ident in prod or ident in dev:
            rec["dev"] = ident not in prod
            rec["indirect"] = ident not in direct
        # else: orphan in the graph; leave what the format said


def _reach(by_id: dict[str, dict[str, Any]], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = [r for r in roots if r in by_id]
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        stack.extend(d for d in by_id[cur].get("deps", ()) if d in by_id and d not in seen)
    return seen


def yaml_documents(text: str) -> list[Any]:
    """All YAML documents of a text, with libyaml's C loader when PyYAML has it (≈6× faster on
    large pnpm/yarn lockfiles). Safe loaders only: no Python objects from the document."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.load_all(text, Loader=loader))
