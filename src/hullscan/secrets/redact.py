"""Keep secrets out of reports: config strings (Env, history, labels) holding a secret are replaced
by their masked form before they reach any report, whichever scanners ran."""

from __future__ import annotations

from functools import lru_cache

from hullscan.secrets.engine import scan_bytes

MAX_EXACT = 200  # longer strings holding a secret are replaced whole (the engine cuts long matches)


@lru_cache(maxsize=4096)  # the same history lines come back once per package of their layer
def redact(text: str) -> str:
    """`text` with its secrets masked (the engine's masked line), or unchanged when it holds none."""
    if not text:
        return text
    try:
        findings = scan_bytes("config:redact", text.encode("utf-8", "surrogateescape"))
    except Exception:  # never let redaction fail a report; hide the string instead
        return "<redacted>"
    if not findings:
        return text
    if len(text) <= MAX_EXACT and "\n" not in text and len({f.match for f in findings}) == 1:
        return findings[0].match
    return "<redacted: holds a secret>"
