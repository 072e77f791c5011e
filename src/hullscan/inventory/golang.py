"""Go modules: the build information linked into Go binaries, and go.mod/go.sum (declared).

A Go binary (ELF, PE or Mach-O) carries a `buildinfo` blob (section `.go.buildinfo`, 16-byte aligned
header `\\xff Go buildinf:`): the toolchain version and the module info text `go version -m` prints
(`path`, `mod`, `dep`, `=>` replacements, `build` settings). Go ≥ 1.18 stores both strings inline
after the header (flags & 2); older toolchains store pointers to Go string headers, which are
followed through the executable's sections. The toolchain becomes the `stdlib` package. A main
module built in a checkout (`(devel)`) takes the version its build stamped with `-ldflags -X`
(the rule below, after Trivy's; docs/language-packages-2.md).
"""

from __future__ import annotations

import re
import shlex
import struct
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
    return None if exe is None else exe_buildinfo(exe)


def exe_buildinfo(exe: Executable) -> tuple[str, str] | None:
    """read_buildinfo of an opened executable."""
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


# ---------------------------------------------------------------- the main module's stamped version
#
# `go build` in a checkout records the main module as `(devel)` (Go ≥ 1.24: a `v0.0.0-…` pseudo-version
# when the checkout has no tag); release builds stamp their version with `-ldflags "-X pkg.var=value"`.
# The rule for reading it back is Trivy's (pkg/dependency/parser/golang/binary/parse.go), transcribed:
# a `-X` key counts when it ends in `.version` or `.ver` (any case) and its value is a Go semver with
# or without the `v`; keys rank in three classes, the first class holding a value wins and two
# different values in that class mean "unknown":
#   0. `<main module>/cmd/…` keys;
#   1. keys whose last path element, before its first dot, is main, common, version or cmd;
#   2. every other key.

_VERSION_KEY = re.compile(r"\.(?:version|ver)$", re.IGNORECASE)
_PREFIX_CLASS = frozenset({"main", "common", "version", "cmd"})
# golang.org/x/mod/semver's grammar: vMAJOR[.MINOR[.PATCH[-pre][+build]]], no leading zeros.
_NUM = r"(?:0|[1-9]\d*)"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_GO_SEMVER = re.compile(
    rf"^v({_NUM})(?:\.({_NUM})(?:\.({_NUM})(-{_PRE_ID}(?:\.{_PRE_ID})*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$"
)


def go_semver(value: str) -> str:
    """`value` as a canonical Go module version (`1.18.1` → `v1.18.1`, `v1.2` → `v1.2.0`), or ""
    when it is not a semver (`dev`, `1.2.3.4`, a commit hash)."""
    v = value if value.startswith("v") else "v" + value
    m = _GO_SEMVER.match(v)
    if not m:
        return ""
    major, minor, patch, pre, build = m.groups()
    return f"v{major}.{minor or 0}.{patch or 0}{pre or ''}{build or ''}"


def ldflags_x(ldflags: str) -> list[tuple[str, str]]:
    """The `-X key=value` settings of a recorded `-ldflags` value, in order.

    Split like `go build` splits it (quotes group words); `-X k=v`, `-X=k=v`, `--X k=v`, `--X=k=v`."""
    try:
        args = shlex.split(ldflags)
    except ValueError:  # an unbalanced quote: the words as they stand
        args = ldflags.split()
    out: list[tuple[str, str]] = []
    for i, arg in enumerate(args):
        flag, eq, attached = arg.partition("=")
        if flag not in ("-X", "--X"):
            continue
        target = attached if eq else (args[i + 1] if i + 1 < len(args) else "")
        key, sep, value = target.partition("=")
        if sep and key:
            out.append((key, value))
    return out


def stamped_version(module: str, settings: list[tuple[str, str]]) -> tuple[str, str]:
    """(canonical version, the `-X` key it came from) chosen from `-X` settings by Trivy's rule
    above, or ("", "") when none or an ambiguous class."""
    latest = dict(settings)  # the linker applies the last -X for a name
    classes: list[dict[str, str]] = [{}, {}, {}]  # value → first key holding it, per class
    for key, value in latest.items():
        version = go_semver(value)
        if not _VERSION_KEY.search(key) or not version:
            continue
        if key.startswith(module + "/cmd/"):
            rank = 0
        elif key.rpartition("/")[2].partition(".")[0].lower() in _PREFIX_CLASS:
            rank = 1
        else:
            rank = 2
        classes[rank].setdefault(version, key)
    for found in classes:
        if len(found) == 1:
            version, key = next(iter(found.items()))
            return version, key
        if found:  # two different versions in the best class: no way to tell which is the module's
            return "", ""
    return "", ""


