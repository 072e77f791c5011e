"""The header parser on hand-assembled blobs (format per rpm's docs/manual/format.md and hregions.md):
legacy OLDFILENAMES, I18N strings, dribble entries overriding the region copy, and bounds errors."""

from __future__ import annotations

import struct

import pytest

from hullscan.inventory.rpm.header import HeaderError, parse_header

STRING, STRING_ARRAY, INT32, I18N = 6, 8, 4, 9


def blob(entries: list[tuple[int, int, object]]) -> bytes:
    """il, dl, index (tag, type, offset, count), data — big-endian, in the given order."""
    index, data = b"", b""
    for tag, typ, value in entries:
        if typ == INT32:
            data += b"\0" * (-len(data) % 4)
            payload, count = struct.pack(">i", value), 1
        elif typ in (STRING_ARRAY, I18N):
            payload, count = b"".join(v.encode() + b"\0" for v in value), len(value)
        else:
            payload, count = value.encode() + b"\0", 1
        index += struct.pack(">IIiI", tag, typ, len(data), count)
        data += payload
    return struct.pack(">II", len(entries), len(data)) + index + data


BASE = [(1000, STRING, "legacy"), (1001, STRING, "1.0"), (1002, STRING, "1"), (1022, STRING, "i386"),
        (1044, STRING, "legacy-1.0-1.src.rpm")]


def test_oldfilenames_and_i18n() -> None:
    h = parse_header(blob(BASE + [(1011, I18N, ["Vendor A", "Vendeur A"]),
                                  (1027, STRING_ARRAY, ["/bin/legacy", "/etc/legacy.conf"])]))
    assert (h.name, h.version, h.release, h.arch, h.epoch) == ("legacy", "1.0", "1", "i386", None)
    assert h.vendor == "Vendor A"
    assert h.files == ("/bin/legacy", "/etc/legacy.conf")


def test_compressed_file_names_and_epoch() -> None:
    h = parse_header(blob(BASE + [(1003, INT32, 3), (1116, INT32, 1), (1117, STRING_ARRAY, ["x"]),
                                  (1118, STRING_ARRAY, ["/a/", "/b/"])]))
    # DIRINDEXES has one entry (value 1) for one basename: /b/x.
    assert h.epoch == 3 and h.files == ("/b/x",)


def test_dribble_entry_overrides() -> None:
    h = parse_header(blob(BASE + [(1014, STRING, "GPL"), (1014, STRING, "GPLv2+")]))
    assert h.license == "GPLv2+"


@pytest.mark.parametrize("entries", [
    [(1001, STRING, "1.0")],  # no NAME
    BASE + [(1116, INT32, 5), (1117, STRING_ARRAY, ["x"]), (1118, STRING_ARRAY, ["/a/"])],  # dir index 5 of 1
    BASE + [(1117, STRING_ARRAY, ["x", "y"]), (1118, STRING_ARRAY, ["/a/"])],  # no DIRINDEXES
    BASE + [(1003, STRING, "1")],  # EPOCH of the wrong type
])
def test_inconsistent_headers_rejected(entries) -> None:
    with pytest.raises(HeaderError):
        parse_header(blob(entries))


def test_offsets_outside_data_rejected() -> None:
    good = blob(BASE)
    for field, value in ((8, 0x7FFFFFFF), (8, -5), (12, 1000)):  # offset far out, negative; count huge
        bad = bytearray(good)
        struct.pack_into(">i" if value < 0 else ">I", bad, 8 + 16 * 1 + field, value)
        with pytest.raises(HeaderError):
            parse_header(bytes(bad))
    unterminated = bytearray(good)
    unterminated[-1] = ord("x")  # the last string loses its NUL
    with pytest.raises(HeaderError):
        parse_header(bytes(unterminated))
