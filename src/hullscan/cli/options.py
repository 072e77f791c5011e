"""The command line's option groups, each declared once, and what they turn into (`ScanOptions`,
`SourceOptions`). A command adds the groups it takes; its function receives them as keywords."""

from __future__ import annotations

import argparse  # cli/main.py has imported it already: no cost
import sys

from hullscan.errors import InputError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from argparse import _ActionsContainer as Options  # a parser or an argument group: both add arguments
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from hullscan.image.target import SourceOptions
    from hullscan.scan.options import ScanOptions

FORMATS = "table, json, cyclonedx, cyclonedx-xml, spdx-json, spdx, sarif, junit, html, openvex, template"


def add_source(parser: Options) -> None:
    """Where images come from: --platform, the registry credentials, the container engines."""
    _ENGINE.clear()  # a parser is being built: nothing parsed yet
    group = parser.add_argument_group("image source")
    group.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image "
                                          "(default: linux on this machine's architecture).")
    group.add_argument("--insecure", action="store_true",
                       help="Allow plain HTTP and unverified TLS (self-signed certificates) for the registry.")
    group.add_argument("--username", help="Registry username (with --password-stdin). "
                                          "See docs/registry.md for the other credential sources.")
    group.add_argument("--password-stdin", action="store_true", help="Read the registry password (or token) from standard input.")
    group.add_argument("--image-src", action=_EngineOption, metavar="SOURCES",
                       help="Where a bare image name is looked for, in order: docker, podman, registry "
                            "(default: all three, in that order; as in Trivy). See docs/engines.md.")
    group.add_argument("--docker-host", action=_EngineOption, metavar="ADDRESS",
                       help="The Docker engine for docker: targets (unix:///PATH or tcp://HOST:PORT; "
                            "default: $DOCKER_HOST, else unix:///var/run/docker.sock).")
    group.add_argument("--podman-host", action=_EngineOption, metavar="ADDRESS",
                       help="The Podman engine for podman: targets (default: $XDG_RUNTIME_DIR/podman/podman.sock, "
                            "then /run/podman/podman.sock).")


_ENGINE: dict[str, str] = {}
"""--image-src, --docker-host and --podman-host as parsed. Kept out of the commands' keywords (every
command that takes an image source gets them through `source()`, its signature unchanged)."""


class _EngineOption(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, metavar: str | None = None, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, metavar=metavar, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        _ENGINE[self.dest] = str(values)


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
                       help=f"Output format (any case): {FORMATS}. Default: table on a terminal, else json.")
    group.add_argument("-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
    add_template(group)
    add_quiet(group)
    group.add_argument("--no-progress", action="store_true", help="No progress line on stderr (warnings still shown).")
    group.add_argument("--show-suppressed", action="store_true",
                       help="List the findings VEX or a policy exception suppressed, with the reason, in the table "
                            "(the JSON report always lists them under `suppressed`).")
    group.add_argument("--vex-reachability", action="store_true",
                       help="With --format openvex: state Go findings whose affected symbols are not in the binary "
                            "(reachability not_present) as not_affected, vulnerable_code_not_present "
                            "(docs/reachability.md); no other level ever does.")


def add_template(parser: Options) -> None:
    parser.add_argument("-t", "--template", metavar="TEMPLATE",
                        help="With --format template: the Jinja2 template, @FILE or a built-in (docs/templates.md).")


def add_quiet(parser: Options) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress and no warnings on stderr.")


def add_document_output(parser: argparse.ArgumentParser, schema: str) -> None:
    """The output group of a command printing a document of its own (`diff`, `plan`, `rescan`, `containers`):
    table or JSON (its schema: docs/`schema`), a file, quiet."""
    out = parser.add_argument_group("output")
    out.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("table", "json"),
                     help=f"table or json (docs/{schema}). Default: table on a terminal, else json.")
    out.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
    add_quiet(out)


def add_policy(parser: Options) -> None:
    parser.add_argument("--policy", metavar="FILE", help="Policy YAML (default: ./.hullscan.yaml when present); its "
                                                          "verdict decides the exit code. See docs/policy.md.")


