"""JSON and TOML documents read the same way by every parser: what the format's reader refuses is one
warning line, never an exception, and a TOML lockfile keeps every entry that still parses.

The standard readers raise more than their documented error on hostile input: `json` and `tomllib`
raise RecursionError on arrays nested 100,000 deep and ValueError on integers of more than 4,300
digits (CPython's limit on int conversion). A JSON document is one value, so what does not parse is
lost as a whole. A TOML lockfile is a list of `[[package]]` tables: when the file does not parse,
each table is parsed alone and only the ones that fail are left out.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from itertools import pairwise
from typing import Any

from hullscan.walk.analyzer import WarnFn

_ARRAY_TABLE = re.compile(r"^[ \t]*\[\[", re.MULTILINE)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    return " ".join(str(exc).split())  # yaml/json messages may span lines; a warning is one


def load_json(data: bytes | str, what: str, warn: WarnFn) -> Any:
    """The JSON document (bytes in UTF-8, -16 or -32, a UTF-8 BOM allowed), or None with a warning
    `malformed WHAT: …` when it is not JSON."""
    if isinstance(data, bytes) and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        warn(f"malformed {what}: {_reason(exc)}")
        return None


def load_toml(text: str, what: str, warn: WarnFn, *, entries: bool = True) -> dict[str, Any]:
    """The TOML document. When it does not parse and `entries` is set (lockfiles), the document made
    of the parts that do: the text before the first `[[table]]` header and each `[[table]]` entry
    (with the sub-tables that follow it) parsed alone, a warning naming the line of each entry left
    out. Otherwise (or when the file has no entries) {} with one warning."""
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
        whole = exc
    starts = [m.start() for m in _ARRAY_TABLE.finditer(text)] if entries else []
    if not starts:
        warn(f"malformed {what}: {_reason(whole)}")
        return {}
    doc: dict[str, Any] = {}
    bounds = [0, *starts, len(text)]
    for start, end in pairwise(bounds):
        part = text[start:end]
        if not part.strip():
            continue
        try:
            parsed = tomllib.loads(part)
        except (ValueError, RecursionError) as exc:
            line = text.count("\n", 0, start) + 1
            warn(f"malformed {what}: the entry at line {line} is left out: {_reason(exc)}")
            continue
        for key, value in parsed.items():
            if isinstance(value, list) and isinstance(doc.get(key), list):
                doc[key].extend(value)  # the next entry of the same [[key]] array
            else:
                doc.setdefault(key, value)
    return doc
