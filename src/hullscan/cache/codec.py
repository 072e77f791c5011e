"""The model (hullscan/model/ records) as plain values `marshal` stores, and back.

Written by hand because what the libraries offer does not fit: pickle would let a tampered cache file run
code (a CI cache restored from another branch is such a file), and JSON or msgpack round trips lose the
tuple/list distinction and cost more to decode. `marshal` keeps tuples, lists, dicts and scalars as they
are and cannot run code; records are encoded as a list `[class name, *field values]`. A field that can
hold records (its annotation names a model class) is decoded recursively; every other field is taken as
marshal gives it, so plain data costs nothing.

Decoding skips the records' `__init__` (its argument checks are for code, not for values this module
wrote itself): a warm scan decodes a few thousand records.
"""

from __future__ import annotations

from hullscan.model import findings, image, inventory, report, verdict

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any

_MODULES = (image, inventory, findings, verdict, report)
CLASSES: dict[str, type] = {
    name: cls for mod in _MODULES for name, cls in vars(mod).items()
    if isinstance(cls, type) and hasattr(cls, "__record_fields__") and cls.__module__ == mod.__name__
}
# per class: its field names, and which fields may hold records (decoded recursively); made on a class's
# first decode (a warm scan meets a dozen of the model's classes: planning all at import cost 2.7 M
# instructions)
_PLAN: dict[str, tuple[type, tuple[str, ...], tuple[bool, ...]]] = {}


def _holds_records(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return any(word in CLASSES for word in text.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ").split())


def _plan(name: str) -> tuple[type, tuple[str, ...], tuple[bool, ...]]:
    """The decoding plan of a record class by name; ValueError for a name that is none of the model's."""
    try:
        cls = CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown record {name!r}") from None
    annotations: dict[str, object] = {}
    for base in reversed(cls.__mro__):
        annotations.update(base.__dict__.get("__annotations__", {}))
    fields = tuple(cls.__record_fields__)  # type: ignore[attr-defined]
    plan = _PLAN[name] = (cls, fields, tuple(_holds_records(annotations.get(f, "")) for f in fields))
    return plan


def encode(obj: Any) -> Any:
    """A record (or a tuple or list of records) as marshal-able values."""
    fields = getattr(type(obj), "__record_fields__", None)
    if fields is not None:
        return [type(obj).__name__, *(_encode_value(getattr(obj, f)) for f in fields)]
    return _encode_value(obj)


def _encode_value(value: Any) -> Any:
    if hasattr(type(value), "__record_fields__"):
        return encode(value)
    if isinstance(value, tuple) and value and hasattr(type(value[0]), "__record_fields__"):
        return tuple(encode(v) for v in value)
    if isinstance(value, list) and value and hasattr(type(value[0]), "__record_fields__"):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """What `encode` gave, as records again. Raises ValueError on a value this module did not write."""
    if value is None:
        return None
    if type(value) is list and value and type(value[0]) is str:
        cls, names, nested = _PLAN.get(value[0]) or _plan(value[0])
        if len(value) != len(names) + 1:
            raise ValueError(f"{value[0]}: {len(value) - 1} values for {len(names)} fields")
        obj: Any = object.__new__(cls)
        values = value[1:]
        fields = [v if v is None or not n else decode(v) for v, n in zip(values, nested, strict=True)]
        obj.__dict__.update(zip(names, fields, strict=True))
        return obj
    if type(value) is tuple:
        return tuple(decode(v) for v in value)
    if type(value) is list:
        return [decode(v) for v in value]
    raise ValueError(f"not an encoded record: {type(value).__name__}")
