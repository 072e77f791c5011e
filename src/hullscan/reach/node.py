"""Node.js, import level (docs/reachability.md "Python and Node").

From the entrypoint — `node main.js` (with its `-r`/`--import` preloads), a directory or package
(`node .`: its package.json `main`, else index.js), a `#!…node` script (an npm `bin`), `npm start`
(package.json `scripts.start`, npm's default `node server.js`; npm's own program is followed too, it
runs in the container) — the static require/import closure over the image's JavaScript files
(inventory/node_imports.py facts), with Node's resolution: relative paths with the `.js`/`.json`/
`.node`/`.mjs`/`.cjs` extensions and `index` files, bare names along the `node_modules` walk-up (and
NODE_PATH), package.json `exports` (every condition but types/browser/react-native: an
over-approximation) or `main`, `imports` (`#name`), symlinks resolved inside the image (pnpm).

Each installed npm package: `reachable` when a file of it is in the closure (evidence: the chain of
files), `not_imported` when none is and the closure is complete, `unknown` otherwise (an entrypoint
that is not Node or cannot be read, a specifier computed at run time, a reached file tree-sitter could
not fully parse).
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hullscan.inventory.node_imports import NAME as ANALYZER
from hullscan.model.findings import Reachability
from hullscan.reach import command, elf
from hullscan.reach.context import ImageFiles, PackageKey, ReachContext, find_program, unknown

METHOD = "node-imports"
BUILTINS = frozenset((
    "assert assert/strict async_hooks buffer child_process cluster console constants crypto dgram "
    "diagnostics_channel dns dns/promises domain events fs fs/promises http http2 https inspector "
    "inspector/promises module net os path path/posix path/win32 perf_hooks process punycode querystring "
    "readline readline/promises repl stream stream/consumers stream/promises stream/web string_decoder sys "
    "timers timers/promises tls trace_events tty url util util/types v8 vm wasi worker_threads zlib").split())
"""Node's core modules (`require('module').builtinModules` of Node 20, less the `_` internals): they win
over a node_modules package of the same name."""
EXTENSIONS = ("", ".js", ".json", ".node", ".mjs", ".cjs")
INDEXES = ("index.js", "index.json", "index.node", "index.mjs", "index.cjs")
SKIPPED_CONDITIONS = frozenset({"types", "typings", "browser", "react-native", "deno", "bun", "worker"})
NODE_NAMES = frozenset({"node", "nodejs"})
NPM_NAMES = frozenset({"npm", "yarn", "pnpm"})
_NODE_OPTS_WITH_VALUE = frozenset({"-r", "--require", "--import", "--loader", "--experimental-loader",
                                   "--env-file", "--conditions", "-C", "--input-type", "--title"})
_DISTRO_ROOTS = ("/usr/share/nodejs/", "/usr/lib/nodejs/")


@dataclass
class Entry:
    label: str
    files: list[str] = field(default_factory=list)
    specifiers: list[tuple[str, str]] = field(default_factory=list)
    """(specifier, directory it is resolved from): `-r` preloads, `node -e` imports."""
    why_unknown: str = ""


def _scripts(facts: Mapping[str, Any]) -> dict[str, str]:
    return {p: f["shebang"] for p, f in facts.items() if isinstance(f, dict) and isinstance(f.get("shebang"), str)}


class _Resolver:
    """Node's module resolution over the files the walk recorded."""

    def __init__(self, facts: Mapping[str, Any], files: ImageFiles, node_path: list[str]) -> None:
        self.facts = facts
        self.files = files
        self.node_path = node_path
        self.dirs: set[str] = set()
        for path in facts:
            d = posixpath.dirname(path)
            while d not in self.dirs and d != "/":
                self.dirs.add(d)
                d = posixpath.dirname(d)

    def real(self, path: str) -> str | None:
        """The file at `path` (symlinks resolved), when the walk recorded it."""
        real = self.files.resolve(path)
        return real if real is not None and real in self.facts else None

    def is_dir(self, path: str) -> bool:
        real = self.files.resolve(path)
        return real is not None and real in self.dirs

    def manifest(self, directory: str) -> dict[str, Any] | None:
        real = self.real(directory + "/package.json")
        fact = self.facts.get(real) if real else None
        return fact["pkg"] if isinstance(fact, dict) and isinstance(fact.get("pkg"), dict) else None

    def file_or_dir(self, base: str) -> list[str]:
        for ext in EXTENSIONS:
            if ext and base.endswith("/"):
                break
            real = self.real(base.rstrip("/") + ext) if base.rstrip("/") else None
            if real is not None and not real.endswith("/package.json"):
                return [real]
        return self.directory(base.rstrip("/"))

    def directory(self, base: str) -> list[str]:
        pkg = self.manifest(base)
        if pkg is not None and isinstance(pkg.get("main"), str) and pkg["main"]:
            main = posixpath.normpath(posixpath.join(base, pkg["main"]))
            for ext in EXTENSIONS:
                real = self.real(main + ext)
                if real is not None:
                    return [real]
            for index in INDEXES:
                real = self.real(f"{main}/{index}")
                if real is not None:
                    return [real]
        for index in INDEXES:
            real = self.real(f"{base}/{index}")
            if real is not None:
                return [real]
        return []

    def package_dir(self, name: str, start: str) -> str | None:
        d = start
        while True:
            if posixpath.basename(d) != "node_modules":
                cand = posixpath.join(d, "node_modules", name)
                if self.is_dir(cand):
                    return cand
            if d == "/":
                break
            d = posixpath.dirname(d)
        for extra in self.node_path:
            cand = posixpath.join(extra, name)
            if self.is_dir(cand):
                return cand
        return None

    def resolve(self, spec: str, start: str) -> tuple[list[str], str | None]:
        """(files a specifier loads, the package directory it names or None) from directory `start`."""
        if spec.startswith("node:") or spec in BUILTINS:
            return [], None
        if spec.startswith(("./", "../", "/")) or spec in (".", ".."):
            return self.file_or_dir(posixpath.normpath(posixpath.join(start, spec)) + ("/" if spec.endswith("/") else "")), None
        if spec.startswith("#"):
            return self.imports(spec, start), None
        parts = spec.split("/")
        n = 2 if spec.startswith("@") else 1
        name, sub = "/".join(parts[:n]), "/".join(parts[n:])
        if not name or any(p in ("", ".", "..") for p in parts[:n]):
            return [], None
        pkg_dir = self.package_dir(name, start)
        if pkg_dir is None:
            return [], None
        real_dir = self.files.resolve(pkg_dir) or pkg_dir
        pkg = self.manifest(real_dir)
        if pkg is not None and "exports" in pkg:
            targets = _exports(pkg["exports"], "./" + sub if sub else ".")
            out = [r for t in targets if isinstance(t, str) and t.startswith("./")
                   for r in self.file_or_dir(posixpath.normpath(posixpath.join(real_dir, t)))]
            return out, real_dir
        if sub:
            return self.file_or_dir(posixpath.join(real_dir, sub)), real_dir
        return self.directory(real_dir), real_dir

    def imports(self, spec: str, start: str) -> list[str]:
        """A `#name` specifier through the nearest package.json `imports`."""
        d = start
        while True:
            pkg = self.manifest(d)
            if pkg is not None:
                table = pkg.get("imports")
                if not isinstance(table, dict):
                    return []
                out = []
                for target in _exports(table, spec):
                    if isinstance(target, str):
                        if target.startswith("./"):
                            out.extend(self.file_or_dir(posixpath.normpath(posixpath.join(d, target))))
                        else:
                            out.extend(self.resolve(target, d)[0])
                return out
            if d == "/":
                return []
            d = posixpath.dirname(d)

    def under(self, prefix: str) -> list[str]:
        """Files whose path starts with `prefix` (a bounded dynamic import)."""
        return sorted(p for p in self.facts if p.startswith(prefix) and p.endswith((".js", ".mjs", ".cjs")))


