"""The function table (pclntab) of Go programs, for the Go symbol level of reachability
(docs/reachability.md): which functions of which packages a binary holds.

A Go binary keeps its pclntab even when stripped (`-ldflags=-s -w` drops the ELF symbol table, not
the runtime's own table). Its layout, as Go's `debug/gosym` reads it: a header (magic, two zero
bytes, pc quantum, pointer size) then header words giving the function count and the offsets of
`funcnametab` and `functab`; `functab` pairs each function's entry with the offset of its `_func`,
whose second field is the offset of its name in `funcnametab`. Magics: 0xfffffffa (Go 1.16–1.17),
0xfffffff0 (1.18–1.19), 0xfffffff1 (1.20 and later, still 1.27's). Older tables are not read
(`unknown`). `funcnametab` also names the functions inlined into others (their inline trees point
into it): those count as present too, as govulncheck's binary mode counts inlined calls.

Kept per binary: the raw names of its functions and of those inlined into them, sorted, one text
each (the layer cache compresses facts: compressing here too cost twice). They are not split into
govulncheck's symbol form here: a 45 MB program names 50,000 functions and the records name a few
packages, so the level (reach/go.py, `symbols_in`) finds a package's names by its prefix in the sorted
list and splits only those (`pkg` → `Func`, `T.Method` for both `(*T).Method` and `T.Method`).
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from typing import Any
from urllib.parse import unquote

from hullscan.inventory.binfmt import BinaryFormatError, open_executable
from hullscan.inventory.golang import BINARY_MAX_SIZE, BUILDINFO_MAGIC, binary_rules, exe_buildinfo
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, WarnFn

MAGICS = {0xFFFFFFFA: "1.16", 0xFFFFFFF0: "1.18", 0xFFFFFFF1: "1.20"}
MAX_FUNCS = 4_000_000


class PclntabError(ValueError):
    """A function table that cannot be read."""


def _header_ok(t: bytes | memoryview) -> bool:
    return len(t) >= 16 and t[4] == 0 and t[5] == 0 and t[6] in (1, 2, 4) and t[7] in (4, 8)


def _magic(t: bytes | memoryview) -> tuple[str, str] | None:
    """(format, byte order) of a pclntab header."""
    if not _header_ok(t):
        return None
    for order in ("<", ">"):
        (m,) = struct.unpack_from(order + "I", t, 0)
        if m in MAGICS:
            return MAGICS[m], order
    return None


def find_pclntab(data: bytes) -> bytes | None:
    """The pclntab of a Go executable: its section (`.gopclntab`, Mach-O `__gopclntab`), else — PE, or
    section headers gone — the first header of a known format found in the file."""
    try:
        exe = open_executable(data)
        found = exe.section(".gopclntab", "__gopclntab") if exe is not None else None
    except BinaryFormatError:
        found = None
    if found is not None:
        return found
    for magic in (b"\xf1\xff\xff\xff\x00\x00", b"\xf0\xff\xff\xff\x00\x00", b"\xfa\xff\xff\xff\x00\x00",
                  b"\xff\xff\xff\xf1\x00\x00", b"\xff\xff\xff\xf0\x00\x00", b"\xff\xff\xff\xfa\x00\x00"):
        pos = data.find(magic)
        while pos != -1:
            if _header_ok(data[pos : pos + 16]):
                return data[pos:]
            pos = data.find(magic, pos + 1)
    return None


def read_pclntab(t: bytes) -> tuple[str, list[str], set[str]]:
    """(format, the names of the functions in the table, every name in funcnametab — the functions and
    those inlined into them). PclntabError when the table is not one of a known format or is cut."""
    fmt, names, every = _read_names(t)
    return fmt, [n.decode("utf-8", "replace") for n in names], {n.decode("utf-8", "replace") for n in every}


def _read_names(t: bytes) -> tuple[str, list[bytes], set[bytes]]:
    """`read_pclntab`'s answer with the names as bytes (the fact keeps them so: no decoding per name)."""
    found = _magic(t)
    if found is None:
        raise PclntabError("no Go 1.16+ pclntab header")
    fmt, order = found
    ptr = t[7]
    word_fmt = order + ("Q" if ptr == 8 else "I")

    def word(i: int) -> int:
        if 8 + (i + 1) * ptr > len(t):
            raise PclntabError("truncated pclntab header")
        return int(struct.unpack_from(word_fmt, t, 8 + i * ptr)[0])

    nfunc = word(0)
    if fmt == "1.16":
        nametab, functab, field, first = word(2), word(6), ptr, ptr
    else:
        nametab, functab, field, first = word(3), word(7), 4, 4
    if not 0 < nametab <= len(t) or not 0 < functab <= len(t) or nfunc > MAX_FUNCS:
        raise PclntabError("pclntab offsets outside the table")
    if functab + (2 * nfunc + 1) * field > len(t):
        raise PclntabError("function table ends past the pclntab (truncated)")
    entry_fmt = f"{order}{2 * nfunc + 1}{'I' if field == 4 else 'Q'}"
    entries = struct.unpack_from(entry_fmt, t, functab)
    end_names = functab if nametab < functab else len(t)
    names: list[bytes] = []
    # the loop runs once per function (50,000 in a large program): its lookups bound to locals
    name_at, find, size, add = struct.Struct(order + "I").unpack_from, t.find, len(t), names.append
    for i, func in enumerate(entries[1 : 2 * nfunc : 2]):
        at = functab + func + first
        if at + 4 > size:
            raise PclntabError(f"function {i}: _func outside the table")
        start = nametab + name_at(t, at)[0]
        stop = find(b"\x00", start, end_names)
        if not nametab <= start < end_names or stop < 0:
            raise PclntabError(f"function {i}: name outside funcnametab")
        add(t[start:stop])
    # funcnametab is the region up to the next table (cutab follows it in every format read here)
    cut = word(4) if fmt != "1.16" else word(3)
    table_end = cut if nametab < cut <= len(t) else end_names
    every = set(t[nametab:table_end].split(b"\x00"))
    every.discard(b"")
    return fmt, names, every


