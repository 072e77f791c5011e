"""Box-drawn text tables for a terminal: the `table` format and `registry scan`'s summary.

Written by hand: rich's Table spent ~250 ms laying out the 163 findings of the bench image (three
quarters of a warm scan printed as a table) and tabulate ~190 ms with its import; a table measured
once and drawn line by line takes a few milliseconds. Cells are plain text, never markup (rich read
`[...]` in a file name or version as a style tag, or failed on it), and control characters — an
image's file names may hold terminal escape sequences — are shown as `\\xNN` instead of being sent to
the terminal. Colour, when asked for, is added by `paint` after the layout, so it never counts as width.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

MIN_WRAPPED = 8
"""Narrowest a wrapping column is made when the table is too wide for the screen."""
DEFAULT_COLUMNS = 80
"""Width when neither COLUMNS nor a terminal says otherwise (output piped, redirected, or in CI)."""
ELLIPSIS = "…"

# Control characters (C0, DEL, C1) → a visible escape; everything else printable passes.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def terminal_columns() -> int:
    """The width to draw to: `COLUMNS` when set to a positive number, else the terminal's on stdout,
    else 80 — shutil.get_terminal_size's rule, without importing shutil (a warm scan's start-up)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or DEFAULT_COLUMNS  # type: ignore[union-attr]  # no __stdout__: AttributeError
    except (AttributeError, ValueError, OSError):
        return DEFAULT_COLUMNS


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


def ellipsize(text: str, width: int) -> str:
    """`text` on one line of at most `width` columns: cut, with `…` as its last column, when longer."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    return _cut(text, width - 1)[0].rstrip() + ELLIPSIS


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


def _longest_word(text: str) -> int:
    return max(cell_width(w) for w in text.split(" "))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, width: int, title: str = "",
          no_wrap: Sequence[str] = (), ellipsize_cols: Sequence[str] = (), details: Sequence[str] | None = None,
          paint: Callable[[str, str], str] | None = None) -> str:
    """The table as text: title line, heavy header box, light body box (rich's default look), at most
    `width` columns wide when the cells can wrap to fit.

    - `no_wrap` columns keep their cells whole (ids: never cut); only their header may wrap, at spaces.
    - `ellipsize_cols` columns take one line, cut with `…` (secondary text such as a title).
    - `details[i]`, when not empty, is one line under row i spanning the whole row (cut with `…`):
      the secondary cells of a narrow table, so a row takes two lines instead of wrapping into many.
    - `paint(header, text)` returns an SGR code (`"1;31"`) or "" for a cell's text: colour on a terminal.
    """
    cells = [[clean(c) for c in row] for row in rows]
    notes = [clean(d) for d in details] if details is not None else []
    natural = [max([cell_width(h), *(cell_width(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    minimum = []
    for i, (h, n) in enumerate(zip(headers, natural, strict=True)):
        if h in no_wrap:
            minimum.append(max([_longest_word(h), *(cell_width(r[i]) for r in cells)]))
        else:
            minimum.append(min(n, max(MIN_WRAPPED, _longest_word(h))))
    frame = 3 * len(headers) + 1
    widths = _widths(natural, minimum, width - frame)
    longest_note = max((cell_width(n) for n in notes), default=0)
    extra = min(width, longest_note + 4) - sum(widths) - frame
    for i in range(max(0, extra)):  # widen, evenly, to show more of the details (up to the screen)
        widths[i % len(widths)] += 1
    inner = sum(widths) + frame - 4

    def line(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def block(row: Sequence[str], bar: str, header: bool = False) -> list[str]:
        wrapped = []
        for h, cell, w in zip(headers, row, widths, strict=True):
            wrapped.append([ellipsize(cell, w)] if h in ellipsize_cols and not header else wrap(cell, w))
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for h, lines, w in zip(headers, wrapped, widths, strict=True):
                text = lines[k] if k < len(lines) else ""
                pad = " " * (w - cell_width(text))
                code = paint(h, text) if paint is not None and text and not header else ""
                parts.append(f"\x1b[{code}m{text}\x1b[0m{pad}" if code else text + pad)
            out.append(f"{bar} " + f" {bar} ".join(parts) + f" {bar}")
        return out

    out = [clean(title)] if title else []
    out.append(line("┏", "━", "┳", "┓"))
    out += block([clean(h) for h in headers], "┃", header=True)
    out.append(line("┡", "━", "╇", "┩"))
    for i, row in enumerate(cells):
        out += block(row, "│")
        if i < len(notes) and notes[i]:
            text = ellipsize(notes[i], inner)
            out.append(f"│ {text}{' ' * (inner - cell_width(text))} │")
    out.append(line("└", "─", "┴", "┘"))
    return "\n".join(out)