def _exports(value: Any, sub: str) -> list[Any]:
    """The targets package.json `exports` (or `imports`) maps subpath `sub` to, over every condition
    Node could take (an over-approximation: a condition the runtime skips costs precision only)."""
    if isinstance(value, str):
        return [value] if sub in (".", "") or sub.startswith("#") else []
    if isinstance(value, list):
        return [t for v in value for t in _exports(v, sub)]
    if not isinstance(value, dict):
        return []
    keys = [k for k in value if isinstance(k, str)]
    if keys and all(k.startswith((".", "#")) for k in keys):  # a subpath map
        if sub in value:
            return _conditions(value[sub])
        out: list[Any] = []
        for key in keys:
            star = key.find("*")
            if star >= 0 and sub.startswith(key[:star]) and sub.endswith(key[star + 1:]) and len(sub) >= len(key) - 1:
                middle = sub[star: len(sub) - (len(key) - star - 1)]
                out.extend(t.replace("*", middle) if isinstance(t, str) else t for t in _conditions(value[key]))
            elif key.endswith("/") and sub.startswith(key):  # the old folder mapping
                out.extend(t + sub[len(key):] for t in _conditions(value[key]) if isinstance(t, str))
        return out
    return _conditions(value) if sub in (".", "") else []


def _conditions(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in SKIPPED_CONDITIONS for t in _conditions(v)]
    if isinstance(value, list):
        return [t for v in value for t in _conditions(v)]
    return [value] if isinstance(value, str) else []


