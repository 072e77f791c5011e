"""Go modules: the build information linked into Go binaries, and go.mod/go.sum (declared).

A Go binary (ELF, PE or Mach-O) carries a `buildinfo` blob (section `.go.buildinfo`, 16-byte aligned
header `\\xff Go buildinf:`): the toolchain version and the module info text `go version -m` prints
(`path`, `mod`, `dep`, `=>` replacements, `build` settings). Go ≥ 1.18 stores both strings inline
after the header (flags & 2); older toolchains store pointers to Go string headers, which are
followed through the executable's sections. The toolchain becomes the `stdlib` package.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from hullscan.inventory.binfmt import BinaryFormatError, Executable, is_executable, open_executable
from hullscan.inventory.lockfiles.go import parse_go_mod, parse_go_sum, resolve_go_mod
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, Parser, WarnFn

BUILDINFO_MAGIC = b"\xff Go buildinf:"
_GO_NOTE_LE = b"\x04\x00\x00\x00Go\x00\x00"  # note type 4 (NT_GOBUILDID), name "Go"
_GO_NOTE_BE = b"\x00\x00\x00\x04Go\x00\x00"
DEVEL = "(devel)"
ECOSYSTEM = "Go"

# Directories whose files are treated as programs even when the walker has no mode bits for them.
BIN_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
            "/usr/libexec/", "/opt/", "/app/", "/go/bin/", "/root/go/bin/", "/ko-app/")
# Executable bit set but certainly not a compiled program: skip without reading.
_SCRIPT_SUFFIXES = (".sh", ".py", ".pl", ".rb", ".js", ".txt", ".json", ".yaml", ".yml", ".md", ".conf",
                    ".cfg", ".xml", ".html", ".css", ".jar", ".pyc", ".php", ".bash", ".ps1", ".bat", ".cmd")
BINARY_MAX_SIZE = 256 * MiB


def binary_rules(parse: Parser) -> tuple[FileRule, ...]:
    """The file table of a compiled-program analyzer: files with an x bit or in a program directory
    that could be programs (64 bytes at least, not named like a script)."""
    scripts = tuple(f"**/*{suffix}" for suffix in _SCRIPT_SUFFIXES)
    return (FileRule(executable=True, prefixes=BIN_DIRS, min_size=64, exclude=scripts, parse=parse),)


def golang_purl(path: str, version: str) -> str:
    namespace, _, name = path.rpartition("/")
    return purl("golang", name, version, namespace)  # "" for `github.com/a/`: the applier leaves it out


# ---------------------------------------------------------------------------------------- buildinfo


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(buf) and shift < 64:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad varint")


def _find_blob(exe: Executable) -> bytes | None:
    blob = exe.section(".go.buildinfo", "__go_buildinfo")
    if blob is not None and blob.startswith(BUILDINFO_MAGIC):
        return blob
    # PE puts it in .data, some linkers drop the section name: search 16-aligned like the Go reader does.
    pos = exe.data.find(BUILDINFO_MAGIC)
    while pos != -1:
        if pos % 16 == 0:
            return exe.data[pos : pos + 64 * 1024 * 1024]
        pos = exe.data.find(BUILDINFO_MAGIC, pos + 1)
    return None


def _read_go_string(exe: Executable, addr: int, ptr: int, order: Literal["little", "big"]) -> str:
    """A Go string header (data pointer, length) at `addr` → the string."""
    header = exe.read_at(addr, 2 * ptr)
    if header is None:
        raise ValueError(f"string header at {addr:#x} outside the file")
    data_ptr = int.from_bytes(header[:ptr], order)
    length = int.from_bytes(header[ptr:], order)
    if length > 64 * 1024 * 1024:
        raise ValueError("implausible string length")
    raw = exe.read_at(data_ptr, length) if length else b""
    if raw is None:
        raise ValueError(f"string data at {data_ptr:#x} outside the file")
    return raw.decode("utf-8", "replace")


def read_buildinfo(data: bytes) -> tuple[str, str] | None:
    """(toolchain version, module info text) of a Go binary; None when the file is not one.

    Raises BinaryFormatError / ValueError when it is an executable whose buildinfo is unreadable."""
    exe = open_executable(data)
    if exe is None:
        return None
    blob = _find_blob(exe)
    if blob is None:
        return None
    if len(blob) < 32:
        raise ValueError("truncated buildinfo header")
    ptr, flags = blob[14], blob[15]
    if flags & 2:  # Go 1.18+: two varint-prefixed strings right after the 32-byte header
        pos = 32
        strings = []
        for _ in range(2):
            n, pos = _uvarint(blob, pos)
            if pos + n > len(blob):
                raise ValueError("truncated buildinfo string")
            strings.append(blob[pos : pos + n].decode("utf-8", "replace"))
            pos += n
        vers, mod = strings
    else:  # older: pointers to runtime.buildVersion and runtime.modinfo
        if ptr not in (4, 8):
            raise ValueError(f"bad pointer size {ptr}")
        order: Literal["little", "big"] = "big" if flags & 1 else "little"
        vers = _read_go_string(exe, int.from_bytes(blob[16 : 16 + ptr], order), ptr, order)
        mod = _read_go_string(exe, int.from_bytes(blob[16 + ptr : 16 + 2 * ptr], order), ptr, order)
    # modinfo is framed by 16 sentinel bytes on each side
    if len(mod) >= 33 and mod[-17] == "\n":
        mod = mod[16:-16]
    return vers, mod


def parse_modinfo(vers: str, mod: str) -> dict[str, Any]:
    """The module info text → {go, path, main, deps, settings} (plain JSON)."""
    fact: dict[str, Any] = {"go": vers, "path": "", "main": None, "deps": [], "settings": {}}
    last: dict[str, Any] | None = None
    for line in mod.splitlines():
        cols = line.split("\t")
        kind = cols[0]
        if kind == "path" and len(cols) > 1:
            fact["path"] = cols[1]
        elif kind in ("mod", "dep") and len(cols) >= 3:
            entry = {"path": cols[1], "version": cols[2], "sum": cols[3] if len(cols) > 3 else ""}
            if kind == "mod":
                fact["main"] = entry
            else:
                fact["deps"].append(entry)
            last = entry
        elif kind == "=>" and last is not None and len(cols) >= 2:
            last["replace"] = {"path": cols[1], "version": cols[2] if len(cols) > 2 else "",
                               "sum": cols[3] if len(cols) > 3 else ""}
        elif kind == "build" and len(cols) > 1:
            key, _, value = cols[1].partition("=")
            fact["settings"][key] = _unquote(value)
    return fact


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return value[1:-1]
    return value


_X_VERSION = re.compile(r"^[\w./-]*\.(?:[vV]ersion|gitVersion|buildVersion)=(.+)$")


def ldflags_version(ldflags: str) -> str:
    """The value a build stamped with `-X main.version=…` (evidence only, never the module version)."""
    try:
        args = shlex.split(ldflags)
    except ValueError:
        args = ldflags.split()
    for i, arg in enumerate(args):
        target = ""
        if arg == "-X" and i + 1 < len(args):
            target = args[i + 1]
        elif arg.startswith("-X="):
            target = arg[3:]
        m = _X_VERSION.match(target)
        if m:
            return m.group(1)
    return ""


def stdlib_version(vers: str) -> str:
    """`go1.23.4` from `go1.23.4`, `go1.22.0 X:boringcrypto`, `devel go1.24-abc` → `(devel)`."""
    m = re.match(r"(go\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)(?:\s|$)", vers.strip())
    return m.group(1) if m else DEVEL


def _parse_binary(path: str, data: bytes, warn: WarnFn) -> Any:
    if not is_executable(data):
        return None
    has_magic = BUILDINFO_MAGIC in data
    # The ELF note of the Go build ID sits in the first page: a cut-off Go binary still shows it.
    go_note = _GO_NOTE_LE in data[:65536] or _GO_NOTE_BE in data[:65536]
    if not has_magic and not go_note:
        return None  # not a Go program: no need to parse its headers
    try:
        found = read_buildinfo(data)
    except (BinaryFormatError, ValueError) as exc:
        warn(f"unreadable Go build info: {exc}")
        return None
    if found is None:
        warn("Go binary without readable build info (truncated or stripped)")
        return None
    vers, mod = found
    return parse_modinfo(vers, mod)


class GoBinaryAnalyzer(Analyzer):
    """Modules compiled into Go executables (installed packages)."""

    name = "go-binary"
    version = 1
    files = binary_rules(_parse_binary)
    max_size = BINARY_MAX_SIZE

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            pkgs.extend(binary_packages(path, ff.fact, self.name))
        return Assembled(packages=pkgs)


def binary_packages(path: str, fact: dict[str, Any], analyzer: str) -> list[Package]:
    """Packages of one binary's parsed build info."""
    out: list[Package] = []
    paths = (path,)
    main = fact.get("main")
    settings = fact.get("settings") or {}
    if main and main.get("path"):
        version = main.get("version") or DEVEL
        extra: dict[str, Any] = {"main_module": True, "go_path": fact.get("path", "")}
        stamped = ldflags_version(settings.get("-ldflags", ""))
        if stamped:
            extra["ldflags_version"] = stamped  # evidence only: `(devel)` stays unmatched
        for key in ("GOOS", "GOARCH", "CGO_ENABLED", "vcs.revision", "vcs.time"):
            if key in settings:
                extra[key] = settings[key]
        if main.get("sum"):
            extra["sum"] = main["sum"]
        out.append(Package("golang", main["path"], version, ECOSYSTEM, golang_purl(main["path"], version),
                           analyzer, paths, extra=extra))
    for dep in fact.get("deps", []):
        name, version, digest = dep["path"], dep["version"], dep.get("sum", "")
        extra = {}
        rep = dep.get("replace")
        if rep:
            extra["replaces"] = f"{name}@{version}"
            if rep.get("version") not in ("", DEVEL) and not rep["path"].startswith((".", "/")):
                # replaced by another module version
                name, version, digest = rep["path"], rep["version"], rep.get("sum", "")
            else:  # replaced by a local directory: the code is not the registry module's
                extra["local_replace"] = rep["path"]
                version = DEVEL
        if digest:
            extra["sum"] = digest
        out.append(Package("golang", name, version, ECOSYSTEM, golang_purl(name, version), analyzer, paths,
                           extra=extra))
    go = stdlib_version(fact.get("go", ""))
    if fact.get("go"):
        out.append(Package("golang", "stdlib", go, ECOSYSTEM, golang_purl("stdlib", go), analyzer, paths,
                           extra={"toolchain": fact["go"]}))
    return out