def split_symbol(name: str) -> tuple[str, str] | None:
    """A function name as (package path, govulncheck symbol): `net/http.(*Client).Do` → (`net/http`,
    `Client.Do`); `pkg.F[...]` (generic instantiation) → (`pkg`, `F`); `gopkg.in/yaml%2ev3.F` →
    (`gopkg.in/yaml.v3`, `F`). None for compiler-made names (`type:`, `go:`) and names without a package."""
    if name.startswith(("type:", "go:", "type.", "go.")):
        return None
    while "[" in name:  # drop instantiation brackets (they may nest)
        start = name.find("[")
        depth, i = 0, start
        while i < len(name):
            depth += {"[": 1, "]": -1}.get(name[i], 0)
            if depth == 0:
                break
            i += 1
        name = name[:start] + name[i + 1 :]
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot <= 0:
        return None
    pkg, rest = name[:dot], name[dot + 1 :]
    if "%" in pkg:  # rare: a path with an escaped dot
        pkg = unquote(pkg)
    if rest.startswith("(*"):
        close = rest.find(")")
        if close < 0:
            return None
        rest = rest[2:close] + rest[close + 1 :]
    return pkg, rest


def symbol_prefix(path: str) -> str:
    """A package path as the linker writes it before `.Name` (cmd/internal/objabi.PathToPrefix):
    control characters, space, `%`, `"`, non-ASCII bytes, and `.` in the last element as `%xx`."""
    slash = path.rfind("/")
    out = []
    for i, c in enumerate(path.encode("utf-8")):
        if c <= 0x20 or c == 0x25 or c == 0x22 or c >= 0x7F or (c == 0x2E and i > slash):
            out.append(f"%{c:02x}")
        else:
            out.append(chr(c))
    return "".join(out)


def symbols_fact(data: bytes) -> dict[str, Any]:
    """The fact of one binary: {"format", "functions": n, "names": the functions' names, "inlined": the
    names only inlined} — each text sorted, newline-separated."""
    table = find_pclntab(data)
    if table is None:
        raise PclntabError("no pclntab found")
    fmt, names, every = _read_names(table)
    own = set(names)
    return {"format": fmt, "functions": len(names),  # sorted as bytes: decoded once per text, not per name
            "names": b"\n".join(sorted(own)).decode("utf-8", "replace"),
            "inlined": b"\n".join(sorted(every - own)).decode("utf-8", "replace")}


def unpack(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact as stored → {"own": sorted names, "inlined": sorted names}; an `error` fact as it is, and
    one of another shape (a damaged cache) as an error."""
    if "error" in fact or "own" in fact:  # an error, or unpacked already
        return fact
    texts = [t for t in (fact.get("names"), fact.get("inlined")) if isinstance(t, str)]
    if len(texts) != 2:
        return {"error": "stored table damaged"}
    lists = [t.split("\n") if t else [] for t in texts]
    if any("\ufffd" in t for t in texts):  # sorted as UTF-8 bytes: code point order only where they decode
        lists = [sorted(x) for x in lists]
    return {"format": fact.get("format"), "functions": fact.get("functions"), "own": lists[0], "inlined": lists[1]}


def symbols_in(names: list[str], path: str) -> set[str]:
    """The govulncheck symbols of package `path` among sorted raw function `names`."""
    prefix = symbol_prefix(path) + "."
    out: set[str] = set()
    for k in range(bisect_left(names, prefix), len(names)):
        name = names[k]
        if not name.startswith(prefix):
            break
        split = split_symbol(name)
        if split is not None and split[0] == path:
            out.add(split[1])
    return out


def _parse(path: str, data: bytes, warn: WarnFn) -> Any:
    if BUILDINFO_MAGIC not in data:
        return None  # not a Go program (the go-binary analyzer says more about odd ones)
    try:
        exe = open_executable(data)
        found = exe_buildinfo(exe) if exe is not None else None
    except (BinaryFormatError, ValueError):
        return None
    if found is None:
        return None
    try:
        return symbols_fact(data)
    except (PclntabError, struct.error) as err:
        warn(f"Go function table not read: {err}")
        return {"error": str(err)}


class GoSymbolsAnalyzer(Analyzer):
    """The function names of every Go program (the files the go-binary analyzer reads)."""

    name = "go-symbols"
    version = 3  # 3: raw sorted names (1: split per package; 2: the names zlib-compressed)
    files = binary_rules(_parse)
    max_size = BINARY_MAX_SIZE
    scanners = frozenset({"vuln"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(facts={path: ff.fact for path, ff in view.files.items()})
