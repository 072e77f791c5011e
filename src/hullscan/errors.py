"""Errors that end a command, each with the exit code of DESIGN.md's table.

Errors are values at the edges: code deep in a stage raises one of these with a one-line message;
the CLI prints that line and exits with the code. Anything else reaching the CLI is a bug: the CLI
says so in one line and exits INTERNAL (5), never 1, which means "gate failed".
"""

from __future__ import annotations


class ExitCode:
    OK = 0
    GATE_FAILED = 1
    BAD_INPUT = 2
    IO_FAILURE = 3
    DB_PROBLEM = 4
    INTERNAL = 5


EXIT_CODES_HELP = (
    "Exit codes: 0 scan done, gate passed; 1 gate failed (--exit-code N replaces 1); "
    "2 bad usage or unreadable input; 3 I/O, network or registry failure; "
    "4 vulnerability DB missing, corrupt or of a foreign schema; "
    "5 internal error (a bug: please report it; --debug or HULLSCAN_DEBUG=1 shows the traceback)."
)


class HullscanError(Exception):
    """Base class: `str(err)` is the one line shown to the user."""

    exit_code: int = ExitCode.BAD_INPUT


class UsageError(HullscanError):
    """Bad command-line usage (unknown format, contradictory options)."""

    exit_code = ExitCode.BAD_INPUT


class InputError(HullscanError):
    """An image, SBOM, feed, policy or config file that cannot be read."""

    exit_code = ExitCode.BAD_INPUT


class FetchError(HullscanError):
    """I/O, network or registry failure."""

    exit_code = ExitCode.IO_FAILURE


class DatabaseError(HullscanError):
    """Vulnerability DB missing, corrupt or of a foreign schema."""

    exit_code = ExitCode.DB_PROBLEM
