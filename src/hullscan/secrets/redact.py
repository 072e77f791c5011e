"""Mask the secrets of a scanned string by their byte spans: how every echoed image-config field is
shown (secrets/config_scan.py finds the spans with the same scan that makes the findings).

Pure string work, no engine: the spans come from `engine.scan_spans` over the UTF-8 (surrogatepass)
bytes of the text, so pieces are cut and decoded back by the same encoding, losslessly.
"""

from __future__ import annotations

from hullscan.secrets.finding import MASK, mask_secret

NOT_SCANNED = "<redacted: not fully scanned>"
"""What replaces a string the engine could not scan to its end (over its size or findings cap)."""

Span = tuple[int, int, bool]
"""(start, end, whole) in bytes: `whole` is False for the clipped part of a secret that runs on into a
neighbouring field (such a part is starred entirely; the kept prefix would be someone else's)."""


def encode(text: str) -> bytes:
    """The bytes the engine scans for `text` (lone surrogates from JSON escapes kept, not refused)."""
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a span cut inside a character (a rule's class stopping mid-sequence)
        return data.decode("utf-8", "replace")


def clip(spans: list[tuple[int, int]], lo: int, hi: int) -> list[Span]:
    """The parts of `spans` inside [lo, hi), relative to lo."""
    return [(max(a, lo) - lo, min(b, hi) - lo, lo <= a and b <= hi) for a, b in spans if a < hi and b > lo]


def mask_region(data: bytes, spans: list[Span] | None, lo: int = 0, hi: int | None = None) -> str:
    """`data[lo:hi]` as text with every span in it masked (spans relative to `data`); NOT_SCANNED when
    `spans` is None (the text was not scanned to its end)."""
    if spans is None:
        return NOT_SCANNED
    hi = len(data) if hi is None else hi
    out: list[str] = []
    pos = lo
    for a0, b0, whole in sorted(spans):
        a, b = max(a0, pos), min(b0, hi)
        if b <= a:
            continue
        out.append(_decode(data[pos:a]))
        piece = _decode(data[a:b])
        out.append(mask_secret(piece) if whole and (a, b) == (a0, b0) else MASK * len(piece))
        pos = b
    out.append(_decode(data[pos:hi]))
    return "".join(out)
