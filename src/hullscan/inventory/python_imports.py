"""Python imports, per file, for the import-level reachability (hullscan.reach.python).

Facts, cached per layer like every analyzer's (so a layer's files are parsed once, ever):

- every `.py` file outside the standard library, and every executable with a `#!…python` line (console
  scripts): its static imports, read with `ast` — `import a.b`, `from .x import y`, literal
  `importlib.import_module("m")` / `__import__("m")` / `runpy.run_module("m")` — and its dynamic ones
  (a non-literal argument; a literal prefix such as `"pkg.plugins." + name` is kept, since it bounds
  what can load);
- each distribution's file list (`*.dist-info/RECORD`, `*.egg-info/installed-files.txt`) and
  `top_level.txt`, which map module files to the installed packages;
- `*.pth` files, whose `import` lines run at every interpreter start and whose other lines add paths.

The standard library is not parsed: it imports no installed package, and its modules are leaves of the
closure (`reach/python.py`). A file `ast` cannot parse (syntax newer than this Python, Python 2) keeps
its error, and a closure that reaches it is `unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

NAME = "python-imports"

# /usr/lib/python3.11/…, /usr/local/lib/python3.12/…, /opt/conda/lib/python3.10/… — but not their
# site-packages / dist-packages, which hold installed distributions.
_STDLIB = re.compile(r"/lib/python[23]\.\d+/(?!(?:site|dist)-packages/)")
_SHEBANG = re.compile(rb"^#![^\n]*python", re.IGNORECASE)
# Cheap tests before walking the tree for calls: most files make none of these calls.
_DYNAMIC_HINT = re.compile(rb"import_module|__import__|run_module|run_path")
_IMPORT_FUNCS = {"import_module": "import_module", "__import__": "__import__", "run_module": "run_module",
                 "run_path": "run_path"}


def is_stdlib(path: str) -> bool:
    """A file of a Python standard library (not its site-packages)."""
    return _STDLIB.search(path) is not None


def _literal_prefix(node: Any) -> str | None:
    """The constant text a string expression starts with: `"a." + x` → `a.`, f"a.{x}" → `a.`,
    `"a.%s" % x` / `"a.{}".format(x)` → `a.`; None when nothing is constant."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_prefix(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = _literal_prefix(node.left)
        return left.split("%", 1)[0] if left is not None else None
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
        return node.func.value.value.split("{", 1)[0]
    return None


def _call_name(func: Any) -> str:
    import ast

    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(body: list[Any]) -> Iterator[Any]:
    """Every statement of a module, nested ones (in functions, classes, if/try/with/match) included."""
    todo = list(reversed(body))
    while todo:
        node = todo.pop()
        yield node
        for name in _BODIES:
            inner = getattr(node, name, None)
            if inner:
                todo.extend(reversed(inner))


def _import_call(kind: str, node: Any) -> list[Any]:
    """A call of an import function → an import `[module, level, [], line]` when its target is literal,
    else a dynamic import `[line, literal prefix, level]`."""
    import ast

    line = node.lineno
    if kind == "run_path":  # runs a file named at run time: no module name to follow
        return [line, "", 0]
    arg = node.args[0]
    literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    written = arg.value if literal else (_literal_prefix(arg) or "")
    level = len(written) - len(written.lstrip("."))
    if kind == "__import__" and len(node.args) > 4:  # __import__(name, globals, locals, fromlist, level)
        lvl = node.args[4]
        if not (isinstance(lvl, ast.Constant) and isinstance(lvl.value, int)):
            return [line, "", 0]
        level = lvl.value
    elif kind == "import_module" and level:
        package = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "package"), None)
        if isinstance(package, ast.Constant) and isinstance(package.value, str) and package.value:
            # relative to a package named literally: make it absolute
            base = package.value.split(".")
            if level - 1 >= len(base):
                return [line, "", 0]
            written, level = ".".join(base[: len(base) - (level - 1)]) + "." + written.lstrip("."), 0
        elif not (isinstance(package, ast.Name) and package.id in ("__package__", "__name__")):
            return [line, "", 0]  # relative to a package computed at run time
        # `__name__` is read as `__package__`: it is the package itself in an __init__.py, where such
        # lazy imports live
    elif kind != "import_module":
        level = 0  # __import__/run_module take absolute names
    name = written.lstrip(".") if level else written
    if literal and name:
        return [name, level, [], line]
    return [line, name, level]


