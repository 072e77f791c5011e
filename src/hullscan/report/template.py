"""`--format template --template SPEC`: a user's Jinja2 template over the documented report model.

SPEC is `@PATH` (a template file), `@builtin/NAME` (a template shipped in report/templates/) or the
template text itself, as Trivy's `--template` takes them. The template sees the JSON report's document
(json_report.to_dict: the field names of docs/report.schema.json), each top-level key as a variable and
the whole as `report`. It runs in Jinja2's SandboxedEnvironment: no attribute starting with `_`, no
unsafe callables, bounded `range`; undefined names and keys are errors (StrictUndefined), so a typo
fails loudly instead of printing nothing. Every failure — a missing file, a syntax error, a sandbox
violation, an undefined key, an exception inside the template — is one InputError line (exit 2) naming
the template and its line. docs/templates.md documents the model, the helpers and the built-ins.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import jinja2
import jinja2.sandbox

from hullscan.errors import FetchError, InputError
from hullscan.report.json_report import PackagesJSON, to_dict

if TYPE_CHECKING:
    from hullscan.model.report import Report

BUILTIN_DIR = Path(__file__).parent / "templates"
BUILTIN_PREFIX = "builtin/"

# repetition (`'x' * n`, `[0] * n`) and powers past these bounds are refused: a template cannot make
# the scanner allocate gigabytes (the sandbox already bounds range() at 100,000 items)
MAX_REPEAT = 1_000_000
MAX_EXPONENT = 1_000

# env() refuses names like these: a shared template must not copy credentials into a report
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|(^|_)KEY($|_)|AUTH|COOKIE|SESSION", re.I)
# markers of a Go text/template (Trivy's `--template` language) in a file that failed to parse
_GO_TEMPLATE = re.compile(r"\{\{-?\s*(range|end|\$[A-Za-z_]|\.[A-Z])")


class TemplateFailure(Exception):
    """Raised by the template's own `fail(message)`: the message is the error line shown."""


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """The sandbox with `*` and `**` bounded (see MAX_REPEAT, MAX_EXPONENT)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise jinja2.sandbox.SecurityError(f"exponent {right} is beyond the template limit of {MAX_EXPONENT}")
            return left**right
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                raise jinja2.sandbox.SecurityError(f"a repetition of {len(seq) * count} items is beyond the template "
                                                   f"limit of {MAX_REPEAT}")
        return left * right


def _env(name: str, default: str | None = None) -> str:
    """The template's `env(NAME, default)`: an environment variable, never one named like a credential."""
    if _SECRET_NAME.search(name):
        raise TemplateFailure(f"env({name!r}) refused: a template may not read credentials")
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise TemplateFailure(f"environment variable {name} is not set")
        return default
    return value


def _fail(message: str) -> NoReturn:
    """The template's `fail(message)`: stop with this message (exit 2)."""
    raise TemplateFailure(str(message))


