"""Box-drawn text tables for a terminal: the `table` format and `registry scan`'s summary.

Written by hand: rich's Table spent ~250 ms laying out the 163 findings of the bench image (three
quarters of a warm scan printed as a table) and tabulate ~190 ms with its import; a table measured
once and drawn line by line takes a few milliseconds. Cells are plain text, never markup (rich read
`[...]` in a file name or version as a style tag, or failed on it), and control characters — an
image's file names may hold terminal escape sequences — are shown as `\\xNN` instead of being sent to
the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_WRAPPED = 8
"""Narrowest a wrapping column is made when the table is too wide for the screen."""

# Control characters (C0, DEL, C1) → a visible escape; everything else printable passes.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def clean(text: object) -> str:
    """A cell's text: str() of the value, control characters escaped."""
    s = text if isinstance(text, str) else str(text)
    return s if s.isprintable() else s.translate(_CONTROLS)


def cell_width(text: str) -> int:
    """Columns the text takes on a terminal: East Asian wide and full-width characters take two,
    combining marks none."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(ch) else 2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to `width` columns; a word longer than that is cut."""
    if cell_width(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *full, line = _cut(word, width)
        lines += full
    if line or not lines:
        lines.append(line)
    return lines


def _cut(word: str, width: int) -> list[str]:
    """`word` in pieces of at most `width` columns (a character wider than that alone), in one pass:
    an image may hold a name of megabytes."""
    if word.isascii():
        return [word[i:i + width] for i in range(0, len(word), width)] or [""]
    pieces, start, used = [], 0, 0
    for i, ch in enumerate(word):
        w = cell_width(ch)
        if used + w > width and i > start:
            pieces.append(word[start:i])
            start, used = i, 0
        used += w
    pieces.append(word[start:])
    return pieces


def _widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Column widths: each its natural width, the widest shrunk first (down to its minimum) until the
    table fits; a table that cannot fit keeps its minimums and runs wider."""
    widths = list(natural)
    excess = sum(widths) - available
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, width: int, title: str = "",
          no_wrap: Sequence[str] = ()) -> str:
    """The table as text: title line, heavy header box, light body box (rich's default look), at most
    `width` columns wide when the cells can wrap to fit. Columns named in `no_wrap` keep their width."""
    cells = [[clean(c) for c in row] for row in rows]
    natural = [max([cell_width(h), *(cell_width(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    minimum = [n if h in no_wrap else min(n, max(MIN_WRAPPED, cell_width(h))) for h, n in zip(headers, natural, strict=True)]
    widths = _widths(natural, minimum, width - 3 * len(headers) - 1)

    def line(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def block(row: Sequence[str], bar: str) -> list[str]:
        wrapped = [wrap(cell, w) for cell, w in zip(row, widths, strict=True)]
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for lines, w in zip(wrapped, widths, strict=True):
                text = lines[k] if k < len(lines) else ""
                parts.append(text + " " * (w - cell_width(text)))
            out.append(f"{bar} " + f" {bar} ".join(parts) + f" {bar}")
        return out

    out = [clean(title)] if title else []
    out.append(line("┏", "━", "┳", "┓"))
    out += block([clean(h) for h in headers], "┃")
    out.append(line("┡", "━", "╇", "┩"))
    for row in cells:
        out += block(row, "│")
    out.append(line("└", "─", "┴", "┘"))
    return "\n".join(out)
