"""The command line: parses options, calls the stages, prints. No logic a test would want to reach.

Exit codes (DESIGN.md): 0 scan done and gate passed; 1 gate failed (--exit-code N replaces 1);
2 bad usage or unreadable input; 3 I/O, network or registry failure; 4 vulnerability DB missing,
corrupt or of a foreign schema; 5 internal error — any other exception is a bug, reported in one line
(the traceback with --debug or HULLSCAN_DEBUG=1), so that no crash ever reads as "gate failed".

Start-up time matters (a warm scan is ~50 ms, most of it start-up): this module imports only argparse,
sys, os and hullscan.errors at module level, and a command's module when building its parser (COMMANDS
names the function adding each command's parser); the stages a command runs (the DB, HTTP, the scan
service) are imported when it runs, so `--help` and parsing stay cheap.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import import_module

from hullscan import __version__
from hullscan.errors import EXIT_CODES_HELP, ExitCode, HullscanError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~4 ms)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, TypeAlias

    Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
    Handler: TypeAlias = Callable[..., "int | None"]

DESCRIPTION = (
    "Scan container images for vulnerabilities, secrets and policy violations, layer by layer.\n\n" + EXIT_CODES_HELP
)


_WIDTH: list[int] = []


def terminal_width() -> int:
    """The terminal's width less argparse's margin of 2: COLUMNS, the tty, 80 — what argparse asks
    shutil for, without importing shutil (~2 ms). Asked once: argparse makes a formatter for every
    option it adds. The table format on a terminal is drawn to this width too."""
    if not _WIDTH:
        try:
            width = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]  # no __stdout__: AttributeError below
            except (AttributeError, ValueError, OSError):
                width = 80
        _WIDTH.append(width - 2)
    return _WIDTH[0]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their paragraphs (each re-wrapped to the terminal width), options
    show a default that says something, and the usage line is `PROG [options] ARGS` (the options are
    listed below it)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_width() if width is None else width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        return "\n\n".join(
            textwrap.fill(" ".join(p.split()), width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)
            for p in text.strip().split("\n\n")
        )

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        if not action.help or default is None or default is False or default is argparse.SUPPRESS or default == []:
            return action.help
        return f"{action.help} [default: %(default)s]"

    def _format_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None) -> str:
        if usage is None and any(a.option_strings for a in actions):
            positionals = [a for a in actions if not a.option_strings]
            args = super()._format_usage(None, positionals, [], "").strip()[len(self._prog):]
            usage = f"{self._prog} [options]{args}"
        return super()._format_usage(usage, actions, groups, prefix)


class Parser(argparse.ArgumentParser):
    """`add_subparsers` makes sub-parsers of the parent's class: every command gets the formatter.
    An unknown argument is reported by the command that got it, with that command's usage line
    (plain argparse passes it up to `hullscan` itself)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)  # `--form` is not `--format`
        super().__init__(**kwargs)

    def parse_known_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> tuple[Any, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def path_arg(text: str) -> Path:
    """`type=` for path options (pathlib loads only when one is given)."""
    from pathlib import Path

    return Path(text)


def add_debug(parser: argparse.ArgumentParser) -> None:
    """`--debug`, accepted before and after the command (`hullscan --debug image X`, `hullscan image X
    --debug`). SUPPRESS as the default: a sub-parser's default would overwrite the top level's value."""
    parser.add_argument("-d", "--debug", action="store_true", default=argparse.SUPPRESS,
                        help="Debug logging on stderr, and the traceback of an error (also HULLSCAN_DEBUG=1).")


def add_command(subparsers: Subparsers, name: str, func: Handler, *, epilog: str | None = EXIT_CODES_HELP) -> argparse.ArgumentParser:
    """A sub-command running `func(**options)`: its docstring is the description, the first paragraph
    the line in the parent's list of commands; the exit codes are its epilog."""
    doc = func.__doc__ or ""
    parser = subparsers.add_parser(name, help=doc.split("\n\n")[0], description=doc, epilog=epilog)
    parser.set_defaults(func=func)
    add_debug(parser)
    return parser


def add_group(subparsers: Subparsers, name: str, description: str) -> Subparsers:
    """A command with sub-commands (`hullscan db ...`); without one it prints its help and exits 2."""
    parser = subparsers.add_parser(name, help=description.split("\n\n")[0], description=description,
                                   epilog=EXIT_CODES_HELP)
    parser.set_defaults(func=lambda: _show_help(parser, sys.stderr, 2))
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def _show_help(parser: argparse.ArgumentParser, file: Any, code: int) -> int:
    parser.print_help(file)
    return code


# Each command and the function adding its parser (its module may import this module's helpers: this
# module imports it only when building the parser, so there is no import cycle). A known command given
# on the command line gets only its own module imported and its own parser built: every parser costs
# argparse a few gettext lookups and a help formatter per option (all of them were ~7% of a warm scan's
# instructions).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("image", "hullscan.cli.scan:register_image"),
    ("fs", "hullscan.cli.scan:register_fs"),
    ("rootfs", "hullscan.cli.scan:register_rootfs"),
    ("sbom", "hullscan.cli.scan:register_sbom"),
    ("cache", "hullscan.cli.scan:register_cache"),
    ("convert", "hullscan.cli.convert:register"),
    ("db", "hullscan.cli.db:register"),
    ("registry", "hullscan.cli.registry:register"),
    ("base", "hullscan.cli.base:register"),
    ("diff", "hullscan.cli.diff:register"),
    ("plan", "hullscan.cli.plan:register"),
    ("stored", "hullscan.cli.stored:register"),
    ("rescan", "hullscan.cli.rescan:register"),
    ("k8s", "hullscan.cli.k8s:register"),
    ("container", "hullscan.cli.container:register_container"),
    ("containers", "hullscan.cli.container:register_containers"),
    ("notify", "hullscan.cli.notify:register"),
    ("worker", "hullscan.cli.worker:register"),
    ("server", "hullscan.cli.server:register"),
    ("token", "hullscan.cli.token:register"),
)


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    parser = Parser(prog="hullscan", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"hullscan {__version__}", help="Print the version and exit.")
    add_debug(parser)
    parser.set_defaults(func=lambda: _show_help(parser, sys.stdout, 0))  # bare `hullscan`
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    words = sys.argv[1:] if argv is None else list(argv)
    command = next((w for w in words if not w.startswith("-")), None)
    known = any(command == name for name, _ in COMMANDS)
    for name, spec in COMMANDS:
        if not known or command == name:
            module, _, function = spec.partition(":")
            getattr(import_module(module), function)(subparsers)
    return parser


