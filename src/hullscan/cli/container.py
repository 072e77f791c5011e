"""`hullscan container` and `hullscan containers`: option parsing and printing only (scan/container.py)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from hullscan.cli import options as opt
from hullscan.errors import InputError, UsageError

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers

ENGINE_HELP = "The engine: docker (default) or podman. `podman:NAME` / `docker:NAME` say it too."


def _engine(name: str, engine: str | None) -> tuple[str, str]:
    """(engine kind, container name) from `[docker:|podman:]NAME` and --engine."""
    kind, sep, rest = name.partition(":")
    if sep and kind in ("docker", "podman"):
        if engine is not None and engine != kind:
            raise UsageError(f"{name}: the prefix says {kind}, --engine says {engine}")
        return kind, rest
    return engine or "docker", name


def _host(kind: str) -> str:
    source = opt.source()
    return source.docker_host if kind == "docker" else source.podman_host


def container_cmd(*, container: str, engine: str | None, scanners: str, secret_config: str | None, cache_dir: str | None,
                  no_cache: bool, db: str | None, pkg_types: str, skip_files: list[str] | None,
                  skip_dirs: list[str] | None, platform: str | None, insecure: bool, username: str | None,
                  password_stdin: bool, **gate: Any) -> None:
    """Scan a running container: its image (from the caches when it was scanned before) plus what changed
    since it started — packages installed, upgraded or removed (drift), files that shadow the image's,
    secrets written at runtime. Every package and finding says `origin: image` or `runtime`. The
    container is read through the engine's API (changes list, then only the changed paths); it must be
    running, and one that stops during the scan is exit 2. See docs/engines.md "Running containers"."""
    from hullscan.cli.scan import run_scan
    from hullscan.scan.container import scan_container

    kind, name = _engine(container, engine)
    if not name:
        raise UsageError("no container given (hullscan container NAME|ID)")
    options = opt.scan_options(scanner_list=scanners, source_options=opt.source(platform, insecure, username, password_stdin),
                               cache_dir=cache_dir, no_cache=no_cache, db=db, secret_config=secret_config,
                               pkg_type_list=pkg_types, skip=opt.skip_globs(skip_files, skip_dirs))
    run_scan(f"{kind}-container:{name}", options, scan=lambda service: scan_container(service, kind, name, _host(kind)).report,
             **gate)


def containers_cmd(*, engine: str, scanners: str, secret_config: str | None, cache_dir: str | None, no_cache: bool,
                   db: str | None, pkg_types: str, fmt: str | None, output: str | None, quiet: bool,
                   severity: str | None, exit_code: int, policy: str | None, timeout: float | None,
                   platform: str | None, insecure: bool, username: str | None, password_stdin: bool) -> None:
    """Scan every running container of an engine: each distinct image once, then each container's runtime
    changes on top of it. One line per container (name, image, verdict, vulnerability counts, secrets,
    drift) or, with --format json, one document for a collector (docs/containers.schema.json).

    Exit 0; with --exit-code N, N when some container fails the gate: with a policy (--policy or
    ./.hullscan.yaml), its verdict (`runtime.drift: fail` fails a drifted container), else any
    vulnerability, secret or config finding at or above --severity. See docs/engines.md "A host's containers"."""
    from hullscan.cli.diff import severity_threshold
    from hullscan.image.engine import connect
    from hullscan.model.findings import SEVERITY_RANK
    from hullscan.policy.gate import judge
    from hullscan.policy.load import load_policy
    from hullscan.report import containers as table
    from hullscan.report.formats import write_output
    from hullscan.scan.container import running_containers, scan_inspected
    from hullscan.scan.service import iso
    from hullscan.scan.wiring import build_service

    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    threshold = severity_threshold(severity)
    collision = opt.exit_code_collision(exit_code)
    if collision and not quiet:
        print(f"hullscan: warning: {collision}", file=sys.stderr)
    gate_policy = load_policy(policy)
    options = opt.scan_options(scanner_list=scanners, source_options=opt.source(platform, insecure, username, password_stdin),
                               cache_dir=cache_dir, no_cache=no_cache, db=db, secret_config=secret_config,
                               pkg_type_list=pkg_types)
    progress = opt.progress(quiet)
    service = build_service(options, progress, opt.notice(quiet, progress))
    images: dict[str, Any] = {}
    analyzers = list(service.analyzers())  # built once for every container
    reports = []
    with opt.deadline(timeout), connect(engine, _host(engine)) as client:
        for found in running_containers(client):
            try:
                done = scan_inspected(service, client, engine, found, images, analyzers)
            except InputError as err:  # a container that stopped meanwhile costs only its line
                if not quiet:
                    print(f"hullscan: warning: {err}", file=sys.stderr)
                continue
            reports.append(judge(done.report, gate_policy))
        address = client.host.address
    if progress:
        print("\r\033[K", end="", file=sys.stderr)
    if not quiet:
        for r in reports:
            for w in r.warnings:
                print(f"hullscan: warning: {r.container.name if r.container else ''}: {w.message}", file=sys.stderr)

    def fails(r: Any) -> bool:
        if gate_policy.gate:
            return r.verdict is not None and not r.verdict.passed
        rank = SEVERITY_RANK[threshold] if threshold else None
        return any(rank is None or SEVERITY_RANK.get(f.severity, 0) >= rank
                   for f in (*r.vulnerabilities, *r.secrets, *r.misconfigurations))

    failed = any(fails(r) for r in reports)
    if fmt == "json":
        import json

        doc = table.to_dict(reports, engine=engine, address=address, created_at=iso(service.clock()),
                            images=len(images), failed=failed)
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    else:
        from hullscan.cli.main import terminal_width

        data = table.render_table(reports, max(80, terminal_width() + 2) if output in (None, "-") else 80).encode()
    write_output(data, output)
    if exit_code and failed:
        raise SystemExit(exit_code)


def _add_engine(parser: Any) -> None:
    parser.add_argument("--engine", choices=("docker", "podman"), help=ENGINE_HELP)


def register_container(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    cmd = add_command(subparsers, "container", container_cmd)
    cmd.add_argument("container", metavar="NAME|ID", help="A running container: its name or (short) ID, "
                                                          "optionally docker:… or podman:….")
    _add_engine(cmd)
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db, opt.add_output, opt.add_gate,
                opt.add_scan_limits):
        add(cmd)


def register_containers(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    cmd = add_command(subparsers, "containers", containers_cmd)
    cmd.add_argument("--engine", choices=("docker", "podman"), default="docker", help="The engine (default docker).")
    for add in (opt.add_scanners, opt.add_source, opt.add_cache, opt.add_db):
        add(cmd)
    opt.add_pkg_types(cmd)
    opt.add_document_output(cmd, "containers.schema.json")
    gate = cmd.add_argument_group("gate")
    gate.add_argument("-s", "--severity", metavar="LEVEL",
                      help="The --exit-code threshold without a policy: findings at or above this severity fail a "
                           "container (a list such as HIGH,CRITICAL means its lowest). Default: every severity.")
    gate.add_argument("--exit-code", type=opt.exit_code_value, default=0, metavar="N",
                      help="Exit with this code (0-255) when some container fails the gate (default 0: never). "
                           "2-5 collide with the documented error codes.")
    opt.add_policy(gate)
    opt.add_scan_limits(cmd, skip=False)
