"""ELF dynamic linking facts, per file: what the dynamic loader reads (issue #25, docs/reachability.md).

For every ELF executable and shared object: its class and machine, `PT_INTERP`, and from `PT_DYNAMIC`
the `DT_NEEDED` names, `DT_SONAME`, `DT_RPATH` and `DT_RUNPATH`; for a `#!` script its interpreter
line; and the loader's own configuration — `/etc/ld.so.conf` with `ld.so.conf.d` (includes kept as
globs), `/etc/ld.so.cache` (soname → path), musl's `/etc/ld-musl-ARCH.path`. `reach/elf.py` follows
the entrypoint's closure over these facts after the walk.

A small typed reader of the program headers rather than pyelftools: the loader itself reads only
segments (section headers may be stripped), and this runs on every library and program of an image
(thousands of files), where pyelftools' object-per-entry parsing costs a hundredfold the time of a
few `struct` reads. Every offset and count is bounded by the file; a broken file is a warning.
"""

from __future__ import annotations

import struct
from typing import Any

from hullscan.inventory.golang import BINARY_MAX_SIZE, binary_rules
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
MAX_PHDRS = 4096
MAX_DYN = 1 << 16
MAX_NEEDED = 1024
MAX_STRING = 4096
LDCACHE_MAGIC = b"glibc-ld.so.cache1.1"
LD_CONF = "/etc/ld.so.conf"
LD_CONF_D = "/etc/ld.so.conf.d/"
LD_CACHE = "/etc/ld.so.cache"


class ElfError(ValueError):
    """Headers that point outside the file or make no sense."""


def _cstr(data: bytes, start: int, end: int) -> str:
    if not 0 <= start < end:
        raise ElfError(f"string offset {start} outside the string table")
    stop = data.find(b"\x00", start, min(end, start + MAX_STRING))
    if stop < 0:
        raise ElfError(f"unterminated string at {start}")
    return data[start:stop].decode("utf-8", "replace")


