"""JSON with comments and trailing commas (bun.lock's JSONC), turned into plain JSON.

Hand-written because the standard library has no JSONC reader and the transformation is a small,
string-aware scan (comments and commas inside strings must survive)."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str) -> Any:
    return json.loads(strip(text))


def strip(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma = -1  # index in `out` of a comma that a closing bracket may make trailing
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            pending_comma = -1
            i = j + 1
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == ",":
            pending_comma = len(out)
            out.append(c)
            i += 1
        elif c in "}]":
            if pending_comma >= 0:
                out[pending_comma] = ""
            pending_comma = -1
            out.append(c)
            i += 1
        else:
            if not c.isspace():
                pending_comma = -1
            out.append(c)
            i += 1
    return "".join(out)
