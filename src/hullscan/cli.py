"""The command line: parses options, calls the stages, prints. No logic a test would want to reach.

Exit codes (DESIGN.md): 0 scan done and gate passed; 1 gate failed (--exit-code N replaces 1);
2 bad usage or unreadable input; 3 I/O, network or registry failure; 4 vulnerability DB missing,
corrupt or of a foreign schema.
"""

from __future__ import annotations

import sys

import typer

from hullscan import __version__
from hullscan.errors import EXIT_CODES_HELP, HullscanError

app = typer.Typer(
    name="hullscan",
    help="Scan container images for vulnerabilities, secrets and policy violations, layer by layer.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts hold [brackets] (os/arch[/variant]) that are not markup
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"hullscan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """hullscan command line."""


# Sub-command groups register here (one line each), keeping each area's CLI beside its code.
# (imports at the bottom of the module avoid a circular import of `app`)


def main() -> None:
    """Console entry point: one line and a documented exit code for every expected error."""
    try:
        rc = app(standalone_mode=False)  # non-standalone click returns typer.Exit's code instead of raising
    except HullscanError as err:
        print(f"hullscan: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except typer.Abort:
        print("hullscan: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("hullscan: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # click usage errors end here too (typer vendors its own click)
        if type(err).__name__ in ("UsageError", "BadParameter", "NoSuchOption", "MissingParameter", "BadOptionUsage", "BadArgumentUsage", "ClickException") and hasattr(err, "show"):
            err.show()
            sys.exit(2)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)


from hullscan import cli_scan as _cli_scan  # noqa: E402

_cli_scan.register(app)

from hullscan.vulndb.cli import app as _db_app  # noqa: E402

app.add_typer(_db_app, name="db")

from hullscan.cli_registry import app as _registry_app  # noqa: E402

app.add_typer(_registry_app, name="registry")

from hullscan import cli_convert as _cli_convert  # noqa: E402

_cli_convert.register(app)