def _entry(ctx: ReachContext, facts: Mapping[str, Any], files: ImageFiles, res: _Resolver) -> Entry | None:
    argv = command.unwrap(ctx.program.argv)
    if argv is None:
        return Entry(label=" ".join(ctx.program.argv), why_unknown="the entrypoint is a shell command line")
    if not argv:
        return None
    # found again with the scripts this level read (`#!` lines the ELF facts may not hold)
    program = find_program(argv, ctx.config, files, {**elf.scripts(ctx.facts), **_scripts(facts)})
    cwd = ctx.config.working_dir or "/"
    name = posixpath.basename(argv[0])
    interp = posixpath.basename(program.interpreter.split()[0]) if program.interpreter else ""
    if name in NPM_NAMES:
        return _npm(argv, program.path, cwd, ctx, files, res)
    if program.kind == "script" and interp in NODE_NAMES:
        return Entry(label=program.path, files=[program.path])
    if name not in NODE_NAMES and not (program.kind == "interpreter" and interp in NODE_NAMES):
        return None
    entry = Entry(label=" ".join(argv))
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        opt, eq, value = arg.partition("=")
        if opt in ("-r", "--require", "--import", "--loader", "--experimental-loader"):
            value = value if eq else (args.pop(0) if args else "")
            entry.specifiers.append((value, cwd))
        elif opt in _NODE_OPTS_WITH_VALUE:
            if not eq and args:
                args.pop(0)
        elif arg in ("-e", "--eval", "-p", "--print"):
            if not args:
                break
            from hullscan.inventory.node_imports import extract

            fact = extract(args.pop(0).encode())
            entry.specifiers.extend((s[0], cwd) for s in fact.get("i", ()))
            if fact.get("d") or fact.get("e"):
                entry.why_unknown = "node --eval computes a module name at run time"
            return entry
        elif arg.startswith("-"):
            continue
        else:
            target = posixpath.normpath(posixpath.join(cwd, arg))
            found = res.file_or_dir(target)
            if not found:
                entry.why_unknown = f"{target} is not a JavaScript file or package of the image"
            entry.files.extend(found)
            entry.label = target
            return entry
    if not entry.specifiers:
        entry.why_unknown = "node runs without a script (a REPL or stdin)"
    return entry


def _npm(argv: tuple[str, ...], npm_path: str, cwd: str, ctx: ReachContext, files: ImageFiles,
         res: _Resolver) -> Entry:
    """`npm start` (`npm run start`, `yarn start`, `pnpm start`): package.json's start script, npm's
    default `node server.js` when there is none, and npm's own program."""
    words = [w for w in argv[1:] if not w.startswith("-")]
    if words[:1] in (["run"], ["run-script"]):
        words = words[1:]
    label = " ".join(argv)
    if words[:1] != ["start"]:
        return Entry(label=label, why_unknown=f"{label}: only the start script is followed")
    pkg = res.manifest(cwd)
    if pkg is None:
        return Entry(label=label, why_unknown=f"no package.json in {cwd}")
    start = pkg.get("start")
    script = start if isinstance(start, str) else "node server.js"
    inner = command.shell_words(script)
    if not inner:
        return Entry(label=label, why_unknown=f"the start script is a shell command line: {script}")
    sub_ctx = ReachContext(config=ctx.config, facts=ctx.facts, packages=ctx.packages, findings=ctx.findings,
                           files=ctx.files, program=find_program(tuple(inner), ctx.config, files, _scripts(res.facts)))
    entry = _entry(sub_ctx, res.facts, files, res) or Entry(
        label=script, why_unknown=f"the start script does not run node: {script}")
    entry.label = f"{label} ({script})"
    if npm_path and npm_path in res.facts:
        entry.files.append(npm_path)
    return entry


def package_json_of(path: str) -> str:
    """The package.json of the installed package a file belongs to ('' for an application file)."""
    cut = path.rfind("/node_modules/")
    if cut >= 0:
        rest = path[cut + len("/node_modules/"):].split("/")
        n = 2 if rest[0].startswith("@") else 1
        if len(rest) > n:
            return path[: cut + len("/node_modules/")] + "/".join(rest[:n]) + "/package.json"
        return ""
    for root in _DISTRO_ROOTS:
        if path.startswith(root):
            rest = path[len(root):].split("/")
            n = 2 if rest[0].startswith("@") else 1
            if len(rest) > n:
                return root + "/".join(rest[:n]) + "/package.json"
    return ""