def extract(source: bytes | str) -> dict[str, Any]:
    """One file's imports: `{"i": [[module, level, [names…], line]…], "d": [[line, prefix, level]…],
    "all": [names…]}` (only the keys that have content), or `{"e": "line N: message"}` when `ast` cannot
    parse it. `i` holds `import a.b` as `["a.b", 0, [], n]` and `from ..x import y, z` as
    `["x", 2, ["y", "z"], n]`; a literal `import_module(".x", __package__)` becomes a relative import
    (`package` named otherwise is taken as given). `d` holds each dynamic import: the literal prefix of
    its argument ('' when none) and its relative level. `all` is a literal `__all__` (what `from m import *`
    names)."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as err:  # ValueError: NUL bytes in the source
        line = getattr(err, "lineno", None)
        return {"e": f"line {line}: {getattr(err, 'msg', None) or err}" if line else str(err)}
    imports: list[list[Any]] = []
    dynamic: list[list[Any]] = []
    star_all: list[str] | None = None
    raw = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    # Imports are statements: walking statements only (not every expression) is most of the speed;
    # the expressions are walked for import calls only in files that name an import function.
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            imports.extend([alias.name, 0, [], node.lineno] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.append([node.module or "", node.level or 0, [a.name for a in node.names], node.lineno])
        elif isinstance(node, ast.Assign) and star_all is None and isinstance(node.value, (ast.List, ast.Tuple)):
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                star_all = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if _DYNAMIC_HINT.search(raw) is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                kind = _IMPORT_FUNCS.get(_call_name(node.func))
                if kind is not None and node.args:
                    found = _import_call(kind, node)
                    (imports if len(found) == 4 else dynamic).append(found)
    out: dict[str, Any] = {}
    if imports:
        out["i"] = imports
    if dynamic:
        out["d"] = dynamic
    if star_all:
        out["all"] = star_all
    return out


def _parse_source(path: str, data: bytes, warn: WarnFn) -> Any:
    return extract(data)


def _parse_script(path: str, data: bytes, warn: WarnFn) -> Any:
    """An executable: a Python script only when its `#!` line names python."""
    if not _SHEBANG.match(data):
        return None
    fact = extract(data)
    fact["shebang"] = data.split(b"\n", 1)[0][2:].decode("utf-8", "replace").strip()
    return fact


_MODULE_FILE = re.compile(r"\.(py|pyc|so|pyd)$")


def _parse_record(path: str, data: bytes, warn: WarnFn) -> Any:
    """RECORD (`path,hash,size` CSV) or installed-files.txt (one path a line): the module files and
    scripts (paths as written, relative to the site directory or the egg-info directory)."""
    files: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        entry = line.strip()
        if not entry:
            continue
        if path.endswith("/RECORD"):
            # a path with a comma is quoted ("a,b.py",sha256=…,12)
            if entry.startswith('"'):
                end = entry.find('"', 1)
                entry = entry[1:end] if end > 0 else entry[1:]
            else:
                entry = entry.rsplit(",", 2)[0] if entry.count(",") >= 2 else entry.split(",", 1)[0]
        if _MODULE_FILE.search(entry) or "/bin/" in entry or entry.startswith("../"):
            files.append(entry)
    return {"files": files}


def _parse_top_level(path: str, data: bytes, warn: WarnFn) -> Any:
    names = [n.strip() for n in data.decode("utf-8", "replace").splitlines() if n.strip()]
    return {"top_level": names}


def _parse_pth(path: str, data: bytes, warn: WarnFn) -> Any:
    """A .pth file: lines starting with `import` run at start-up (site.py); other lines are paths."""
    imports: list[list[Any]] = []
    dynamic: list[list[Any]] = []
    paths: list[str] = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(("import ", "import\t")):
            fact = extract(text)
            imports.extend(fact.get("i", []))
            dynamic.extend(fact.get("d", []))
            if "e" in fact:  # code site.py would run, which ast cannot read: anything may load
                dynamic.append([number, "", 0])
        else:
            paths.append(text)
    out: dict[str, Any] = {"pth": paths}
    if imports:
        out["i"] = imports
    if dynamic:
        out["d"] = dynamic
    return out


class PythonImportsAnalyzer(Analyzer):
    """Per-file imports of Python code, and the distributions' file lists (reach/python.py reads them)."""

    name = NAME
    version = 1
    scanners = frozenset({"vuln"})
    files = (
        FileRule(extensions=("py",), skip=is_stdlib, parse=_parse_source),
        FileRule(globs=("**/*.dist-info/RECORD", "**/*.egg-info/installed-files.txt"), parse=_parse_record),
        FileRule(globs=("**/*.dist-info/top_level.txt", "**/*.egg-info/top_level.txt"), parse=_parse_top_level),
        FileRule(extensions=("pth",), max_size=MiB, parse=_parse_pth),
        FileRule(executable=True, max_size=MiB, exclude_extensions=("so", "py"), parse=_parse_script),
    )
    max_size = 16 * MiB  # generated modules can be big; bigger ones are left out with a warning

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(facts={path: ff.fact for path, ff in view.files.items()})