def read_dynamic(data: bytes) -> dict[str, Any] | None:
    """An ELF file's loader facts (None when `data` is not ELF); ElfError when its headers are broken.

    {"class": 32|64, "machine": e_machine, "type": e_type, "interp": str, "needed": [str],
     "soname": str, "rpath": str, "runpath": str} — absent keys are empty."""
    if data[:4] != ELF_MAGIC:
        return None
    if len(data) < 52:
        raise ElfError("truncated ELF header")
    cls, enc = data[4], data[5]
    if cls not in (1, 2) or enc not in (1, 2):
        raise ElfError(f"bad ELF class/encoding {cls}/{enc}")
    o = "<" if enc == 1 else ">"
    e_type, machine = struct.unpack_from(o + "HH", data, 16)
    if cls == 2:
        if len(data) < 64:
            raise ElfError("truncated ELF header")
        (phoff,) = struct.unpack_from(o + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(o + "HH", data, 54)
        ph_fmt, dyn_fmt = o + "IIQQQQQQ", o + "qQ"
    else:
        (phoff,) = struct.unpack_from(o + "I", data, 28)
        phentsize, phnum = struct.unpack_from(o + "HH", data, 42)
        ph_fmt, dyn_fmt = o + "IIIIIIII", o + "iI"
    fact: dict[str, Any] = {"class": 32 * cls, "machine": machine, "type": e_type}
    if phnum > MAX_PHDRS or phentsize < struct.calcsize(ph_fmt) and phnum:
        raise ElfError(f"bad program header table ({phnum} × {phentsize})")
    if phoff + phnum * phentsize > len(data):
        raise ElfError("program headers end past the file (truncated)")
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        fields = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        if cls == 2:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
        elif p_type == PT_INTERP:
            fact["interp"] = _cstr(data, p_offset, min(len(data), p_offset + p_filesz + 1))
    if dynamic is None:
        return fact  # static: no loader work
    off, size = dynamic
    if off + size > len(data):
        raise ElfError("dynamic segment ends past the file (truncated)")
    entry = struct.calcsize(dyn_fmt)
    tags: list[tuple[int, int]] = []
    for i in range(min(size // entry, MAX_DYN)):
        tag, val = struct.unpack_from(dyn_fmt, data, off + i * entry)
        if tag == DT_NULL:
            break
        tags.append((tag, val))
    strtab = next((v for t, v in tags if t == DT_STRTAB), None)
    strsz = next((v for t, v in tags if t == DT_STRSZ), 0)
    if strtab is None:
        return fact
    base = _file_offset(loads, strtab)
    if base is None:
        # a prelinked or odd object whose string table address is a file offset already
        if strtab < len(data):
            base = strtab
        else:
            raise ElfError(f"DT_STRTAB {strtab:#x} in no loadable segment")
    end = min(len(data), base + strsz) if strsz else len(data)
    needed = [_cstr(data, base + v, end) for t, v in tags if t == DT_NEEDED][:MAX_NEEDED]
    if needed:
        fact["needed"] = needed
    for tag, key in ((DT_SONAME, "soname"), (DT_RPATH, "rpath"), (DT_RUNPATH, "runpath")):
        val = next((v for t, v in tags if t == tag), None)
        if val is not None:
            fact[key] = _cstr(data, base + val, end)
    return fact


def _file_offset(loads: list[tuple[int, int, int]], addr: int) -> int | None:
    for vaddr, offset, filesz in loads:
        if vaddr <= addr < vaddr + filesz:
            return offset + (addr - vaddr)
    return None


def read_ld_cache(data: bytes) -> list[list[str]]:
    """glibc's `ld.so.cache` (the `glibc-ld.so.cache1.1` format, alone or after the old one) →
    [[soname, path], …] in the cache's order, which is the loader's order of preference."""
    start = data.find(LDCACHE_MAGIC)
    if start < 0:
        raise ElfError("no glibc-ld.so.cache1.1 header (an old-format cache is not read)")
    if start + 48 > len(data):
        raise ElfError("truncated ld.so.cache header")
    for o in ("<", ">"):
        nlibs, len_strings = struct.unpack_from(o + "II", data, start + 20)
        if start + 48 + nlibs * 24 <= len(data):
            break
    else:
        raise ElfError("ld.so.cache entries end past the file")
    out: list[list[str]] = []
    for i in range(min(nlibs, 1 << 16)):
        _flags, key, value = struct.unpack_from(o + "iII", data, start + 48 + i * 24)
        # offsets count from the new-format header
        out.append([_cstr(data, start + key, len(data)), _cstr(data, start + value, len(data))])
    return out


def read_ld_conf(text: str) -> dict[str, list[str]]:
    """`ld.so.conf` syntax: a directory a line (old files separate them by blanks, `:` or `,`),
    `include GLOB…`, `hwcap …` (ignored), `#` comments."""
    dirs: list[str] = []
    include: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if word == "include":
            include.extend(rest.split())
        elif word == "hwcap":
            continue
        else:
            dirs.extend(d for d in line.replace(":", " ").replace(",", " ").split() if d.startswith("/"))
    return {"dirs": dirs, "include": include}


def _parse_object(path: str, data: bytes, warn: WarnFn) -> Any:
    if data[:2] == b"#!":
        line = data[2:256].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        return {"script": line}
    try:
        fact = read_dynamic(data)
    except (ElfError, struct.error) as err:
        warn(f"unreadable ELF dynamic section: {err}")
        return None
    return None if fact is None else {"elf": fact}


def _parse_conf(path: str, data: bytes, warn: WarnFn) -> Any:
    conf = read_ld_conf(data.decode("utf-8", "replace"))
    if path.startswith("/etc/ld-musl-"):
        conf["musl"] = ["1"]
    return {"ldconf": conf}


def _parse_cache(path: str, data: bytes, warn: WarnFn) -> Any:
    try:
        return {"ldcache": read_ld_cache(data)}
    except (ElfError, struct.error) as err:
        warn(f"unreadable ld.so.cache: {err}")
        return None


class ElfDynamicAnalyzer(Analyzer):
    """Loader facts of every ELF program and library, `#!` lines of scripts, and the loader's config."""

    name = "elf"
    version = 1
    files = (
        FileRule(paths=(LD_CONF,), globs=(f"{LD_CONF_D}*", "/etc/ld-musl-*.path"), max_size=MiB, parse=_parse_conf),
        FileRule(paths=(LD_CACHE,), max_size=16 * MiB, parse=_parse_cache),
        FileRule(globs=("**/*.so", "**/*.so.*"), min_size=64, parse=_parse_object),
        *binary_rules(_parse_object),
        FileRule(executable=True, min_size=4, parse=_parse_object),  # the scripts binary_rules leaves out
    )
    max_size = BINARY_MAX_SIZE
    scanners = frozenset({"vuln"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(facts={path: ff.fact for path, ff in view.files.items()})
