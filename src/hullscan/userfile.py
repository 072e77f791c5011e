"""Files users write (policy, `.trivyignore(.yaml)`, secret config, VEX): read strictly, checked against
the JSON Schemas in `hullscan/schemas/` (shipped as `docs/*.schema.json`), refused in one line.

A mistake in such a file must never widen what it allows: an unknown key, a wrong type or an impossible
date is an `InputError` (exit 2) naming the file, the key path and what was expected, with the nearest
known key for a typo (`policy.yaml: exceptions[0]: unknown key 'packge' (did you mean 'package'?)`).
YAML is read with PyYAML's safe loader, nesting and alias expansion bounded, dates kept as text so the
schema's `format: date` judges them (PyYAML would raise on `2026-13-45` while building a `date`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache

import yaml

from hullscan import schemas as schemas_pkg
from hullscan.errors import InputError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: a --policy run is on the warm path
if TYPE_CHECKING:
    from typing import Any

    import jsonschema
    from jsonschema.exceptions import ValidationError

MAX_DEPTH = 64
"""Deeper nesting than any real policy or config: beyond it the file is refused (no RecursionError)."""
MAX_NODES = 200_000
"""Values after alias expansion: YAML aliases can make a small file expand exponentially."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Loader(yaml.SafeLoader):
    """The safe loader, with nesting bounded and timestamps left as strings."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Without the timestamp resolver `2027-02-30` stays a string: the schema says what is wrong with it.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _TooDeep(Exception):
    pass


def read_text(path: str, what: str) -> str:
    """The file's text (UTF-8, strictly); a missing or unreadable file is one line."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read {what} ({err.strerror or err})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(f"{path}: not valid UTF-8 (line {line}, byte {err.start})") from None


def load_yaml(text: str, where: str) -> Any:
    """Parse one YAML document into plain JSON-like values (dates as `YYYY-MM-DD` strings, keys as strings)."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # safe: _Loader is a yaml.SafeLoader
    except _TooDeep:
        raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InputError(f"{where}: invalid YAML{at} ({err.problem or err.context})") from None
    except yaml.YAMLError as err:
        raise InputError(f"{where}: invalid YAML ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as err:  # an explicit !!timestamp, !!int…
        raise InputError(f"{where}: invalid YAML value ({type(err).__name__}: {str(err)[:100]})") from None
    return _plain(doc, where)


def load_json(text: str, where: str) -> Any:
    """Parse JSON; too deep a document is one line, not a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except ValueError as err:
        raise InputError(f"{where}: not valid JSON ({err})") from None


