"""Records (hullscan/model/ and policy records) as plain values `marshal` stores, by field NAME, and back.

cache/codec.py encodes a record by field position: right for a cache whose key changes with the code,
wrong for the state store, whose rows outlive the hullscan that wrote them. Here a record is
`("@rec", class name, {field: value})`: a field a later hullscan adds takes its default, one it drops is
ignored. `marshal` (format 4) keeps tuples, lists and dicts as they are and cannot run code (pickle
could); a date is `("@date", ISO)`, and a plain tuple whose first item is a string starting with `@` is
escaped as `("@tup", *items)` so nothing of the user's is read as a tag.
"""

from __future__ import annotations

from datetime import date
from typing import Any

_REC, _DATE, _TUP = "@rec", "@date", "@tup"
_SCALARS = (str, int, float, bool, bytes, type(None))


def encode(value: Any) -> Any:
    """A record, or a structure of records and plain data, as marshal-able values."""
    cls = type(value)
    fields = getattr(cls, "__record_fields__", None)
    if fields is not None:
        return (_REC, cls.__name__, {name: encode(getattr(value, name)) for name in fields})
    if cls in _SCALARS:
        return value
    if cls is tuple:
        items = tuple(encode(v) for v in value)
        return (_TUP, *items) if items and type(items[0]) is str and items[0].startswith("@") else items
    if cls is list:
        return [encode(v) for v in value]
    if cls is dict:
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, date):
        return (_DATE, value.isoformat())
    if isinstance(value, tuple | list):  # a Sequence subclass (a cached report's lazy package list)
        return [encode(v) for v in value]
    return str(value)  # anything else an analyzer left in `extra`: its string, as the JSON writer does


def decode(value: Any, classes: dict[str, type]) -> Any:
    """What `encode` gave, with records rebuilt from `classes` (name → record class). ValueError on a
    record class it does not know or a record missing a required field."""
    cls = type(value)
    if cls is tuple:
        if value and type(value[0]) is str:
            head = value[0]
            if head == _REC:
                if len(value) != 3 or type(value[1]) is not str or type(value[2]) is not dict:
                    raise ValueError("a record that is not (tag, class name, fields)")
                record_cls = classes.get(value[1])
                if record_cls is None:
                    raise ValueError(f"unknown record {value[1]!r}")
                known = record_cls.__record_fields__  # type: ignore[attr-defined]
                try:
                    return record_cls(**{k: decode(v, classes) for k, v in value[2].items() if k in known})
                except TypeError as err:
                    raise ValueError(f"{value[1]}: {err}") from None
            if head == _DATE:
                if len(value) != 2 or type(value[1]) is not str:
                    raise ValueError("a date that is not (tag, ISO date)")
                return date.fromisoformat(value[1])
            if head == _TUP:
                return tuple(decode(v, classes) for v in value[1:])
        return tuple(decode(v, classes) for v in value)
    if cls is list:
        return [decode(v, classes) for v in value]
    if cls is dict:
        return {k: decode(v, classes) for k, v in value.items()}
    return value
