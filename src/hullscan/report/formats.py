"""Output formats by name (DESIGN.md "Formats"): each renders the JSON report dict to bytes."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable

from hullscan.errors import FetchError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

# name → "module:function"; each module is one writer (report/<format>.py)
WRITERS: dict[str, str] = {
    "table": "hullscan.report.table:render",
    "json": "hullscan.report.json_report:render",
    "cyclonedx": "hullscan.report.cyclonedx:render_json",
    "cyclonedx-xml": "hullscan.report.cyclonedx:render_xml",
    "spdx-json": "hullscan.report.spdx:render_json",
    "spdx": "hullscan.report.spdx:render_tagvalue",
    "sarif": "hullscan.report.sarif:render",
    "junit": "hullscan.report.junit:render",
    "html": "hullscan.report.html:render",
    "openvex": "hullscan.report.openvex:render",
}


def writer(name: str) -> Callable[[dict[str, Any]], bytes]:
    spec = WRITERS.get(name)
    if spec is None:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join(WRITERS)}")
    module, _, func = spec.partition(":")
    try:
        render: Callable[[dict[str, Any]], bytes] = getattr(importlib.import_module(module), func)
        return render
    except (ImportError, AttributeError):
        raise UsageError(f"format {name!r} is not available in this build") from None


def write_output(data: bytes, path: str | None) -> None:
    """Write to a file atomically (temp file + rename), or to stdout."""
    if not path or path == "-":
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    # tempfile.mkstemp's way (O_EXCL, mode 0600, a name no other writer picks) without importing
    # tempfile, which loads shutil and random: ~5 ms of a warm scan
    tmp = os.path.join(directory, f".hullscan-{os.getpid()}-{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as err:
        raise FetchError(f"cannot write {path}: {err.strerror}") from None