def add_gate(parser: Options) -> None:
    """What is matched, shown and judged: display filters, the policy, VEX."""
    group = parser.add_argument_group("matching, display and gate")
    add_pkg_types(group)
    group.add_argument("-s", "--severity", help="Show only these severities (comma-separated, any case: CRITICAL,HIGH,"
                                                "MEDIUM,LOW,UNKNOWN). Display only: the policy decides the exit code.")
    group.add_argument("--ignore-unfixed", action="store_true", help="Show only vulnerabilities with a fixed version.")
    group.add_argument("--exit-code", type=exit_code_value, default=0, metavar="N",
                       help="Exit with this code (0-255) when findings remain after the display filters, or when the "
                            "policy fails (default 0: the gate never fails without a policy). 2-5 collide with the "
                            "documented error codes.")
    group.add_argument("--exit-on-eol", type=exit_code_value, default=0, metavar="N",
                       help="Exit with this code (0-255) when the image's OS release is past its end of life and the "
                            "gate otherwise passed (as Trivy's flag; docs/distros.md \"End of life\").")
    add_policy(group)
    add_suppressions(group)


def add_pkg_types(parser: Options) -> None:
    parser.add_argument("--pkg-types", default="os,library", help="Package types to match: os, library.")


def add_suppressions(parser: Options) -> None:
    """What suppresses findings besides the policy's exceptions: Trivy's ignore files, VEX documents."""
    parser.add_argument("--ignorefile", metavar="FILE",
                        help="Trivy .trivyignore or .trivyignore.yaml (default: those in the working directory).")
    parser.add_argument("--vex", action="append", metavar="FILE",
                        help="OpenVEX, CycloneDX VEX or CSAF VEX document (repeatable).")


def add_base_advice(parser: Options) -> None:
    """`hullscan image --base-advice` (off by default: a scan without it loads nothing of the advice)."""
    parser.add_argument("--base-advice", action="store_true",
                        help="After the scan, rank the base catalog's other images of the identified base's repository "
                             "by how many of the image's inherited vulnerabilities they remove, as `hullscan base "
                             "advise` does; adds `base_advice` to the report (needs the vuln scanner; "
                             "docs/base-images.md).")


def add_import_reachability(parser: Options) -> None:
    """`hullscan image --import-reachability` (off by default: parsing every .py/.js file costs more than
    the rest of a cold scan)."""
    parser.add_argument("--import-reachability", action="store_true",
                        help="Also read the imports of every Python and JavaScript file, so that PyPI and npm "
                             "findings get the import level of reachability (reachable / not_imported from the "
                             "entrypoint); without it they stay unknown. Costs seconds per application layer on "
                             "a cold scan (cached per layer; docs/reachability.md).")


def add_plan(parser: Options) -> None:
    """`hullscan image --plan` (off by default: a scan without it loads nothing of the plan)."""
    parser.add_argument("--plan", action="store_true",
                        help="After the scan and the policy, plan the fix as `hullscan plan` does: the fewest upgrades "
                             "(and base bump) that remove the most risk; adds `plan` to the report (needs the vuln "
                             "scanner; docs/plan.md).")


STATE_HELP = ("The state store: a SQLite file path or postgresql://… URL (default: $HULLSCAN_STATE_URL, else "
              "$XDG_DATA_HOME/hullscan/state.sqlite).")


def add_store(parser: Options) -> None:
    """`--store` (keep the scanned image's inventory, docs/stored.md) and `--state` (where; also where
    `stored:` targets are read)."""
    group = parser.add_argument_group("stored inventories")
    group.add_argument("--store", action="store_true",
                       help="After the scan, keep the image's inventory in the state store (hullscan stored list; "
                            "matched again later as stored:sha256:…; docs/stored.md).")
    group.add_argument("--state", metavar="URL", help=STATE_HELP)


