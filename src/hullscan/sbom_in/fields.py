"""Type-checked reads of an SBOM's JSON values: the readers take what a field holds only when it has
the type the format gives it, so a hostile or sloppy document cannot raise TypeError deep inside."""

from __future__ import annotations

from typing import Any

from hullscan.errors import InputError


def text(value: Any) -> str:
    """A string field: strings as they are, numbers spelled out (`"version": 2`), anything else ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def doc_list(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    """A document-level list (`components`, `packages`, `documentDescribes`…): absent or null is
    empty; any other type makes the document unreadable (one line naming the key)."""
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{source}: {key}: expected a list, found {json_type(value)}")
    return value


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def nested_too_deep(source: str, what: str, limit: int) -> InputError:
    return InputError(f"{source}: {what} nested more than {limit} deep")
