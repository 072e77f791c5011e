"""`hullscan convert`: re-render a saved JSON report in any format. Every writer reads only the report
dict, so converting a saved report gives the same bytes as scanning with that format did."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from hullscan.errors import FetchError, InputError
from hullscan.report.formats import writer

# docs/report.schema.json is the one schema; found beside the source tree, or shipped in the package
_SCHEMA_PLACES = (
    Path(__file__).resolve().parents[3] / "docs" / "report.schema.json",
    Path(__file__).resolve().parent / "report.schema.json",
)


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any] | None:
    for place in _SCHEMA_PLACES:
        if place.is_file():
            return json.loads(place.read_text(encoding="utf-8"))
    return None


def load_report(path: str) -> dict[str, Any]:
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
        report = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not JSON ({err})") from None
    if not isinstance(report, dict):
        raise InputError(f"{path}: not a hullscan JSON report (top level is not an object)")
    schema = report_schema()
    if schema is not None:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(report))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise InputError(f"{path}: not a valid hullscan JSON report: {where}: {error.message[:300]}")
    elif not {"schema_version", "target", "packages", "vulnerabilities"} <= set(report):
        raise InputError(f"{path}: not a hullscan JSON report")
    return report


def convert(path: str, fmt: str) -> bytes:
    render = writer(fmt)
    return render(load_report(path))