def _plain(doc: Any, where: str) -> Any:
    """Dates back to their text, keys to strings; nesting and expanded size bounded (aliases share
    objects: a few lines can stand for billions of values, or for a value that contains itself)."""
    budget = [MAX_NODES]

    def walk(value: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise InputError(f"{where}: more than {MAX_NODES} values (YAML aliases expanding?)")
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            return {k if isinstance(k, str) else str(k): walk(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, depth + 1) for v in value]
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    return walk(doc, 0)


@cache
def _schema_bytes(name: str) -> bytes:
    # a plain open beside the package, not importlib.resources (~30 ms of imports on every --policy run)
    with open(os.path.join(os.path.dirname(schemas_pkg.__file__ or ""), f"{name}.schema.json"), "rb") as fh:
        return fh.read()


@cache
def schema(name: str) -> dict[str, Any]:
    """A shipped schema by name (`policy`, `trivyignore`, `secret-config`)."""
    text = _schema_bytes(name).decode("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _import_jsonschema() -> None:
    """Import jsonschema without `rfc3987_syntax`: jsonschema registers a format checker for every
    optional library it finds, and that one builds a Lark grammar at import (~2 s of CPU) for the `iri`
    formats, which no user file uses. Only when jsonschema is not loaded yet; the block is lifted right
    after (later users of jsonschema in the process do without `iri`)."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes `import rfc3987_syntax` raise ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    _import_jsonschema()
    import jsonschema

    return jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def validate(doc: Any, name: str, where: str) -> None:
    """Check a document against a shipped schema; the most telling error, if any, is one InputError line.

    Importing jsonschema (and the format libraries it finds) costs ~100 ms of CPU, as much again as a
    whole warm scan, and the same policy is checked on every CI run: a document that passed is
    remembered by the digest of its canonical JSON and of the schema (`_checked`), and not checked again."""
    memo = _checked(doc, name)
    if memo is not None and os.path.exists(memo):
        return
    errors = list(_validator(name).iter_errors(doc))
    if errors:
        raise InputError(f"{where}: {explain(pick(errors), schema(name))}")
    if memo is not None:
        try:
            os.makedirs(os.path.dirname(memo), exist_ok=True)
            os.close(os.open(memo, os.O_WRONLY | os.O_CREAT, 0o644))  # an empty file: creating it is atomic
        except OSError:
            pass  # an unwritable cache only costs the next run the check


def _checked(doc: Any, name: str) -> str | None:
    """Where the proof that `doc` passed schema `name` is kept: `$XDG_CACHE_HOME/hullscan/checked/<digest>`;
    None when the document has no canonical JSON (the schema check then runs every time)."""
    try:
        canonical = json.dumps(doc, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    text = _schema_bytes(name)
    digest = hashlib.sha256(text + b"\0" + canonical.encode()).hexdigest()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hullscan", "checked", digest)


def pick(errors: Iterable[ValidationError]) -> ValidationError:
    """The error to show: the shallowest, the first in the document among equals (jsonschema's own
    relevance prefers the last sibling), then jsonschema's descent into anyOf/oneOf."""
    def key(e: ValidationError) -> tuple[Any, ...]:
        where = tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.path)
        return (len(e.path), where, e.validator in ("anyOf", "oneOf"))

    from jsonschema.exceptions import best_match

    first = min(errors, key=key)
    found = best_match([first])
    return found if found is not None else first


def key_path(path: Iterable[Any]) -> str:
    """`['exceptions', 0, 'expires']` → `exceptions[0].expires`."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def explain(error: ValidationError, root: dict[str, Any]) -> str:
    """One line for one validation error: the key path, then what was expected and what was found."""
    at = key_path(error.absolute_path)
    return f"{at}: {_message(error, root)}" if at else _message(error, root)


def _message(error: ValidationError, root: dict[str, Any]) -> str:
    kind, sub, value = error.validator, error.schema, error.instance
    wanted: Any = error.validator_value  # the keyword's value in the schema (a list for required, enum…)
    sub = sub if isinstance(sub, dict) else {}
    if kind == "additionalProperties" and isinstance(value, dict):
        known = sorted(sub.get("properties", {}))
        extra = next(k for k in value if k not in known)
        import difflib

        close = difflib.get_close_matches(str(extra), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key {extra!r} ({hint})"
    if kind == "required" and isinstance(value, dict):
        missing = next((k for k in wanted if k not in value), "?")
        return f"{missing} is required"
    if kind in ("anyOf", "oneOf") and isinstance(wanted, list) and all(set(s) == {"required"} for s in wanted):
        names = [n for s in wanted for n in s["required"]]
        return f"needs one of {_either(names)}"
    if kind == "type":
        return f"expected {describe(sub, root)}, got {describe_value(value)}"
    if kind == "enum":
        return f"expected one of {_either(_unique(wanted))}, got {_short(value)}"
    if kind == "const":
        return f"expected {_short(wanted)}, got {_short(value)}"
    if kind == "format" and wanted == "date":
        return f"{_short(value)} is not a valid date (expected YYYY-MM-DD)"
    if kind == "minLength" and wanted == 1:
        return "expected a non-empty string"
    if kind in ("minimum", "maximum"):
        low, high = sub.get("minimum"), sub.get("maximum")
        span = f"from {low} to {high}" if low is not None and high is not None else (
            f"at least {low}" if low is not None else f"at most {high}")
        return f"expected a number {span}, got {_short(value)}"
    return error.message[:200]


def describe(sub: dict[str, Any], root: dict[str, Any], plural: bool = False) -> str:
    """What a schema asks for, in words: `a list of strings`, `a mapping`, `a date (YYYY-MM-DD)`."""
    ref = sub.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return describe({**root["$defs"][ref.split("/")[-1]], **{k: v for k, v in sub.items() if k != "$ref"}}, root, plural)
    if "enum" in sub:
        return f"one of {_either(_unique(sub['enum']))}"
    if "const" in sub:
        return _short(sub["const"])
    types = sub.get("type", [])
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    words = []
    for t in types:
        if t == "array":
            items = sub.get("items")
            of = f" of {describe(items, root, plural=True)}" if isinstance(items, dict) else ""
            words.append(("lists" if plural else "a list") + of)
        elif t == "string" and sub.get("format") == "date":
            words.append("dates (YYYY-MM-DD)" if plural else "a date (YYYY-MM-DD)")
        else:
            words.append(_NOUNS.get(t, (t, t))[plural])
    return " or ".join(words) or "something else"


_NOUNS = {
    "string": ("a string", "strings"), "integer": ("an integer", "integers"), "number": ("a number", "numbers"),
    "boolean": ("true or false", "booleans"), "object": ("a mapping", "mappings"),
}


def describe_value(value: Any) -> str:
    """What a parsed value is, in the same words: `a string`, `a list`, `nothing (null)`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    for kind, word in ((str, "a string"), (int, "an integer"), (float, "a number"), (dict, "a mapping"),
                       (list, "a list"), (bytes, "binary data"), (set | frozenset, "a set")):
        if isinstance(value, kind):
            return word
    return f"a {type(value).__name__}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unique(values: Iterable[Any]) -> list[str]:
    """Enum values once each, ignoring case (`HIGH` and `high` are one choice)."""
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(str(v).lower(), str(v))
    return list(seen.values())


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def parse_date(text: str, where: str) -> date:
    """A `YYYY-MM-DD` that exists on the calendar (`2027-02-30` does not)."""
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InputError(f"{where}: {text!r} is not a valid date (expected YYYY-MM-DD)")
