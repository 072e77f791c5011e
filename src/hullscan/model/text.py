"""Every string of a model value as valid Unicode.

Names read from an image keep undecodable bytes as lone surrogates (surrogateescape), which no encoder
accepts: one such file name would make every format fail. They become U+FFFD, as in Trivy's (Go's) JSON.
The scan service passes its Report through here once, so writers and the cache only ever see valid text.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any


def valid_text(value: Any) -> Any:
    """`value` with every string valid; containers and records are rebuilt only where a string changed."""
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                raw = value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = value.encode("utf-8", "replace")
            return raw.decode("utf-8", "replace")
    fields = getattr(type(value), "__record_fields__", None)
    if fields is not None:
        changed = {}
        for name in fields:
            old = getattr(value, name)
            new = valid_text(old)
            if new is not old:
                changed[name] = new
        if not changed:
            return value
        from hullscan.record import replace

        return replace(value, **changed)
    if isinstance(value, list | tuple):
        items = [valid_text(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        pairs = [(valid_text(k), valid_text(v)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    return value