def _uuid5(value: Any) -> str:
    """A stable UUID for a string (UUID version 5 in the URL namespace): the same finding gets the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, str(value)))


def _tojson(value: Any, indent: int | None = None) -> str:
    """Plain JSON (Jinja2's own `tojson` escapes `<>&'` for HTML: kept for .html/.xml templates only)."""
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _environment(loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
    env = _Sandbox(loader=loader, undefined=jinja2.StrictUndefined, autoescape=autoescape, keep_trailing_newline=True,
                   extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.globals.update(env=_env, fail=_fail)
    env.filters["uuid5"] = _uuid5
    if not autoescape:
        env.filters["tojson"] = _tojson
    return env


def _source(spec: str) -> tuple[jinja2.BaseLoader, str, str]:
    """(loader, template name, the name errors show) for a `--template` value."""
    if not spec.startswith("@"):  # the template text itself
        return jinja2.DictLoader({"<--template>": spec}), "<--template>", "--template"
    ref = spec[1:]
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX):]
        known = sorted(p.name for p in BUILTIN_DIR.glob("*.tpl"))
        if name not in known:
            raise InputError(f"--template {spec}: no such built-in template; built-ins: "
                             f"{', '.join('@builtin/' + k for k in known)}")
        return jinja2.FileSystemLoader(BUILTIN_DIR), name, spec
    path = Path(ref).expanduser()
    if path.is_dir():
        raise InputError(f"--template {spec}: is a directory, not a template file")
    if not path.exists():
        hint = ""
        if path.name in {"gitlab.tpl", "asff.tpl"} and "contrib" in path.parts:
            hint = f" (Trivy's contrib templates are Go templates; hullscan's own is @builtin/{path.name})"
        raise InputError(f"--template {spec}: no such file{hint}")
    # includes and imports resolve beside the template, never above it (FileSystemLoader refuses `..`)
    return jinja2.FileSystemLoader(path.resolve().parent), path.name, ref


def _line_of(tb: TracebackType | None, filename: str | None) -> int | None:
    """The template line an exception was raised at (Jinja2 rewrites tracebacks to template lines)."""
    line = None
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _where(shown: str, line: int | None) -> str:
    return f"{shown}:{line}" if line else shown


def compile_template(spec: str) -> Callable[[Report], bytes]:
    """The writer for `--template SPEC`, loaded and parsed now so a broken template fails before the scan."""
    loader, name, shown = _source(spec)
    autoescape = name.lower().endswith((".html", ".htm", ".xml"))
    env = _environment(loader, autoescape=autoescape)
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as err:
        text = err.source or ""
        hint = " (this looks like a Go template from Trivy: hullscan templates are Jinja2, see docs/templates.md)" \
            if _GO_TEMPLATE.search(text) else ""
        raise InputError(f"template {_where(shown, err.lineno)}: syntax error: {err.message}{hint}") from None
    except UnicodeDecodeError:
        raise InputError(f"template {shown}: not UTF-8 text") from None
    except OSError as err:  # permission denied, an I/O error: exit 3 as other reads
        raise FetchError(f"cannot read template {shown}: {err.strerror}") from None
    except jinja2.TemplateNotFound:  # removed between the check above and the read
        raise InputError(f"--template {spec}: no such file") from None

    def render(report: Report) -> bytes:
        doc = to_dict(report)
        if isinstance(doc.get("packages"), PackagesJSON):  # a cached result's pre-rendered packages
            doc["packages"] = json.loads(bytes(doc["packages"]))
        try:
            text = template.render(doc, report=doc)
        except TemplateFailure as err:
            raise InputError(f"template {_where(shown, _line_of(err.__traceback__, template.filename))}: {err}") from None
        except jinja2.sandbox.SecurityError as err:
            line = _line_of(err.__traceback__, template.filename)
            raise InputError(f"template {_where(shown, line)}: refused by the sandbox: {err}") from None
        except jinja2.UndefinedError as err:
            line = _line_of(err.__traceback__, template.filename)
            raise InputError(f"template {_where(shown, line)}: {err.message} (see docs/templates.md for the "
                             f"report model; `x is defined` tests an optional key)") from None
        except jinja2.TemplateNotFound as err:
            line = _line_of(err.__traceback__, template.filename)
            raise InputError(f"template {_where(shown, line)}: {err.name!r} not found (includes and imports are "
                             f"read from the template file's directory)") from None
        except jinja2.TemplateError as err:  # an include's syntax error…
            line = getattr(err, "lineno", None) or _line_of(err.__traceback__, template.filename)
            raise InputError(f"template {_where(shown, line)}: {err.message or type(err).__name__}") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError, RecursionError) as err:
            line = _line_of(err.__traceback__, template.filename)
            raise InputError(f"template {_where(shown, line)}: {type(err).__name__}: {err}") from None
        return text.encode("utf-8", "replace")  # a lone surrogate the template made itself

    return render

