"""`hullscan convert`: re-render a saved JSON report in any format. The report is read back into the
model (report/load.py) and every writer renders the model, so converting a saved report gives the same
bytes as scanning with that format did."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from hullscan.errors import FetchError, InputError
from hullscan.model.report import Report
from hullscan.report.formats import writer
from hullscan.report.load import load_report

# docs/report.schema.json is the one schema; found beside the source tree, or shipped in the package
_SCHEMA_PLACES = (
    Path(__file__).resolve().parents[3] / "docs" / "report.schema.json",
    Path(__file__).resolve().parent / "report.schema.json",
)


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any] | None:
    for place in _SCHEMA_PLACES:
        if place.is_file():
            schema: dict[str, Any] = json.loads(place.read_text(encoding="utf-8"))
            return schema
    return None


def read_report(path: str) -> Report:
    """Read and validate a saved JSON report; an unreadable or invalid one is an InputError (exit 2)."""
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a JSON report") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as err:
        raise FetchError(f"cannot read {path}: {err.strerror}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not JSON ({err})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a hullscan JSON report (top level is not an object)")
    schema = report_schema()
    if schema is not None:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise InputError(f"{path}: not a valid hullscan JSON report: {where}: {error.message[:300]}")
    elif not {"schema_version", "target", "packages", "vulnerabilities"} <= set(doc):
        raise InputError(f"{path}: not a hullscan JSON report")
    return load_report(doc, path)


def convert(path: str, fmt: str) -> bytes:
    return writer(fmt)(read_report(path))