def entry() -> None:
    """The `hullscan` command (console script and `python -m hullscan`): `main`, then leave without
    the interpreter's teardown — freeing every module and object one by one is ~6 ms of a ~50 ms
    warm scan. Every command has closed its files, DBs, pools and threads by then, and hullscan
    registers no atexit work; only stdout and stderr need flushing.

    The cyclic garbage collector runs every 100,000 container allocations instead of 700 (as mypy
    does): a run is short and makes few cycles, and the default collected dozens of times while a
    warm scan unpacked its cached result (half of that step)."""
    import gc

    gc.set_threshold(100_000, 50, 100)
    try:
        main()
        code = 0
    except SystemExit as ex:
        # `sys.exit("message")` (hullscan never does; a library might) is no verdict: not 1, "gate failed"
        code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else ExitCode.INTERNAL)
        if not isinstance(ex.code, int) and ex.code is not None:
            print(ex.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream
        pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: one line and a documented exit code for every error (argparse prints the
    usage line and its error line and exits 2 itself); anything unexpected is an internal error (5)."""
    debug = env_debug()
    try:
        options = vars(build_parser(argv).parse_args(argv))
        func = options.pop("func")
        if options.pop("debug", False) or debug:
            debug = True
            debug_logging()
        code = func(**options)
    except HullscanError as err:
        if debug:
            _traceback()
        print(f"hullscan: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("hullscan: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # the reader of our output went away (`| head`): the report is lost
        _say("hullscan: error: output closed by its reader before the report was written (broken pipe)")
        sys.exit(ExitCode.IO_FAILURE)
    except Exception as err:  # noqa: BLE001  # a bug: exit 5, never 1 ("gate failed")
        if debug:
            _traceback()
        _say(internal_error_line(err, debug))
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code or 0)


def env_debug() -> bool:
    """HULLSCAN_DEBUG set to anything but empty, 0, false, no or off."""
    return os.environ.get("HULLSCAN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def debug_logging() -> None:
    """Every logger's DEBUG records on stderr (logging is imported only when asked for)."""
    import logging

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="hullscan: debug: %(name)s: %(message)s")
    logging.getLogger("hullscan").debug("hullscan %s on Python %s (%s)", __version__, sys.version.split()[0], sys.platform)


def internal_error_line(err: BaseException, debug: bool) -> str:
    """The one line of an internal error: the exception's type and the first line of its message."""
    lines = str(err).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    if len(text) > 200:
        text = text[:199] + "…"
    what = f"{type(err).__name__}: {text}" if text else type(err).__name__
    hint = "with the command line and the traceback above" if debug else \
        "with the command line; rerun with --debug for the traceback"
    return f"hullscan: internal error ({what}) — this is a bug; please report it {hint}"


def _traceback() -> None:
    import traceback

    traceback.print_exc(file=sys.stderr)


def _say(line: str) -> None:
    """A line on stderr, which may be a closed pipe too."""
    try:
        print(line, file=sys.stderr)
    except (OSError, ValueError):
        pass