@dataclass
class _Closure:
    reached: dict[str, tuple[str, ...]] = field(default_factory=dict)
    files: int = 0
    unknown: str = ""


def _closure(entry: Entry, res: _Resolver) -> _Closure:
    out = _Closure()
    seen: set[str] = set()
    todo: deque[tuple[str, tuple[str, ...]]] = deque()

    def add(path: str, chain: tuple[str, ...]) -> None:
        if path not in seen:
            seen.add(path)
            todo.append((path, (*chain, path)))

    def load(spec: str, start: str, chain: tuple[str, ...]) -> None:
        found, pkg_dir = res.resolve(spec, start)
        if pkg_dir is not None:  # the package is loaded even when its file is not one the walk read
            out.reached.setdefault(pkg_dir + "/package.json", (*chain, pkg_dir))
        for path in found:
            add(path, chain)

    for path in entry.files:
        add(path, ())
    for spec, start in entry.specifiers:
        load(spec, start, (entry.label,))
    while todo:
        path, chain = todo.popleft()
        out.files += 1
        owner = package_json_of(path)
        if owner:
            out.reached.setdefault(owner, chain)
        fact = res.facts.get(path)
        if not isinstance(fact, dict) or path.endswith(".json"):
            continue
        if fact.get("e"):
            out.unknown = out.unknown or f"{path} could not be fully parsed ({fact['e']} errors)"
        start = posixpath.dirname(path)
        for item in fact.get("i", ()):
            if isinstance(item, list) and item and isinstance(item[0], str):
                load(item[0], start, chain)
        for item in fact.get("d", ()):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
                continue
            line, prefix = item
            if prefix.startswith(("./", "../")):  # bounded to a directory of this package
                base = posixpath.normpath(posixpath.join(start, prefix))
                for p in res.under(base + "/" if prefix.endswith("/") else base):
                    add(p, chain)
            elif "/" in prefix and not prefix.startswith(("/", ".")):
                name = prefix.split("/")[0] if not prefix.startswith("@") else "/".join(prefix.split("/")[:2])
                pkg_dir = res.package_dir(name, start)
                if pkg_dir is not None:
                    real = res.files.resolve(pkg_dir) or pkg_dir
                    out.reached.setdefault(real + "/package.json", (*chain, real))
                    for p in res.under(real + prefix[len(name):]):
                        add(p, chain)
                else:
                    out.unknown = out.unknown or f"{path}:{line} imports a module named at run time"
            else:
                out.unknown = out.unknown or f"{path}:{line} imports a module named at run time"
    return out


def assess(ctx: ReachContext) -> dict[PackageKey, Reachability]:
    """Every installed npm package: reachable, not imported, or unknown with the reason."""
    packages = [p for p in ctx.packages if p.type == "npm" and p.kind == "installed" and p.paths]
    if not packages:
        return {}
    facts = ctx.facts.get(ANALYZER)
    if not isinstance(facts, Mapping):
        why = "JavaScript imports were not read in this scan (docs/reachability.md: opt-in)"
        return {p.id: unknown(METHOD, why) for p in packages}
    files = ImageFiles(links=ctx.files.links, files=ctx.files.files | frozenset(facts))
    node_path = [p for p in (ctx.env("NODE_PATH") or "").split(":") if p.startswith("/")]
    res = _Resolver(facts, files, node_path)
    entry = _entry(ctx, facts, files, res)
    if entry is None:
        why = "the entrypoint is not a Node program" if ctx.program.argv else "the image has no entrypoint"
        return {p.id: unknown(METHOD, why) for p in packages}
    closure = _closure(entry, res)
    why = entry.why_unknown or closure.unknown
    out: dict[PackageKey, Reachability] = {}
    for p in packages:
        manifest = p.paths[0]
        chain = closure.reached.get(manifest) or closure.reached.get(files.resolve(manifest) or manifest)
        if chain is not None:
            out[p.id] = Reachability(level="reachable", evidence=(entry.label, *chain[1:]) if chain else (entry.label,),
                                     method=METHOD)
        elif why:
            out[p.id] = unknown(METHOD, why)
        else:
            out[p.id] = Reachability(level="not_imported", method=METHOD, evidence=(
                f"not imported from {entry.label}", f"{closure.files} files in the closure"))
    return out
