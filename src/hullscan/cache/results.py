"""How a whole scan result (a `model.Report`) is stored in the cache, and read back.

Three parts, each compressed on its own so that a warm scan decompresses only what its output needs:
the report without its packages, the packages, and the packages as the JSON writer renders them
(rendered by the caller: the cache knows no format). Most of a report is packages; a warm scan printed
as a table needs only their count, one printed as JSON copies the rendered bytes (`LazyPackages`).

The two package parts are zlib streams, inflated without checking their own Adler-32 (`_inflate`): the
row they sit in carries zlib's checksum over their bytes (cache/store.py). Inflating 1,200 rendered
packages (1 MB) so costs ~5 M instructions instead of ~8.5 M.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Sequence

from hullscan.cache.codec import CLASSES, decode, encode
from hullscan.cache.store import WARNING_PREFIX
from hullscan.record import replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any

    from hullscan.model.inventory import Package
    from hullscan.model.report import Report

FORMAT = 4
"""Bump when what a stored result holds changes shape (it is part of the result key)."""


class LazyPackages(Sequence["Package"]):
    """A cached report's packages: decoded on first use; `rendered` is the JSON writer's rendering of the
    same list (None when it could not render it)."""

    def __init__(self, count: int, packed: bytes, rendered: bytes | None) -> None:
        self._count = count
        self._packed = packed
        self._rendered = rendered
        self._items: list[Package] | None = None

    @property
    def rendered(self) -> bytes | None:
        return None if self._rendered is None else _inflate(self._rendered)

    @property
    def items(self) -> list[Package]:
        if self._items is None:
            items = decode(marshal.loads(_inflate(self._packed)))
            if not isinstance(items, list) or len(items) != self._count:
                raise ValueError("damaged package list")
            self._items = items
        return self._items

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __iter__(self) -> Any:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # a list's equality, a list's unhashability


def pack(report: Report, rendered_packages: bytes | None) -> tuple[Any, bytes, bytes | None, int]:
    """What the cache stores of a report (moment fields included; `unpack`'s caller replaces them). The
    warnings about the cache itself are left out: they tell of the scan that stored it, not of the image."""
    packages = list(report.packages)
    warnings = tuple(w for w in report.warnings if not w.message.startswith(WARNING_PREFIX))
    rest = encode(replace(report, packages=(), warnings=warnings))
    return (rest, zlib.compress(marshal.dumps(encode(packages)), 1),
            None if rendered_packages is None else zlib.compress(rendered_packages, 1), len(packages))


def _inflate(blob: bytes) -> bytes:
    """A zlib stream's data: its deflate body inflated raw (header and Adler-32 trailer skipped: the
    row's checksum covers these bytes), into a buffer sized for JSON's usual ratio (~14 : 1). zlib.error
    when it is no zlib stream of ours or does not inflate."""
    if len(blob) < 6 or blob[0] != 0x78 or blob[1] & 0x20 or (blob[0] << 8 | blob[1]) % 31:
        raise zlib.error("not a zlib stream without a preset dictionary")
    return zlib.decompress(memoryview(blob)[2:-4], -15, 16 * len(blob))


#: The Report's fields as `pack` stores them: (field, record class or str, a tuple of them?, may be None).
#: A stored result is checked against it before use (cheap: a type test per field and per element).
_SHAPE = (
    ("created_at", "str", False, False), ("target", "Target", False, False), ("layers", "LayerInfo", True, False),
    ("scanners", "str", True, False), ("os", "OSInfo", False, True), ("config", "ImageConfig", False, False),
    ("base_image", "BaseImage", False, False), ("history", "RemovedPackage", True, False),
    ("vulnerabilities", "Finding", True, False), ("secrets", "SecretFinding", True, False),
    ("misconfigurations", "ConfigFinding", True, False), ("db", "DbInfo", False, True),
    ("warnings", "ScanWarning", True, False), ("stats", "ScanStats", False, False),
)


def _shaped(report: Any) -> bool:
    """Whether a decoded report has the types the warm path and the writers read at its top level."""
    if type(report) is not CLASSES["Report"] or getattr(report, "packages", None) != ():
        return False
    if getattr(report, "base_advice", None) is not None:  # never stored: computed per scan (scan/advice.py)
        return False
    for name, kind, many, optional in _SHAPE:
        cls = str if kind == "str" else CLASSES[kind]
        value = getattr(report, name)
        if many:
            if type(value) is not tuple or not all(type(v) is cls for v in value):
                return False
        elif not (type(value) is cls or (optional and value is None)):
            return False
    return True


def unpack(stored: Any) -> Report | None:
    """A stored result as a Report whose packages decode on first use; None for a row of another shape
    or a damaged one (the caller scans again and overwrites it). The packages' bytes are decoded only
    when used: the row's zlib checksum (cache/store.py) has already vouched for them."""
    try:
        if type(stored) is not tuple or len(stored) != 4:
            return None
        rest, packed, rendered, count = stored
        if type(packed) is not bytes or not (rendered is None or type(rendered) is bytes) or type(count) is not int or count < 0:
            return None
        report = decode(rest)
        if not _shaped(report):
            return None
        full: Report = replace(report, packages=LazyPackages(count, packed, rendered))
        return full
    except (TypeError, ValueError, EOFError, zlib.error, RecursionError):
        return None
