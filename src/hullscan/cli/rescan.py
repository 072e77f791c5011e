"""`hullscan rescan`: stored inventories re-matched against the current vulnerability DB (hullscan.rescan;
docs/rescan.md). Option parsing and printing only; JSON output follows docs/rescan.schema.json."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hullscan.cli import options as opt
from hullscan.errors import UsageError

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers

def rescan_cmd(*, digests: list[str], all_images: bool, repo: str | None, policy: str | None, fmt: str | None,
               output: str | None, quiet: bool, severity: str | None, exit_code: int, full: bool, notify: bool,
               db: str | None, state: str | None) -> None:
    """Re-match stored inventories against the current vulnerability DB and say what changed.

    Stored images (`hullscan image --store`) are matched again without reading the images: DIGEST…
    (stored:sha256:…, sha256:… or a unique prefix), the images of --repo R, or --all. After a DB update only
    the images holding a package whose advisories changed are re-matched (the DB's change log); --full
    re-matches every selected image. Per image, each change in one category: new, changed, fix_available,
    no_longer_affected, withdrawn, exception_expired; the verdict is judged again with --policy, else the
    policy the image was stored with (pass -> fail called out). Each image with changes gets one webhook
    notification (hullscan notify). With --exit-code N, exit N when an image gets a new finding at or
    above --severity or its verdict goes from pass to fail; else 0. JSON: docs/rescan.schema.json;
    cron and Kubernetes CronJob examples: docs/rescan.md."""
    from hullscan.cli.diff import severity_threshold
    from hullscan.report.formats import write_output
    from hullscan.rescan.run import rescan
    from hullscan.state.inventories import resolve
    from hullscan.state.store import open_state
    from hullscan.vulndb.location import precheck
    from hullscan.vulndb.read import open_reader

    chosen = sum((bool(digests), all_images, repo is not None))
    if chosen != 1:
        raise UsageError("rescan: give DIGEST…, --repo REPOSITORY or --all (one of them)")
    if fmt is None:
        fmt = "table" if (output is None and sys.stdout.isatty()) else "json"
    threshold = severity_threshold(severity)
    collision = opt.exit_code_collision(exit_code)
    if collision and not quiet:
        print(f"hullscan: warning: {collision}", file=sys.stderr)
    gate_policy = None
    if policy is not None:
        from hullscan.policy.load import load_policy

        gate_policy = load_policy(policy)  # a bad policy fails before anything is read
    precheck(db)  # a missing or empty DB is exit 4 before the store is touched
    progress = opt.progress(quiet)
    with open_state(state) as store, open_reader(db) as reader:
        keys = [resolve(store, d) for d in digests] if digests else None
        result = rescan(store, reader, keys=keys, repository=repo, policy=gate_policy, full=full, threshold=threshold,
                        progress=progress)
        if progress:
            print("\r\033[K", end="", file=sys.stderr)
        if notify:
            from hullscan.notify.deliver import deliver

            summary = deliver(store, once=True)
            from hullscan.record import replace

            result = replace(result, delivered=summary.delivered)
            if not quiet and (summary.failed or summary.dead):
                print(f"hullscan: warning: notifications: {summary.failed} failed (retried later), {summary.dead} "
                      "given up (`hullscan notify status`)", file=sys.stderr)
    if fmt == "json":
        from datetime import UTC, datetime

        from hullscan.report.json_report import render_dict
        from hullscan.rescan.document import to_dict

        data = render_dict(to_dict(result, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    else:
        from hullscan.rescan.table import render

        data = render(result, gated=bool(exit_code)).encode()
    write_output(data, output)
    if exit_code and any(r.failed for r in result.images):
        raise SystemExit(exit_code)


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    cmd = add_command(subparsers, "rescan", rescan_cmd)
    cmd.add_argument("digests", metavar="DIGEST", nargs="*", help="Stored images: stored:sha256:…, sha256:… or a "
                                                                   "unique prefix of the digest.")
    cmd.add_argument("--all", dest="all_images", action="store_true", help="Every stored image.")
    cmd.add_argument("--repo", metavar="REPOSITORY", help="The images named in this repository (short form: debian, "
                                                          "ghcr.io/org/app).")
    cmd.add_argument("--full", action="store_true", help="Re-match every selected image, not only those the DB's "
                                                         "changes since their last rescan touch.")
    cmd.add_argument("--no-notify", dest="notify", action="store_false",
                     help="Record the notifications but do not deliver them now (`hullscan notify deliver` or the "
                          "service does).")
    opt.add_db(cmd)
    cmd.add_argument("--state", metavar="URL", help=opt.STATE_HELP)
    opt.add_document_output(cmd, "rescan.schema.json")
    gate = cmd.add_argument_group("gate")
    gate.add_argument("-s", "--severity", metavar="LEVEL",
                      help="The --exit-code threshold: new findings at or above this severity fail the gate (CRITICAL, "
                           "HIGH, MEDIUM, LOW, UNKNOWN; a list such as HIGH,CRITICAL means its lowest). Default: every "
                           "severity.")
    gate.add_argument("--exit-code", type=opt.exit_code_value, default=0, metavar="N",
                      help="Exit with this code (0-255) when an image gets a new finding at or above --severity, or its "
                           "verdict goes from pass to fail (default 0: never). 2-5 collide with the documented "
                           "error codes.")
    gate.add_argument("--policy", metavar="FILE", help="Judge every image with this policy instead of the one it was "
                                                       "stored with. See docs/policy.md.")
