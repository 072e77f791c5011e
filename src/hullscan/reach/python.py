"""Python, import level (docs/reachability.md "Python and Node").

From the entrypoint — `python app.py`, `python -m pkg`, `python -c "…"`, a console script (its
`#!…python` stub imports the package), or a known runner given an app (`gunicorn app:wsgi`, below) —
the static import closure over the image's Python files (inventory/python_imports.py facts), then
each installed distribution: `reachable` when a module of it is in the closure (evidence: the import
chain), `not_imported` when none is and the closure is complete, `unknown` otherwise (an entrypoint
that is not Python or cannot be read, an import whose target is computed at run time, a reached file
`ast` cannot parse, a distribution whose files are not listed).

The module search path is over-approximated, never under: the script's directory or WorkingDir,
PYTHONPATH, `.pth` paths, every `site-packages`/`dist-packages` directory and every directory holding
a distribution's metadata. A name found under several of them counts everywhere it is found. Standard
library names are leaves (the standard library imports no installed package).
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hullscan.inventory.python_imports import NAME as ANALYZER
from hullscan.model.findings import Reachability
from hullscan.reach import command, elf
from hullscan.reach.context import ImageFiles, PackageKey, ReachContext, find_program, unknown

METHOD = "python-imports"
STDLIB = frozenset(sys.stdlib_module_names)
"""Top-level names of the standard library (this Python's list; names only ever leave it slowly)."""
_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?$")
_EXT = re.compile(r"\.(py|pyc|so|pyd)$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_APP_SPEC = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):")
_OPTS_WITH_VALUE = frozenset({"-W", "-X", "-Q"})
RUNNERS = frozenset({"gunicorn", "uvicorn", "hypercorn", "daphne", "waitress-serve", "celery", "flask"})
"""Programs that import an application named on their command line; `docs/reachability.md` says how
each names it. The runner's own closure is followed too (its dynamic imports keep it `unknown`)."""
_APP_DIR_OPTS = frozenset({"--chdir", "--app-dir", "--pythonpath"})
_APP_MODULE_OPTS = frozenset({"-A", "--app", "-k", "--worker-class", "--call"})


@dataclass
class Entry:
    """Where the closure starts: files to read and modules to import, and the extra search roots."""

    label: str
    files: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    """Modules imported when they exist (`flask run`'s defaults, celery's `proj.celery`)."""
    code: dict[str, Any] | None = None
    """`python -c` source, already read."""
    roots: list[str] = field(default_factory=list)
    why_unknown: str = ""


def _is_python(name: str) -> bool:
    return _PYTHON.match(posixpath.basename(name)) is not None


def _entry(ctx: ReachContext, facts: Mapping[str, Any], files: ImageFiles) -> Entry | None:
    """The Python program the entrypoint runs; None when it runs no Python (then nothing is decided)."""
    argv = command.unwrap(ctx.program.argv)
    if argv is None:
        return Entry(label=" ".join(ctx.program.argv), why_unknown="the entrypoint is a shell command line")
    if not argv:
        return None
    # found again with the scripts this level read (`#!` lines the ELF facts may not hold)
    program = find_program(argv, ctx.config, files, {**elf.scripts(ctx.facts), **_scripts(facts)})
    cwd = ctx.config.working_dir or "/"
    if program.kind == "script" and _is_python(program.interpreter):
        name = posixpath.basename(argv[0])
        entry = Entry(label=program.path, files=[program.path], roots=[posixpath.dirname(program.path)])
        if name in RUNNERS:
            _runner(entry, name, list(argv[1:]), cwd, ctx)
        return entry
    if not (_is_python(argv[0]) or (program.kind == "interpreter" and _is_python(program.interpreter))):
        return None
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if arg == "-m" and args:
            module = args.pop(0)
            entry = Entry(label=f"python -m {module}", modules=[module], roots=[cwd])
            if module.split(".")[0] in RUNNERS:
                _runner(entry, module.split(".")[0], args, cwd, ctx)
            return entry
        if arg.startswith("-m") and len(arg) > 2:
            return Entry(label=f"python {arg}", modules=[arg[2:]], roots=[cwd])
        if arg == "-c" and args:
            from hullscan.inventory.python_imports import extract

            return Entry(label="python -c", code=extract(args[0]), roots=[cwd])
        if arg in _OPTS_WITH_VALUE:
            args = args[1:]
            continue
        if arg == "-" or arg == "-i":
            return Entry(label=f"python {arg}", why_unknown="the interpreter reads its program from the terminal")
        if arg.startswith("-"):
            continue
        script = posixpath.normpath(posixpath.join(cwd, arg))
        real = files.resolve(script) or script
        if real.endswith("/__main__.py") or real not in facts:
            main = real.rstrip("/") + "/__main__.py"  # a directory or zip app: its __main__.py
            if main in facts:
                return Entry(label=script, files=[main], roots=[real])
        return Entry(label=script, files=[real], roots=[posixpath.dirname(real)])
    return Entry(label=" ".join(argv), why_unknown="the interpreter runs without a script or module")


def _runner(entry: Entry, name: str, args: list[str], cwd: str, ctx: ReachContext) -> None:
    """The application a runner imports, from its arguments (docs/reachability.md lists them)."""
    entry.roots.append(cwd)
    it = iter(args)
    for arg in it:
        opt, eq, value = arg.partition("=")
        if opt in _APP_DIR_OPTS:
            value = value if eq else next(it, "")
            entry.roots.append(posixpath.normpath(posixpath.join(cwd, value)))
        elif opt in _APP_MODULE_OPTS:
            value = value if eq else next(it, "")
            _app_module(entry, value, cwd, worker=opt in ("-k", "--worker-class"))
        elif not arg.startswith("-") and _APP_SPEC.match(arg):
            _app_module(entry, arg, cwd, worker=False)
    if name == "flask":
        app = ctx.env("FLASK_APP")
        if app:
            _app_module(entry, app, cwd, worker=False)
        elif not any(m for m in entry.modules):
            entry.optional.extend(("wsgi", "app"))  # what `flask run` tries without --app
    if name == "celery":
        entry.optional.extend(f"{m}.celery" for m in entry.modules)  # celery's find_app looks there


def _app_module(entry: Entry, spec: str, cwd: str, *, worker: bool) -> None:
    spec = spec.split(":", 1)[0].strip()
    if spec.endswith(".py"):
        path = posixpath.normpath(posixpath.join(cwd, spec))
        entry.files.append(path)
        entry.roots.append(posixpath.dirname(path))
    elif spec and all(_IDENT.match(p) for p in spec.split(".")):
        entry.modules.append(spec.rpartition(".")[0] if worker and "." in spec else spec)


def _scripts(facts: Mapping[str, Any]) -> dict[str, str]:
    return {p: f["shebang"] for p, f in facts.items() if isinstance(f, dict) and isinstance(f.get("shebang"), str)}


@dataclass
class _Index:
    """Module names → files over the search roots, and files → distributions."""

    modules: dict[str, list[str]] = field(default_factory=dict)
    """Dotted name → its files (`__init__.py`, `x.py`, an extension module); [] for a namespace package."""
    owners: dict[str, list[str]] = field(default_factory=dict)
    """File → the metadata directories (`…/x-1.0.dist-info`) of the distributions that installed it."""
    listed: set[str] = field(default_factory=set)
    """Distributions whose files are known (RECORD, installed-files.txt or top_level.txt)."""


def _roots(facts: Mapping[str, Any], entry: Entry, ctx: ReachContext) -> list[str]:
    roots = list(entry.roots)
    roots.extend(p for p in (ctx.env("PYTHONPATH") or "").split(":") if p.startswith("/"))
    for path, fact in facts.items():
        for marker in ("/site-packages/", "/dist-packages/"):
            cut = path.find(marker)
            if cut >= 0:
                roots.append(path[: cut + len(marker) - 1])
        if path.endswith(("/RECORD", "/installed-files.txt", "/top_level.txt")):
            roots.append(posixpath.dirname(posixpath.dirname(path)))
        if isinstance(fact, dict) and isinstance(fact.get("pth"), list):
            base = posixpath.dirname(path)
            roots.extend(posixpath.normpath(posixpath.join(base, p)) for p in fact["pth"] if isinstance(p, str))
    return list(dict.fromkeys(posixpath.normpath(r) for r in roots if r))


def _module_name(rel: str) -> str | None:
    """`a/b/c.py` → `a.b.c`, `a/b/__init__.py` → `a.b`, `a/_x.cpython-311-x86_64-linux-gnu.so` → `a._x`."""
    parts = rel.split("/")
    stem = parts[-1].split(".", 1)[0]
    parts = parts[:-1] if stem == "__init__" else [*parts[:-1], stem]
    if not parts or not all(_IDENT.match(p) for p in parts):
        return None
    return ".".join(parts)


def _index(facts: Mapping[str, Any], roots: list[str]) -> _Index:
    idx = _Index()
    known: set[str] = {p for p in facts if p.endswith(".py")}
    for path, fact in facts.items():
        if not isinstance(fact, dict):
            continue
        home = posixpath.dirname(path)
        if isinstance(fact.get("files"), list):
            base = posixpath.dirname(home) if path.endswith("/RECORD") else home
            idx.listed.add(home)
            for entry in fact["files"]:
                if isinstance(entry, str):
                    full = posixpath.normpath(posixpath.join(base, entry))
                    idx.owners.setdefault(full, []).append(home)
                    if _EXT.search(full):
                        known.add(full)
    tops: dict[tuple[str, str], list[str]] = {}
    for path, fact in facts.items():
        if isinstance(fact, dict) and isinstance(fact.get("top_level"), list):
            home = posixpath.dirname(path)
            if home not in idx.listed:  # RECORD, when there is one, says it exactly
                idx.listed.add(home)
                for name in fact["top_level"]:
                    if isinstance(name, str):
                        tops.setdefault((posixpath.dirname(home), name.replace("/", ".")), []).append(home)
    for path in sorted(known):
        for root in roots:
            if not path.startswith(root + "/"):
                continue
            name = _module_name(path[len(root) + 1:])
            if name is None:
                continue
            idx.modules.setdefault(name, []).append(path)
            parts = name.split(".")
            for i in range(1, len(parts)):
                idx.modules.setdefault(".".join(parts[:i]), [])  # namespace packages, unless a file says more
            for key in ((root, parts[0]), (root, name)):
                for home in tops.get(key, ()):
                    if home not in idx.owners.get(path, ()):
                        idx.owners.setdefault(path, []).append(home)
    return idx


@dataclass
class _Closure:
    reached: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Distribution metadata directory → the import chain that first reached it."""
    modules: int = 0
    unknown: str = ""


def _closure(entry: Entry, facts: Mapping[str, Any], idx: _Index) -> _Closure:
    out = _Closure()
    seen_files: set[str] = set()
    seen_modules: set[str] = set()
    todo: deque[tuple[str, str, dict[str, Any] | None, tuple[str, ...]]] = deque()
    # (module name or "" for a script, file, fact, chain)

    def own(path: str, chain: tuple[str, ...]) -> None:
        for home in idx.owners.get(path, ()):
            out.reached.setdefault(home, chain)

    def import_module(name: str, chain: tuple[str, ...]) -> None:
        parts = name.split(".")
        if not parts[0] or parts[0] in STDLIB:
            return
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            if mod in seen_modules:
                continue
            files = idx.modules.get(mod)
            if files is None:
                return  # not found: an optional import the code guards, or a module outside the image
            seen_modules.add(mod)
            for path in files:
                if path not in seen_files:
                    seen_files.add(path)
                    todo.append((mod, path, facts.get(path), (*chain, mod)))

    for path in entry.files:
        seen_files.add(path)
        todo.append(("", path, facts.get(path), (path,)))
    if entry.code is not None:
        todo.append(("", "", entry.code, (entry.label,)))
    for module in (*entry.modules, *entry.optional):
        import_module(module, (entry.label,))
    for path, fact in sorted(facts.items()):  # site.py: .pth import lines, sitecustomize
        if isinstance(fact, dict) and "pth" in fact and (fact.get("i") or fact.get("d")):
            todo.append(("", path, fact, (path,)))
    for module in ("sitecustomize", "usercustomize"):
        import_module(module, ("site.py",))

    while todo:
        mod, path, fact, chain = todo.popleft()
        out.modules += 1
        if path:
            own(path, chain)
        if fact is None:
            if path.endswith(".py") or (path and not _EXT.search(path)):
                out.unknown = out.unknown or f"{path} was not read (too big or unreadable)"
            continue  # an extension module: its imports are not visible (docs)
        if "e" in fact:
            out.unknown = out.unknown or f"{path} cannot be parsed ({fact['e']})"
        is_pkg = path.endswith("/__init__.py")
        package = mod if is_pkg else mod.rpartition(".")[0]
        for item in fact.get("i", ()):
            if not (isinstance(item, list) and len(item) == 4):
                continue
            target, level, names = item[0], item[1], item[2]
            base = _relative(package, level, target)
            if base is None:
                continue
            if base:
                import_module(base, chain)
            for sub in names if isinstance(names, list) else ():
                if sub == "*":
                    for child in _star(base, idx, facts):
                        import_module(child, chain)
                elif isinstance(sub, str) and f"{base}.{sub}".lstrip(".") in idx.modules:
                    import_module(f"{base}.{sub}".lstrip("."), chain)
        for item in fact.get("d", ()):
            if not (isinstance(item, list) and len(item) == 3):
                continue
            line, prefix, level = item
            base = _relative(package, level, prefix) if level else prefix
            if not base:
                out.unknown = out.unknown or f"{path or chain[-1]}:{line} imports a module named at run time"
                continue
            for name in [m for m in idx.modules if m.startswith(base)]:
                import_module(name, chain)
    return out


def _relative(package: str, level: Any, target: str) -> str | None:
    """The absolute name of `from .(level) target import`; None when it climbs out of the packages."""
    if not isinstance(level, int) or not isinstance(target, str):
        return None
    if level == 0:
        return target
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or not parts:
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _star(package: str, idx: _Index, facts: Mapping[str, Any]) -> Iterable[str]:
    """Submodules `from package import *` loads: those its literal `__all__` names, else every one
    directly below it (an over-approximation)."""
    named: list[str] | None = None
    for path in idx.modules.get(package, ()):
        fact = facts.get(path)
        if isinstance(fact, dict) and isinstance(fact.get("all"), list):
            named = [n for n in fact["all"] if isinstance(n, str)]
    prefix = package + "."
    children = [m for m in idx.modules if m.startswith(prefix) and "." not in m[len(prefix):]]
    return [c for c in children if named is None or c[len(prefix):] in named]


def assess(ctx: ReachContext) -> dict[PackageKey, Reachability]:
    """Every installed Python distribution: reachable, not imported, or unknown with the reason."""
    packages = [p for p in ctx.packages if p.type == "pypi" and p.kind == "installed" and p.paths]
    if not packages:
        return {}
    facts = ctx.facts.get(ANALYZER)
    if not isinstance(facts, Mapping):
        why = "Python imports were not read in this scan (docs/reachability.md: opt-in)"
        return {p.id: unknown(METHOD, why) for p in packages}
    files = ImageFiles(links=ctx.files.links, files=ctx.files.files | frozenset(facts))
    entry = _entry(ctx, facts, files)
    if entry is None:
        why = "the entrypoint is not a Python program" if ctx.program.argv else "the image has no entrypoint"
        return {p.id: unknown(METHOD, why) for p in packages}
    idx = _index(facts, _roots(facts, entry, ctx))
    missing = [m for m in entry.modules if m not in idx.modules] + [f for f in entry.files if f not in facts]
    if missing and not entry.why_unknown:
        entry.why_unknown = f"{missing[0]} is not a Python module or file of the image"
    closure = _closure(entry, facts, idx)
    why = entry.why_unknown or closure.unknown
    out: dict[PackageKey, Reachability] = {}
    for p in packages:
        home = p.paths[0]
        chain = closure.reached.get(home)
        if chain is not None:
            out[p.id] = Reachability(level="reachable", evidence=chain, method=METHOD)
        elif why:
            out[p.id] = unknown(METHOD, why)
        elif home not in idx.listed:
            out[p.id] = unknown(METHOD, f"{home} lists no files (no RECORD or top_level.txt)")
        else:
            out[p.id] = Reachability(level="not_imported", method=METHOD, evidence=(
                f"not imported from {entry.label}", f"{closure.modules} modules in the closure"))
    return out
