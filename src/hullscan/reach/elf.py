"""Native code, linkage level: the entrypoint program's `DT_NEEDED` closure, by the image's own loader
rules, mapped to the OS packages owning its files (docs/reachability.md).

From the resolved entrypoint (context.py) each needed name is searched as the loader would:
glibc — `DT_RPATH` of the object and its loaders (when the object has no `DT_RUNPATH`),
`LD_LIBRARY_PATH` from the config's Env, the object's `DT_RUNPATH`, `ld.so.cache` (else the
directories `ld.so.conf` names, includes followed), then the default directories; musl — Env, the
object's RPATH/RUNPATH, `/etc/ld-musl-ARCH.path`, its defaults. `$ORIGIN` is the object's directory.
A candidate must exist in the image (symlinks resolved inside it) and match the object's ELF class
and machine. An OS package that supplies no file of the closure is `not_loaded`; one that does is
`reachable`, with the chain as evidence. What `dlopen` loads or the program executes is not seen,
so a shell or interpreter entrypoint, a missing program or an unresolved library leaves `unknown`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from hullscan.model.findings import Reachability
from hullscan.reach.context import ImageFiles, PackageKey, ReachContext, unknown

ANALYZER = "elf"
"""The analyzer whose facts this level reads (inventory/elf_dynamic.py)."""
METHOD = "elf-linkage"
LD_CONF = "/etc/ld.so.conf"
MUSL_DEFAULT = ("/lib", "/usr/local/lib", "/usr/lib")
# e_machine → Debian multiarch triplet (the directories glibc's Debian build searches by default)
MULTIARCH = {62: "x86_64-linux-gnu", 183: "aarch64-linux-gnu", 3: "i386-linux-gnu", 40: "arm-linux-gnueabihf",
             21: "powerpc64le-linux-gnu", 22: "s390x-linux-gnu", 243: "riscv64-linux-gnu"}
MAX_OBJECTS = 4096
EVIDENCE = 4
"""Closure members shown per package."""


def scripts(facts: Mapping[str, Any]) -> dict[str, str]:
    """`#!` files → their interpreter line."""
    out: dict[str, str] = {}
    for path, fact in (facts.get(ANALYZER) or {}).items():
        if isinstance(fact, dict) and isinstance(fact.get("script"), str):
            out[path] = fact["script"]
    return out


class Loader:
    """The image's loader rules over the ELF facts."""

    def __init__(self, facts: Mapping[str, Any], files: ImageFiles, env_path: str | None) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        confs: dict[str, dict[str, Any]] = {}
        self.cache: list[list[str]] | None = None
        for path, fact in facts.items():
            if not isinstance(fact, dict):
                continue
            if isinstance(fact.get("elf"), dict):
                self.objects[path] = fact["elf"]
            elif isinstance(fact.get("ldconf"), dict):
                confs[path] = fact["ldconf"]
            elif isinstance(fact.get("ldcache"), list) and path == "/etc/ld.so.cache":
                self.cache = [e for e in fact["ldcache"] if isinstance(e, list) and len(e) == 2]
        self.files = files
        self.env_dirs = [d for d in (env_path or "").replace(";", ":").split(":") if d.startswith("/")]
        self.conf_dirs = _conf_dirs(confs)
        self.musl_dirs = next((c.get("dirs") or [] for p, c in sorted(confs.items()) if c.get("musl")), None)

    def find(self, name: str, obj: dict[str, Any], path: str, chain: list[tuple[str, dict[str, Any]]],
             musl: bool) -> str | None:
        """Where the loader finds `name` needed by `obj` at `path` (loaded through `chain`), resolved."""
        if "/" in name:
            return self._usable(name if name.startswith("/") else posixpath.join("/", name), obj)
        for directory in self._dirs(obj, path, chain, musl):
            found = self._usable(posixpath.join(directory, name), obj)
            if found is not None:
                return found
        if not musl and self.cache is not None:
            for soname, where in self.cache:
                if soname == name:
                    found = self._usable(where, obj)
                    if found is not None:
                        return found
        for directory in self._defaults(obj, musl):
            found = self._usable(posixpath.join(directory, name), obj)
            if found is not None:
                return found
        return None

    def _dirs(self, obj: dict[str, Any], path: str, chain: list[tuple[str, dict[str, Any]]], musl: bool) -> list[str]:
        out: list[str] = []
        if musl:
            out += self.env_dirs
            out += _expand(obj.get("rpath", ""), path) + _expand(obj.get("runpath", ""), path)
            return out
        if not obj.get("runpath"):
            for p, o in [(path, obj), *reversed(chain)]:
                if not o.get("runpath"):
                    out += _expand(o.get("rpath", ""), p)
        out += self.env_dirs
        out += _expand(obj.get("runpath", ""), path)
        return out

    def _defaults(self, obj: dict[str, Any], musl: bool) -> list[str]:
        if musl:
            return list(self.musl_dirs) if self.musl_dirs is not None else list(MUSL_DEFAULT)
        out = [] if self.cache is not None else list(self.conf_dirs)
        triplet = MULTIARCH.get(obj.get("machine", 0))
        if triplet:
            out += [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
        if obj.get("class") == 64:
            out += ["/lib64", "/usr/lib64"]
        return out + ["/lib", "/usr/lib"]

    def _usable(self, candidate: str, obj: dict[str, Any]) -> str | None:
        real = self.files.resolve(posixpath.normpath(candidate))
        lib = self.objects.get(real) if real is not None else None
        if lib is None or lib.get("class") != obj.get("class") or lib.get("machine") != obj.get("machine"):
            return None
        return real


def _expand(spec: str, path: str) -> list[str]:
    """An RPATH/RUNPATH value as directories, `$ORIGIN` being the object's directory."""
    origin = posixpath.dirname(path)
    out = []
    for d in spec.split(":"):
        d = d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        if d.startswith("/") and "$" not in d:  # $LIB/$PLATFORM are not expanded: such a directory is skipped
            out.append(d)
    return out


def _conf_dirs(confs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """`ld.so.conf`'s directories, its `include` globs followed (each file once)."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen or path not in confs:
            return
        seen.add(path)
        conf = confs[path]
        out.extend(d for d in conf.get("dirs") or [] if isinstance(d, str))
        for pattern in conf.get("include") or []:
            if not isinstance(pattern, str):
                continue
            pattern = pattern if pattern.startswith("/") else posixpath.join(posixpath.dirname(path), pattern)
            for match in sorted(p for p in confs if fnmatchcase(p, pattern)):
                visit(match)

    visit(LD_CONF)
    return out


def closure(ctx: ReachContext) -> tuple[dict[str, list[str]], list[str]]:
    """The entrypoint's closure: {real path: the chain of paths that loads it} and the needed names
    that could not be found."""
    facts = ctx.facts.get(ANALYZER) or {}
    loader = Loader(facts, ctx.files, ctx.env("LD_LIBRARY_PATH"))
    root = ctx.program.path
    top = loader.objects.get(root)
    if top is None:
        return {}, []
    musl = "musl" in top.get("interp", "")
    loaded: dict[str, list[str]] = {root: [root]}
    missing: list[str] = []
    interp = top.get("interp")
    if interp:
        real = loader._usable(interp, top)
        if real is None:
            missing.append(interp)
        else:
            loaded[real] = [root, real]
    todo: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [(root, [])]
    while todo and len(loaded) < MAX_OBJECTS:
        path, chain = todo.pop(0)
        obj = loader.objects[path]
        for name in obj.get("needed") or []:
            if not isinstance(name, str):
                continue
            found = loader.find(name, obj, path, chain, musl)
            if found is None:
                missing.append(name)
            elif found not in loaded:
                loaded[found] = [*loaded[path], found]
                todo.append((found, [*chain, (path, obj)]))
    return loaded, list(dict.fromkeys(missing))


def assess(ctx: ReachContext) -> dict[PackageKey, Reachability]:
    """OS packages with findings: `reachable` (they supply the closure), `not_loaded`, or `unknown`."""
    os_pkgs = {f.package.id: f.package for f in ctx.findings if f.package.is_os}
    if not os_pkgs:
        return {}
    prog = ctx.program
    why = ""
    if prog.kind == "none":
        why = "the image config has no Entrypoint or Cmd"
    elif prog.kind == "missing":
        why = f"the entrypoint {prog.argv[0]!r} is not found in the image"
    elif prog.kind in ("script", "interpreter"):
        what = "a script run by" if prog.kind == "script" else "the interpreter"
        why = (f"the entrypoint {prog.path} is {what} {prog.interpreter!r}: what it runs or loads is not "
               "followed, so linkage says nothing")
    if why:
        return {pid: unknown(METHOD, why) for pid in os_pkgs}
    loaded, missing = closure(ctx)
    if not loaded:
        return {pid: unknown(METHOD, f"{prog.path} has no readable ELF dynamic facts") for pid in os_pkgs}
    by_name: dict[str, list[str]] = {}
    for real in loaded:
        by_name.setdefault(posixpath.basename(real), []).append(real)
    out: dict[PackageKey, Reachability] = {}
    for pid, pkg in os_pkgs.items():
        supplied: list[str] = []
        for f in pkg.files:
            # a package lists the regular files it ships, so a closure member's basename is among its
            # files: only those are resolved (a distro package lists hundreds of files)
            if posixpath.basename(f) not in by_name:
                continue
            owned = ctx.files.resolve(f)
            if owned is not None and owned in loaded and owned not in supplied:
                supplied.append(owned)
        if supplied:
            chains = [" → ".join(loaded[r]) for r in supplied[:EVIDENCE]]
            out[pid] = Reachability(level="reachable", evidence=tuple(chains), method=METHOD)
        elif missing:
            out[pid] = unknown(METHOD, f"not found in the image: {', '.join(missing[:EVIDENCE])} (needed by the "
                                       f"closure of {prog.path}); the package may supply it")
        else:
            out[pid] = Reachability(level="not_loaded", evidence=(
                f"none of its files is among the {len(loaded)} objects {prog.path} loads (dlopen and exec are not seen)",),
                method=METHOD)
    return out
