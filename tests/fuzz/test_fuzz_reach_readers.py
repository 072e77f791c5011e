"""Fuzz: the two binary readers of reachability — the Go pclntab reader (inventory/go_symbols.py) and the
ELF dynamic-section reader (inventory/elf_dynamic.py) — on real headers mutated: they return a fact or
raise their own error (PclntabError, ElfError), never anything else, and the parsers wrapping them
return a fact or None with a warning (derandomized by the `ci` profile, conftest.py)."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.inventory.elf_dynamic import ElfError, _parse_object, read_dynamic, read_ld_cache, read_ld_conf
from hullscan.inventory.go_symbols import PclntabError, read_pclntab, split_symbol


def _elf64() -> bytes:
    """A minimal 64-bit little-endian ELF: one PT_LOAD over the file, PT_INTERP, PT_DYNAMIC with
    DT_NEEDED libz.so.1, DT_RUNPATH $ORIGIN/../lib, DT_SONAME, DT_STRTAB/STRSZ."""
    strtab = b"\x00libz.so.1\x00$ORIGIN/../lib\x00libx.so.1\x00"
    interp = b"/lib64/ld-linux-x86-64.so.2\x00"
    ph_off, n_ph = 64, 3
    interp_off = ph_off + 56 * n_ph
    str_off = interp_off + len(interp)
    dyn_off = str_off + len(strtab)
    dyn = b"".join(struct.pack("<qQ", t, v) for t, v in ((1, 1), (29, 11), (14, 26), (5, str_off), (10, len(strtab)), (0, 0)))
    size = dyn_off + len(dyn)
    hdr = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, ph_off, 0, 0, 64, 56, n_ph, 64, 0, 0)
    phs = (struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, size, size, 0x1000)
           + struct.pack("<IIQQQQQQ", 3, 4, interp_off, interp_off, interp_off, len(interp), len(interp), 1)
           + struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, len(dyn), len(dyn), 8))
    return hdr + phs + interp + strtab + dyn


def _pclntab() -> bytes:
    """A Go 1.20-format table with two functions (`main.main`, `net/netip.Addr.IsLoopback`)."""
    names = b"main.main\x00net/netip.Addr.IsLoopback\x00"
    header_words = 8
    nametab = 8 + header_words * 8
    cutab = nametab + len(names)
    functab = cutab
    funcs = struct.pack("<5I", 0, 20, 16, 28, 32)  # (entry, funcoff) × 2 + end pc
    func0 = struct.pack("<II", 0, 0)
    func1 = struct.pack("<II", 16, 10)
    body = funcs + func0 + func1
    words = [2, 0, 0, nametab, cutab, cutab, cutab, functab]
    return struct.pack("<IBBBB", 0xFFFFFFF1, 0, 0, 1, 8) + b"".join(struct.pack("<Q", w) for w in words) + names + body


def test_the_seeds_read() -> None:
    fact = read_dynamic(_elf64())
    assert fact is not None
    assert fact["needed"] == ["libz.so.1"] and fact["runpath"] == "$ORIGIN/../lib" and fact["soname"] == "libx.so.1"
    assert fact["interp"] == "/lib64/ld-linux-x86-64.so.2"
    fmt, names, every = read_pclntab(_pclntab())
    assert (fmt, names) == ("1.20", ["main.main", "net/netip.Addr.IsLoopback"]) and set(names) <= every


def _mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=8)
    cut = st.integers(0, len(seed))
    return st.builds(lambda fs, n: bytes(_apply(seed, fs))[:n], flips, cut)


def _apply(seed: bytes, flips: list[tuple[int, int]]) -> bytearray:
    b = bytearray(seed)
    for i, v in flips:
        b[i] = v
    return b


@settings(max_examples=200)
@given(_mutated(_elf64()))
def test_elf_reader_fails_only_with_its_error(data: bytes) -> None:
    try:
        read_dynamic(data)
    except ElfError:
        pass
    problems: list[str] = []
    _parse_object("/usr/bin/x", data, problems.append)  # the parser: a fact or None, warnings, never raises


@settings(max_examples=200)
@given(_mutated(_pclntab()))
def test_pclntab_reader_fails_only_with_its_error(data: bytes) -> None:
    try:
        _fmt, names, _every = read_pclntab(data)
    except PclntabError:
        return
    for n in names:
        split_symbol(n)


@given(st.binary(max_size=512))
def test_loader_config_readers(data: bytes) -> None:
    read_ld_conf(data.decode("utf-8", "replace"))
    try:
        read_ld_cache(b"glibc-ld.so.cache1.1" + data)
    except ElfError:
        pass