def add_scan_limits(parser: Options, *, skip: bool = True) -> None:
    """What a scan leaves out (Trivy's --skip-files/--skip-dirs) and how long it may take."""
    group = parser.add_argument_group("what to scan")
    if skip:
        group.add_argument("--skip-files", action="append", metavar="GLOB",
                           help="Leave out files matching GLOB (repeatable or comma-separated; Trivy's glob syntax: "
                                "`*`, `?`, `[a-z]`, `{a,b}`, `**` for any depth, e.g. `**/*.pem`, `/app/.env`).")
        group.add_argument("--skip-dirs", action="append", metavar="GLOB",
                           help="Leave out every file under directories matching GLOB (repeatable or comma-separated, "
                                "e.g. `**/node_modules`, `/usr/share/doc`).")
    group.add_argument("--timeout", metavar="DURATION", type=duration,
                       help="Give up after DURATION (Go syntax as in Trivy: 30s, 5m, 1h30m, 500ms); exit 3. "
                            "No limit by default.")


def add_trivy(parser: Options, *, input_file: bool = False) -> None:
    """Trivy's flags a CI line carries over: what hullscan does with each (docs/trivy-users.md)."""
    group = parser.add_argument_group(
        "Trivy compatibility", "Accepted so that a Trivy command line runs unchanged; see docs/trivy-users.md.")
    if input_file:
        group.add_argument("--input", metavar="FILE", help="An image archive (docker save, OCI tar or layout): "
                                                           "the same as giving it as the target.")
    group.add_argument("--download-db-only", action="store_true",
                       help="Run `hullscan db update` (to --db) and exit without scanning.")
    for flag, why in (
        ("--skip-db-update", "a scan never updates the DB (`hullscan db update` does)"),
        ("--skip-java-db-update", "hullscan has no separate Java DB"),
        ("--offline-scan", "a scan never uses the network once the DB exists (registry pulls aside)"),
        ("--list-all-pkgs", "the JSON report always lists every package"),
    ):
        group.add_argument(flag, action=NoOp, help=f"No effect: {why}.")
    for flag, why in (
        ("--ignore-policy", "not supported: hullscan policies are YAML (--policy FILE), see docs/policy.md"),
        ("--db-repository", "not supported: hullscan builds its DB from the public feeds; use "
                            "`hullscan db update --feed-url NAME=URL` for a mirror, or `hullscan db import` offline"),
    ):
        group.add_argument(flag, action=Refused, nargs="?", metavar="X", why=why, help=f"Refused (exit 2): {why}.")