# ---------------------------------------------------------------------------------------- go.mod


def _parse_mod_file(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"mod": parse_go_mod(data, warn)}


def _parse_sum_file(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"sum": parse_go_sum(data, warn)}


# Dependencies' own go.mod files: vendored copies and the module cache.
_NOT_PROJECTS = ("**/vendor/**", "**/pkg/mod/**")


class GoModAnalyzer(Analyzer):
    """Modules declared by go.mod (with go.sum for pre-1.17 modules' transitive dependencies)."""

    name = "gomod"
    version = 1
    files = (
        FileRule(names=("go.mod",), exclude=_NOT_PROJECTS, parse=_parse_mod_file),
        FileRule(names=("go.sum",), exclude=_NOT_PROJECTS, parse=_parse_sum_file),
    )
    max_size = 16 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            if not path.endswith("/go.mod") or "mod" not in ff.fact:
                continue
            sibling = view.files.get(path[: -len("go.mod")] + "go.sum")
            go_sum = sibling.fact.get("sum") if sibling is not None else None
            mod = ff.fact["mod"]
            for m in resolve_go_mod(mod, go_sum):
                extra: dict[str, Any] = {k: m[k] for k in ("sum", "replaced", "local") if k in m}
                version = DEVEL if "local" in m else m["version"]
                pkgs.append(Package("golang", m["path"], version, ECOSYSTEM, golang_purl(m["path"], version),
                                    self.name, (path,), kind="declared", indirect=m["indirect"], extra=extra))
        return Assembled(packages=pkgs)
