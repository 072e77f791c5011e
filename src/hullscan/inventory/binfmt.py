"""Just enough of ELF, PE and Mach-O to find a named section and read bytes at a virtual address.

The Go and Rust binary analyzers need two things from an executable: the bytes of one section
(`.go.buildinfo`, `.dep-v0`) and, for Go binaries older than 1.18, the bytes a pointer refers to.
ELF goes through pyelftools; PE and Mach-O headers are a few fixed structs, read by hand here
because pulling in lief (a 100 MB native wheel) for two structs is not worth it.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
PE_MAGIC = b"MZ"
MACHO_MAGICS = {
    b"\xcf\xfa\xed\xfe": ("<", 8),  # 64-bit little endian
    b"\xce\xfa\xed\xfe": ("<", 4),  # 32-bit little endian
    b"\xfe\xed\xfa\xcf": (">", 8),
    b"\xfe\xed\xfa\xce": (">", 4),
}


class BinaryFormatError(Exception):
    """The file starts like an executable but its headers cannot be read (truncated, corrupt)."""


@dataclass(frozen=True)
class Section:
    """One section of an executable."""

    name: str
    """Section name (`.go.buildinfo`; Mach-O: the section name, `__go_buildinfo`)."""
    offset: int
    """Offset of its bytes in the file (0 with `size` 0 for sections without file content)."""
    size: int
    """Bytes in the file."""
    addr: int
    """Virtual address it is loaded at (0 when not loaded)."""
    truncated: bool = False
    """The headers say it extends past the end of the file (a cut-off download or layer)."""


@dataclass(frozen=True)
class Executable:
    """The parts of an executable the binary analyzers read."""

    format: str
    """`elf`, `pe` or `macho`."""
    data: bytes
    sections: tuple[Section, ...]
    big_endian: bool = False
    ptr_size: int = 8

    def section(self, *names: str) -> bytes | None:
        """Bytes of the first section with one of these names, or None; BinaryFormatError when cut off."""
        for name in names:
            for s in self.sections:
                if s.name == name and s.truncated:
                    raise BinaryFormatError(f"section {name} extends past the end of the file (truncated)")
                if s.name == name and s.size > 0:
                    return self.data[s.offset : s.offset + s.size]
        return None

    def read_at(self, addr: int, size: int) -> bytes | None:
        """`size` bytes at virtual address `addr`, or None when no section holds them."""
        for s in self.sections:
            if s.addr and s.size and s.addr <= addr and addr + size <= s.addr + s.size:
                start = s.offset + (addr - s.addr)
                chunk = self.data[start : start + size]
                return chunk if len(chunk) == size else None
        return None


def is_executable(data: bytes) -> bool:
    """Cheap magic check: only these files are parsed further."""
    head = data[:4]
    return head == ELF_MAGIC or head[:2] == PE_MAGIC or head in MACHO_MAGICS


def open_executable(data: bytes) -> Executable | None:
    """Parse the headers; None when the magic is not ELF/PE/Mach-O, BinaryFormatError when broken."""
    head = data[:4]
    try:
        if head == ELF_MAGIC:
            return _elf(data)
        if head[:2] == PE_MAGIC:
            return _pe(data)
        if head in MACHO_MAGICS:
            return _macho(data)
    except BinaryFormatError:
        raise
    except Exception as exc:  # pyelftools and struct raise many kinds on corrupt headers
        raise BinaryFormatError(f"unreadable {head!r} headers: {exc}") from exc
    return None


def _elf(data: bytes) -> Executable:
    from elftools.elf.elffile import ELFFile  # slow to import; only Go and Rust programs get here

    elf = ELFFile(io.BytesIO(data))
    hdr = elf.header
    for what, off, num, size in (("section", hdr["e_shoff"], hdr["e_shnum"], hdr["e_shentsize"]),
                                 ("program", hdr["e_phoff"], hdr["e_phnum"], hdr["e_phentsize"])):
        if num and off + num * size > len(data):  # pyelftools would read zeros past the end
            raise BinaryFormatError(f"truncated ELF: {what} headers end past the file ({len(data)} bytes)")
    if hdr["e_shnum"] and hdr["e_shstrndx"] < hdr["e_shnum"]:
        names = elf.get_section(hdr["e_shstrndx"])
        if names["sh_offset"] + names["sh_size"] > len(data):
            raise BinaryFormatError(f"truncated ELF: section names end past the file ({len(data)} bytes)")
    sections = []
    for sec in elf.iter_sections():
        nobits = sec["sh_type"] == "SHT_NOBITS"
        offset, size = int(sec["sh_offset"]), 0 if nobits else int(sec["sh_size"])
        cut = offset + size > len(data)
        if cut:
            size = max(0, len(data) - offset)  # truncated file: keep what is there
        sections.append(Section(sec.name, offset, size, int(sec["sh_addr"]), cut))
    if not sections:  # section headers stripped: fall back to the loadable segments
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                size = min(int(seg["p_filesz"]), max(0, len(data) - int(seg["p_offset"])))
                sections.append(Section("", int(seg["p_offset"]), size, int(seg["p_vaddr"])))
    return Executable("elf", data, tuple(sections), not elf.little_endian, elf.elfclass // 8)


def _unpack(fmt: str, data: bytes, offset: int) -> tuple:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise BinaryFormatError("truncated header")
    return struct.unpack_from(fmt, data, offset)


def _pe(data: bytes) -> Executable | None:
    (pe_off,) = _unpack("<I", data, 0x3C)
    if data[pe_off : pe_off + 4] != b"PE\0\0":
        return None  # a DOS executable or just a file starting with "MZ"
    _machine, nsect, _ts, symtab, nsyms, opt_size, _ch = _unpack("<HHIIIHH", data, pe_off + 4)
    opt = pe_off + 24
    (magic,) = _unpack("<H", data, opt)
    if magic == 0x20B:
        (image_base,) = _unpack("<Q", data, opt + 24)
        ptr = 8
    else:
        (image_base,) = _unpack("<I", data, opt + 28)
        ptr = 4
    strtab = symtab + nsyms * 18 if symtab else 0
    sections = []
    pos = opt + opt_size
    for _ in range(nsect):
        raw_name, vsize, vaddr, raw_size, raw_ptr = _unpack("<8sIIII", data, pos)
        name = raw_name.rstrip(b"\0").decode("latin-1")
        if name.startswith("/") and strtab and name[1:].isdigit():  # long name in the COFF string table
            start = strtab + int(name[1:])
            end = data.find(b"\0", start)
            name = data[start:end].decode("latin-1") if end > start else name
        want = min(raw_size, vsize or raw_size)
        size = min(want, max(0, len(data) - raw_ptr))
        sections.append(Section(name, raw_ptr, size, image_base + vaddr, size < want))
        pos += 40
    return Executable("pe", data, tuple(sections), False, ptr)


def _macho(data: bytes) -> Executable:
    order, ptr = MACHO_MAGICS[data[:4]]
    ncmds, _sizeofcmds = _unpack(order + "II", data, 16)
    pos = 32 if ptr == 8 else 28
    sections = []
    for _ in range(min(ncmds, 4096)):
        cmd, cmdsize = _unpack(order + "II", data, pos)
        if cmdsize < 8:
            raise BinaryFormatError("bad Mach-O load command size")
        if cmd in (0x19, 0x1):  # LC_SEGMENT_64, LC_SEGMENT
            wide = cmd == 0x19
            nsects = _unpack(order + "I", data, pos + (64 if wide else 48))[0]
            spos = pos + (72 if wide else 56)
            for _ in range(nsects):
                if wide:
                    sname, _seg, addr, size, offset = _unpack(order + "16s16sQQI", data, spos)
                    spos += 80
                else:
                    sname, _seg, addr, size, offset = _unpack(order + "16s16sIII", data, spos)
                    spos += 68
                name = sname.rstrip(b"\0").decode("latin-1")
                have = min(size, max(0, len(data) - offset)) if offset else 0
                sections.append(Section(name, offset, have, addr, bool(offset) and have < size))
        pos += cmdsize
    return Executable("macho", data, tuple(sections), order == ">", ptr)
