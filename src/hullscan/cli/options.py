"""The command line's option groups, each declared once, and what they turn into (`ScanOptions`,
`SourceOptions`). A command adds the groups it takes; its function receives them as keywords."""

from __future__ import annotations

import sys

from hullscan.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from argparse import _ActionsContainer as Options  # a parser or an argument group: both add arguments
    from collections.abc import Callable

    from hullscan.image.target import SourceOptions
    from hullscan.scan.options import ScanOptions

FORMATS = "table, json, cyclonedx, cyclonedx-xml, spdx-json, spdx, sarif, junit, html, openvex"


def add_source(parser: Options) -> None:
    """Where images come from: --platform and the registry credentials."""
    group = parser.add_argument_group("image source")
    group.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image "
                                          "(default: linux on this machine's architecture).")
    group.add_argument("--insecure", action="store_true",
                       help="Allow plain HTTP and unverified TLS (self-signed certificates) for the registry.")
    group.add_argument("--username", help="Registry username (with --password-stdin). "
                                          "See docs/registry.md for the other credential sources.")
    group.add_argument("--password-stdin", action="store_true", help="Read the registry password (or token) from standard input.")


def add_scanners(parser: Options) -> None:
    group = parser.add_argument_group("scanners")
    group.add_argument("--scanners", default="vuln,secret", help="Comma-separated: vuln, secret, config, license.")
    group.add_argument("--secret-config", metavar="FILE", help="Secret rules file (ours or Trivy's secret-config "
                                                                "YAML): adds rules and allow rules, disables rule ids.")


def add_cache_dir(parser: Options) -> None:
    parser.add_argument("--cache-dir", metavar="DIR", help="Per-layer cache directory (default: $XDG_CACHE_HOME/hullscan).")


def add_cache(parser: Options) -> None:
    group = parser.add_argument_group("cache")
    add_cache_dir(group)
    group.add_argument("--no-cache", action="store_true", help="Neither read nor write the per-layer cache.")


def add_db(parser: Options) -> None:
    parser.add_argument("--db", help="Vulnerability DB: a SQLite file or postgresql:// URL "
                                     "(default: $HULLSCAN_DB_URL, else the XDG data dir).")


def add_output(parser: Options) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("-f", "--format", dest="fmt", metavar="FORMAT",
                       help=f"Output format: {FORMATS}. Default: table on a terminal, else json.")
    group.add_argument("-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
    add_quiet(group)


def add_quiet(parser: Options) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress and no warnings on stderr.")


def add_policy(parser: Options) -> None:
    parser.add_argument("--policy", metavar="FILE", help="Policy YAML (default: ./.hullscan.yaml when present); its "
                                                          "verdict decides the exit code. See docs/policy.md.")


def add_gate(parser: Options) -> None:
    """What is matched, shown and judged: display filters, the policy, VEX."""
    group = parser.add_argument_group("matching, display and gate")
    group.add_argument("--pkg-types", default="os,library", help="Package types to match: os, library.")
    group.add_argument("--severity", help="Show only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,"
                                          "UNKNOWN). Display only: the policy decides the exit code.")
    group.add_argument("--ignore-unfixed", action="store_true", help="Show only vulnerabilities with a fixed version.")
    group.add_argument("--exit-code", type=exit_code_value, default=0, metavar="N",
                       help="Exit with this code (0-255) when findings remain after the display filters, or when the "
                            "policy fails (default 0: the gate never fails without a policy). 2-5 collide with the "
                            "documented error codes.")
    add_policy(group)
    group.add_argument("--ignorefile", metavar="FILE",
                       help="Trivy .trivyignore or .trivyignore.yaml (default: those in the working directory).")
    group.add_argument("--vex", action="append", metavar="FILE",
                       help="OpenVEX, CycloneDX VEX or CSAF VEX document (repeatable).")


# -- what the groups turn into ---------------------------------------------------------------------

def exit_code_value(text: str) -> int:
    """`type=` for --exit-code: an exit status is one byte, so -1 or 300 would wrap (to 255, 44)."""
    from argparse import ArgumentTypeError

    try:
        code = int(text)
    except ValueError:
        raise ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= code <= 255:
        raise ArgumentTypeError(f"{code} is not in the range 0..255 (an exit status is one byte)")
    return code


# what 2..5 already mean (errors.ExitCode, DESIGN.md "Exit codes")
_RESERVED = {2: "bad usage or an unreadable input", 3: "an I/O, network or registry failure",
             4: "a vulnerability DB problem", 5: "an internal error"}


def exit_code_collision(code: int) -> str | None:
    """The warning for an --exit-code that a CI job could not tell from an error (DESIGN.md "Gates")."""
    meaning = _RESERVED.get(code)
    if meaning is None:
        return None
    return (f"--exit-code {code} is also the exit code of {meaning}: a failed gate cannot be told from it "
            "(use 1 or a value above 5)")


def scanners(text: str) -> frozenset[str]:
    from hullscan.scan.options import SCANNERS

    chosen = frozenset(s.strip() for s in text.split(",") if s.strip())
    bad = chosen - set(SCANNERS)
    if bad or not chosen:
        raise UsageError(f"--scanners: unknown {', '.join(sorted(bad)) or 'empty list'}; choose from {', '.join(SCANNERS)}")
    return chosen


def pkg_types(text: str) -> frozenset[str]:
    chosen = frozenset(t.strip() for t in text.split(",") if t.strip())
    if not chosen or chosen - {"os", "library"}:
        raise UsageError("--pkg-types: choose from os, library")
    return chosen


def source(platform: str | None = None, insecure: bool = False, username: str | None = None,
           password_stdin: bool = False) -> SourceOptions:
    from hullscan.image.model import Platform
    from hullscan.image.target import SourceOptions

    return SourceOptions(platform=Platform.parse(platform) if platform else None, insecure=insecure,
                         username=username or "", password=read_password(username, password_stdin))


def read_password(username: str | None, password_stdin: bool) -> str:
    """The password given on stdin; both options go together (passwords are never arguments)."""
    if password_stdin and not username:
        raise UsageError("--password-stdin needs --username")
    if username and not password_stdin:
        raise UsageError("--username needs --password-stdin (passwords are never taken on the command line)")
    if not password_stdin:
        return ""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("--password-stdin: nothing read from standard input")
    return password


def scan_options(*, scanner_list: str, source_options: SourceOptions | None = None, cache_dir: str | None = None,
                 no_cache: bool = False, db: str | None = None, secret_config: str | None = None,
                 pkg_type_list: str = "os,library") -> ScanOptions:
    from hullscan.image.target import SourceOptions
    from hullscan.match.options import MatchOptions
    from hullscan.scan.options import ScanOptions

    return ScanOptions(scanners=scanners(scanner_list), source=source_options or SourceOptions(), cache_dir=cache_dir,
                       use_cache=not no_cache, db=db, secret_config=secret_config,
                       match=MatchOptions(pkg_types=pkg_types(pkg_type_list)))


def progress(quiet: bool) -> Callable[[str], None] | None:
    """A one-line progress display on a terminal's stderr; None when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda msg: print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)
