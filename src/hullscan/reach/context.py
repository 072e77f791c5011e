"""What every reachability level reads: the image config's entrypoint resolved inside the image, the
applied facts of the analyzers, the inventory and the findings (`ReachContext`), and path resolution
through the image's own symlinks (`ImageFiles`) — never the host's."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hullscan.model.findings import Finding, Reachability
from hullscan.model.image import ImageConfig
from hullscan.model.inventory import Package

PackageKey = str
"""A package's `Package.id`: what a package-level decision (linkage, imports) is about."""
FindingKey = tuple[str, str]
"""(`Package.id`, `Finding.id`): a decision about one vulnerability of one package (Go symbols)."""

MAX_LINKS = 40  # the kernel's limit on symlinks followed while resolving one path (ELOOP)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""What a runtime puts in PATH when the config sets none (runc, containerd, Docker)."""
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox", "env", "tini", "dumb-init"})
INTERPRETERS = ("python", "node", "nodejs", "java", "ruby", "perl", "php", "deno", "bun", "pwsh", "dotnet", "lua")


def unknown(method: str, why: str) -> Reachability:
    """The default: undecided, with the reason as evidence."""
    return Reachability(level="unknown", evidence=(why,), method=method)


@dataclass(frozen=True)
class ImageFiles:
    """The squashed image's paths as the analyzers saw them: symlinks (the `symlinks` analyzer) and the
    files some analyzer recorded. Resolution follows the image's links component by component, `..`
    never climbing above `/`, as the kernel does inside the container's root."""

    links: Mapping[str, str]
    """Symlink path → its target as stored."""
    files: frozenset[str]
    """Regular files known to exist (every file a reach analyzer recorded)."""

    def resolve(self, path: str) -> str | None:
        """`path` with every symlink in it resolved inside the image, or None on a loop (ELOOP)."""
        hops = 0
        todo = [p for p in path.split("/") if p]
        done: list[str] = []
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            current = "/" + "/".join((*done, part))
            target = self.links.get(current)
            if target is None:
                done.append(part)
                continue
            hops += 1
            if hops > MAX_LINKS:
                return None
            if target.startswith("/"):
                done = []
            todo[:0] = [p for p in target.split("/") if p]
        return "/" + "/".join(done)

    def exists(self, path: str) -> bool:
        """A known regular file after resolution."""
        real = self.resolve(path)
        return real is not None and real in self.files


@dataclass(frozen=True)
class Program:
    """The entrypoint's program: `argv` as the config gives it (Entrypoint + Cmd), its first word found
    in the image (`path`, symlinks resolved), and what it is."""

    argv: tuple[str, ...]
    path: str = ""
    """The executable inside the image, symlinks resolved; '' when not found."""
    kind: str = "none"
    """`elf`, `script` (a `#!` file: `interpreter` says which), `interpreter` (argv[0] is a shell or an
    interpreter itself), `missing` (not found in the image), `none` (no Entrypoint/Cmd)."""
    interpreter: str = ""
    """For a script or interpreter entrypoint: the interpreter's name (`sh`, `python3`, `node`)."""


@dataclass(frozen=True)
class ReachContext:
    """What a level's `assess(ctx)` reads (docs/reachability.md)."""

    config: ImageConfig
    """The image config (Entrypoint, Cmd, WorkingDir, Env: the unmasked values, never reported)."""
    facts: Mapping[str, Any]
    """The applied facts of the analyzers, by analyzer name (`Inventory.facts`)."""
    packages: Sequence[Package]
    findings: Sequence[Finding]
    files: ImageFiles
    program: Program
    warnings: list[str] = field(default_factory=list)
    """Problems a level met (a malformed fact), said once each in the report's warnings."""

    def env(self, name: str) -> str | None:
        """The config's environment variable `name` (the last one wins, as runtimes apply them)."""
        value = None
        for entry in self.config.env:
            key, sep, val = entry.partition("=")
            if sep and key == name:
                value = val
        return value


def find_program(argv: tuple[str, ...], config: ImageConfig, files: ImageFiles,
                 scripts: Mapping[str, str]) -> Program:
    """Resolve `argv[0]` as a runtime does: a name with a `/` against WorkingDir, else along the
    config's PATH (the runtime default when unset); `scripts` maps a `#!` file to its interpreter line."""
    if not argv:
        return Program(argv=argv)
    first = argv[0]
    if "/" in first:
        candidates = [posixpath.join(config.working_dir or "/", first)]
    else:
        path_var = DEFAULT_PATH
        for entry in config.env:
            key, sep, val = entry.partition("=")
            if sep and key == "PATH":
                path_var = val
        candidates = [posixpath.join(d if d.startswith("/") else posixpath.join(config.working_dir or "/", d), first)
                      for d in path_var.split(":") if d]
    for cand in candidates:
        real = files.resolve(posixpath.normpath(cand))
        if real is None or real not in files.files:
            continue
        base = posixpath.basename(real)
        if real in scripts:
            words = scripts[real].split()
            interp = posixpath.basename(words[0]) if words else ""
            if interp == "env" and len(words) > 1:
                interp = posixpath.basename(words[1])
            return Program(argv=argv, path=real, kind="script", interpreter=interp)
        if _is_interpreter(base) or _is_interpreter(posixpath.basename(first)):
            return Program(argv=argv, path=real, kind="interpreter", interpreter=base)
        return Program(argv=argv, path=real, kind="elf")
    return Program(argv=argv, kind="missing")


def _is_interpreter(name: str) -> bool:
    return name in SHELLS or name.startswith(INTERPRETERS)