def main_module_stamp(module: str, settings: dict[str, str],
                      linker_x: list[tuple[str, str]]) -> tuple[str, str]:
    """(version, evidence) for a main module the build info leaves without a release version: from
    the recorded `-ldflags`, else (it was not recorded) from the linker's `.str` symbols."""
    if "-ldflags" in settings:
        source, xs = "build setting -ldflags: -X {}={}", ldflags_x(settings["-ldflags"])
    else:
        source, xs = "linker symbol {}.str = {!r}", [(k, v) for k, v in linker_x]
    version, key = stamped_version(module, xs)
    return (version, source.format(key, dict(xs)[key])) if version else ("", "")


def _needs_stamp(version: str) -> bool:
    """The build info has no release version for the main module (Trivy: empty/devel or v0.0.0-…)."""
    return version in ("", DEVEL) or version.startswith("v0.0.0")


_X_STRING_NAME = re.compile(rb"(?<=\x00)([^\x00]*\.(?i:version|ver))\.str(?=\x00)")


def linker_x_strings(exe: Executable) -> list[tuple[str, str]]:
    """`-X` settings read back from an unstripped ELF when the build info did not record `-ldflags`
    (`go build -trimpath` leaves it out). For every `-X name=value` the Go linker adds a read-only
    symbol `name.str` holding the value (cmd/link addstrdata); an ordinary string variable has no
    such symbol, so these are exactly the stamped values. Stripped (`-s`), PE and Mach-O: none."""
    if exe.format != "elf":
        return []
    try:
        symtab, strtab = exe.section(".symtab"), exe.section(".strtab")
    except BinaryFormatError:
        return []
    if not symtab or not strtab:
        return []
    # Only names that look like a version variable: one regex over the string table, then the
    # symbol table is scanned for those name offsets (a Go binary has tens of thousands of symbols).
    wanted = {m.start(1): m.group(1).decode("utf-8", "replace") for m in _X_STRING_NAME.finditer(strtab)}
    if not wanted:
        return []
    order = ">" if exe.big_endian else "<"
    fmt, value_at, size_at = (order + "IBBHQQ", 4, 5) if exe.ptr_size == 8 else (order + "IIIBBH", 1, 2)
    entry = struct.calcsize(fmt)
    out: list[tuple[str, str]] = []
    for fields in struct.iter_unpack(fmt, symtab[: len(symtab) - len(symtab) % entry]):
        name = wanted.get(fields[0])
        if name is None:
            continue
        raw = exe.read_at(fields[value_at], fields[size_at]) if 0 < fields[size_at] <= 4096 else None
        if raw is not None:
            out.append((name, raw.split(b"\x00", 1)[0].decode("utf-8", "replace")))
    return out


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
        exe = open_executable(data)
        found = exe_buildinfo(exe) if exe is not None else None
    except (BinaryFormatError, ValueError) as exc:
        warn(f"unreadable Go build info: {exc}")
        return None
    if exe is None or found is None:
        warn("Go binary without readable build info (truncated or stripped)")
        return None
    fact = parse_modinfo(*found)
    main = fact["main"]
    if main and _needs_stamp(main["version"]) and "-ldflags" not in fact["settings"]:
        # -trimpath drops -ldflags from the build info; the linker's symbols may still say it
        fact["linker_x"] = linker_x_strings(exe)
    return fact


class GoBinaryAnalyzer(Analyzer):
    """Modules compiled into Go executables (installed packages)."""

    name = "go-binary"
    version = 2  # 2: parsed facts carry the linker's -X strings
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
        if _needs_stamp(main.get("version", "")):
            stamped, evidence = main_module_stamp(main["path"], settings, fact.get("linker_x") or [])
            if stamped:
                extra["build_version"], extra["version_evidence"] = version, evidence
                version = stamped
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