class NoOp(argparse.Action):
    """A Trivy flag with nothing to do here: accepted, and left out of the command's options."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        pass


class Refused(argparse.Action):
    """A Trivy flag hullscan does not take: one line saying what to use instead (exit 2)."""

    def __init__(self, option_strings: list[str], dest: str, why: str = "", nargs: str | None = "?",
                 metavar: str | None = None, help: str | None = None) -> None:  # noqa: A002
        self.why = why
        super().__init__(option_strings, dest, nargs=nargs, default=argparse.SUPPRESS, metavar=metavar, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        raise UsageError(f"{option_string or self.option_strings[0]}: {self.why}")


# -- what the groups turn into ---------------------------------------------------------------------


def duration(text: str) -> float:
    """`type=` for --timeout: Go's duration syntax, as Trivy takes it (`300ms`, `30s`, `5m`, `1h30m`,
    `1.5h`; units ns, us, µs, ms, s, m, h) → seconds, more than 0."""
    import re
    from argparse import ArgumentTypeError

    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    part = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
    if not re.fullmatch(f"(?:{part})+", text.strip()):
        raise ArgumentTypeError(f"{text!r} is not a duration (use e.g. 30s, 5m, 1h30m, 500ms)")
    seconds = sum(float(n) * units[u] for n, u in re.findall(part, text.strip()))
    if seconds <= 0:
        raise ArgumentTypeError(f"{text!r}: must be more than 0 (leave --timeout out for no limit)")
    return Duration(seconds, text.strip())


class Duration(float):
    """Seconds that remember how the user wrote them (`5m`), for the message when they run out."""

    text: str

    def __new__(cls, seconds: float, text: str) -> Duration:
        value = super().__new__(cls, seconds)
        value.text = text
        return value


def skip_globs(files: list[str] | None, dirs: list[str] | None,
               default_dirs: tuple[str, ...] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """--skip-files and --skip-dirs as glob lists, each checked (a bad glob is exit 2 before the scan)."""
    if not (files or dirs or default_dirs):
        return (), ()  # a warm scan without skip globs does not load inventory/skip.py
    from hullscan.inventory.skip import SkipPaths, clean, split_globs

    SkipPaths(split_globs(files), split_globs(dirs))  # compiles them: UsageError naming the option and the glob
    # cleaned as Trivy cleans them (`./app/x` is `/app/x`): one spelling per glob in the result cache key
    return (tuple(dict.fromkeys(map(clean, split_globs(files)))),
            tuple(dict.fromkeys(map(clean, split_globs([*default_dirs, *(dirs or ())])))))

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


def exit_code_collision(code: int, option: str = "--exit-code") -> str | None:
    """The warning for an --exit-code (or --exit-on-eol) that a CI job could not tell from an error
    (DESIGN.md "Gates")."""
    meaning = _RESERVED.get(code)
    if meaning is None:
        return None
    return (f"{option} {code} is also the exit code of {meaning}: a failed gate cannot be told from it "
            "(use 1 or a value above 5)")


def scanners(text: str) -> frozenset[str]:
    from hullscan.scan.options import SCANNERS

    chosen = frozenset(s.strip().lower() for s in text.split(",") if s.strip())
    if "misconfig" in chosen:  # Trivy's IaC scanner
        raise UsageError("--scanners misconfig: not supported: hullscan's `config` scanner checks the image config "
                         "only; IaC scanning (Dockerfiles, Kubernetes, Terraform) is not supported")
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
    from hullscan.image.target import IMAGE_SOURCES, SourceOptions, image_sources

    return SourceOptions(platform=Platform.parse(platform) if platform else None, insecure=insecure,
                         username=username or "", password=read_password(username, password_stdin),
                         image_src=image_sources(_ENGINE["image_src"]) if "image_src" in _ENGINE else IMAGE_SOURCES,
                         docker_host=_ENGINE.get("docker_host", ""), podman_host=_ENGINE.get("podman_host", ""))


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
                 pkg_type_list: str = "os,library", skip: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
                 import_reachability: bool = False) -> ScanOptions:
    from hullscan.image.target import SourceOptions
    from hullscan.match.options import MatchOptions
    from hullscan.scan.options import ScanOptions

    return ScanOptions(scanners=scanners(scanner_list), source=source_options or SourceOptions(), cache_dir=cache_dir,
                       use_cache=not no_cache, db=db, secret_config=secret_config,
                       match=MatchOptions(pkg_types=pkg_types(pkg_type_list)), skip_files=skip[0], skip_dirs=skip[1],
                       import_reachability=import_reachability)


def image_target(target: str | None, input_file: str | None) -> str:
    """The image to scan: the target, or Trivy's `--input FILE` (an archive or layout on disk)."""
    import os

    if target and input_file:
        raise UsageError(f"give the image once: as the target ({target}) or as --input ({input_file}), not both")
    if input_file:
        if not os.path.exists(input_file):
            raise InputError(f"{input_file}: no such file (--input)")
        return input_file
    if not target:
        raise UsageError("no image given (hullscan image TARGET, or --input FILE)")
    return target


def notice(quiet: bool, progress: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Information lines on stderr (`hullscan: info: …`), none with -q; a progress line is cleared first."""
    if quiet:
        return None
    clear = "\r\033[K" if progress is not None else ""
    return lambda msg: print(f"{clear}hullscan: info: {msg}", file=sys.stderr, flush=True)


def deadline(seconds: float | None) -> AbstractContextManager[object]:
    """The --timeout deadline (cli/deadline.py, loaded only when one is given)."""
    if seconds is None:
        from contextlib import nullcontext

        return nullcontext()
    from hullscan.cli.deadline import Deadline

    return Deadline(seconds, getattr(seconds, "text", ""))


def progress(quiet: bool) -> Callable[[str], None] | None:
    """A one-line progress display on a terminal's stderr; None when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda msg: print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)
