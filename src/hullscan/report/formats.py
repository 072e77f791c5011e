"""Output formats by name (DESIGN.md "Formats"): each renders a Report to bytes (report/<format>.py);
`template` renders a user's Jinja2 template (report/template.py, docs/templates.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from hullscan.errors import FetchError, UsageError
from hullscan.fsio import write_atomic

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:

    from hullscan.model.report import Report

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


def writer(name: str, template: str | None = None) -> Callable[[Report], bytes]:
    """The writer for `--format NAME` (any case); `template` is `--template`, which goes with `template` only."""
    name = name.lower()
    if name == "template":
        if not template:
            raise UsageError("--format template needs --template @FILE (or @builtin/gitlab.tpl, @builtin/asff.tpl, "
                             "or the template text); see docs/templates.md")
        from hullscan.report.template import compile_template  # Jinja2 loads only for this format

        return compile_template(template)
    if template is not None:
        raise UsageError(f"--template goes with --format template, not --format {name}")
    spec = WRITERS.get(name)
    if spec is None:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join([*WRITERS, 'template'])}")
    module, _, func = spec.partition(":")
    try:
        render: Callable[[Report], bytes] = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError):
        raise UsageError(f"format {name!r} is not available in this build") from None
    return render


def write_output(data: bytes, path: str | None) -> None:
    """Write to stdout, or to `path` as `> path` would (fsio.write_atomic: replaced whole, the umask or
    the existing file's mode; /dev/null, a FIFO or a terminal written in place)."""
    if not path or path == "-":
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        write_atomic(path, data, private=False)
    except OSError as err:
        raise FetchError(f"cannot write {path}: {err.strerror}") from None
