"""`hullscan k8s` (k8s/run.py does it): option parsing and printing only."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from hullscan.cli import options as opt
from hullscan.cli.main import add_command, path_arg

if TYPE_CHECKING:
    from pathlib import Path

    from hullscan.cli.main import Subparsers
    from hullscan.k8s.run import K8sRun


def register(subparsers: Subparsers) -> None:
    cmd = add_command(subparsers, "k8s", k8s_cmd)
    add = cmd.add_argument
    add("--kubeconfig", type=path_arg, metavar="FILE", help="kubeconfig file (default: KUBECONFIG, ~/.kube/config, "
                                                            "else the in-cluster service account).")
    add("--context", help="kubeconfig context (default: its current-context).")
    add("-n", "--namespace", action="append", metavar="NS", help="Namespace to list (repeatable; default: the context's).")
    add("-A", "--all-namespaces", action="store_true", help="Every namespace.")
    add("--exclude-namespace", action="append", metavar="NS", help="Leave this namespace out (repeatable).")
    add("-l", "--selector", default="", metavar="LABELS", help="Label selector for pods and workloads, e.g. 'app=web,tier!=db'.")
    add("--pull-secrets", action="store_true", help="Read the workloads' imagePullSecrets (needs get on secrets) and use "
                                                    "them as registry credentials for their images.")
    add("-f", "--format", choices=("table", "json"), default=None, help="table or json (docs/k8s.schema.json). "
                                                                          "Default: table on a terminal, else json.")
    for group in (opt.add_scanners, opt.add_source, opt.add_cache_dir, opt.add_db, opt.add_gate, opt.add_quiet):
        group(cmd)


def k8s_cmd(*, kubeconfig: Path | None, context: str | None, namespace: list[str] | None, all_namespaces: bool,
            exclude_namespace: list[str] | None, selector: str, pull_secrets: bool, format: str | None,  # noqa: A002
            scanners: str, secret_config: str | None, platform: str | None, insecure: bool, username: str | None,
            password_stdin: bool, cache_dir: str | None, db: str | None, pkg_types: str, severity: str | None,
            ignore_unfixed: bool, exit_code: int, exit_on_eol: int, policy: str | None, ignorefile: str | None,
            vex: list[str] | None, quiet: bool) -> None:
    """List the images of a cluster's workloads through the Kubernetes API, scan each distinct digest once
    through its registry, and print one line per workload container.

    Exit code: 0 every image scanned and every workload passed the gate; the gate's code (1, or
    --exit-code N) when a workload failed it; otherwise the code of the first failure (2 unreadable
    kubeconfig or image, 3 API or registry failure, including a list the API forbids, 4 vulnerability DB).
    docs/k8s.md."""
    from hullscan.errors import UsageError
    from hullscan.k8s.client import KubeClient
    from hullscan.k8s.kubeconfig import load
    from hullscan.k8s.run import document, run
    from hullscan.policy.gate import exit_code_for, judge
    from hullscan.policy.load import load_policy
    from hullscan.report.filters import apply_display_filters, parse_severities
    from hullscan.scan.wiring import build_service

    if all_namespaces and namespace:
        raise UsageError("give --namespace or --all-namespaces, not both")
    if exclude_namespace and not all_namespaces:
        raise UsageError("--exclude-namespace goes with --all-namespaces")
    fmt = format or ("table" if sys.stdout.isatty() else "json")
    for collision in (opt.exit_code_collision(exit_code), opt.exit_code_collision(exit_on_eol, "--exit-on-eol")):
        if collision and not quiet:
            print(f"hullscan: warning: {collision}", file=sys.stderr)
    shown = parse_severities(severity)
    gate_policy = load_policy(policy, ignorefile=ignorefile, vex=vex)
    access = load(str(kubeconfig) if kubeconfig else None, context)
    source = opt.source(platform, insecure, username, password_stdin)
    options = opt.scan_options(scanner_list=scanners, source_options=source, cache_dir=cache_dir, db=db,
                               secret_config=secret_config, pkg_type_list=pkg_types)

    def gate(report: Any) -> tuple[Any, int]:
        judged = judge(report, gate_policy)
        visible = apply_display_filters(judged, shown, ignore_unfixed)
        return visible, exit_code_for(judged, visible, exit_code, exit_on_eol)

    say = (lambda msg: None) if quiet else (lambda msg: print(f"hullscan: {msg}", file=sys.stderr, flush=True))
    namespaces = None if all_namespaces else (namespace or [access.namespace])
    with KubeClient(access) as client:
        result = run(client, build_service(options), gate, namespaces=namespaces, exclude=exclude_namespace or [],
                     selector=selector, pull_secrets=pull_secrets, say=say)
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(document(result), indent=2) + "\n")
    else:
        _print_table(result)
    if result.exit_code:
        raise SystemExit(result.exit_code)


def _print_table(result: K8sRun) -> None:
    from hullscan.cli.main import terminal_width
    from hullscan.report.boxes import table

    rows: list[tuple[object, ...]] = []
    for r in result.rows:
        res = r.result
        counts = "/".join(str(res.severities.get(k, 0)) for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW")) if res else ""
        image = r.reference or r.image
        error = r.error or (res.error if res else "")
        verdict = f"error: {error}" if error else r.verdict
        rows.append((f"{r.namespace}/{r.kind}/{r.name}", r.container, image, counts,
                     res.secrets if res and not error else "", verdict))
    width = terminal_width() + 2 if sys.stdout.isatty() else 160
    columns = ("WORKLOAD", "CONTAINER", "IMAGE", "VULNS C/H/M/L", "SECRETS", "VERDICT")
    title = f"{len(result.rows)} containers, {len(result.images)} images in {result.seconds:.1f}s"
    print(table(columns, rows, width=width, title=title, no_wrap=columns[3:5]))
