"""`hullscan notify ...`: webhook endpoints, delivery, the dead letters. Thin: parses options, calls
hullscan.notify over the state store, prints (docs/notifications.md)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hullscan.cli import options as opt
from hullscan.cli.main import add_command, add_group

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers
    from hullscan.notify.queue import DeliveryRow

DESCRIPTION = (
    "Webhook notifications of what a rescan found changed: POSTed JSON, HMAC-SHA256 signed, retried with "
    "backoff until delivered or given up (then a dead letter). Endpoints and the queue live in the state "
    "store (--state, $HULLSCAN_STATE_URL, else $XDG_DATA_HOME/hullscan/state.sqlite). See docs/notifications.md."
)
STATE_HELP = "State store: a SQLite file or postgresql:// URL (default: $HULLSCAN_STATE_URL, else the XDG data dir file)."


def add_cmd(*, url: str, secret_env: str | None, secret_file: str | None, cloudevents: bool, name: str | None,
            state: str | None) -> None:
    """Add a webhook endpoint. Its secret is stored as where to read it (--secret-env VAR or --secret-file FILE),
    read at each delivery, and never printed; without one, requests go unsigned."""
    from hullscan.notify.endpoints import add, shown_url
    from hullscan.state.store import open_state

    with open_state(state) as store:
        ep = add(store, url, name=name, secret_env=secret_env, secret_file=secret_file, cloudevents=cloudevents)
    print(f"added endpoint {ep.name}: {shown_url(ep.url)} (secret {ep.secret_source}"
          + (", CloudEvents" if ep.cloudevents else "") + ")")
    if ep.secret_source == "none":
        print("hullscan: warning: no secret: receivers cannot tell these requests from forged ones "
              "(give --secret-env or --secret-file)", file=sys.stderr)


def list_cmd(*, state: str | None) -> None:
    """List the webhook endpoints (secrets are shown as where they are read from, never their values)."""
    from hullscan.notify.endpoints import listing, shown_url
    from hullscan.report.boxes import table, terminal_columns
    from hullscan.state.store import open_state

    with open_state(state) as store:
        eps = listing(store)
    if not eps:
        print("No webhook endpoints: add one with `hullscan notify add URL --secret-env VAR`.")
        return
    rows = [(e.name, shown_url(e.url), e.secret_source, "cloudevents" if e.cloudevents else "json") for e in eps]
    print(table(("NAME", "URL", "SECRET", "FORMAT"), rows, width=terminal_columns(), no_wrap=("FORMAT",),
                title=f"{len(eps)} webhook endpoint" + ("" if len(eps) == 1 else "s")))


def rm_cmd(*, name: str, state: str | None) -> None:
    """Remove a webhook endpoint; what it was still owed is dropped with it."""
    from hullscan.notify.endpoints import remove
    from hullscan.state.store import open_state

    with open_state(state) as store:
        ep = remove(store, name)
    print(f"removed endpoint {ep.name}")


def status_cmd(*, state: str | None) -> None:
    """The queue: deliveries pending, delivered and dead, the next ones due, and the dead letters (given up
    after the give-up age; `hullscan notify retry` puts them back)."""
    from hullscan.notify.queue import status
    from hullscan.report.boxes import table, terminal_columns
    from hullscan.state.store import open_state

    with open_state(state) as store:
        st = status(store)
    c = st.counts
    print(f"{st.notifications} notifications; deliveries: {c['pending']} pending, {c['delivered']} delivered, "
          f"{c['dead']} dead")
    width = terminal_columns()
    wide = width >= 120  # narrower: the image and the last error go on a line under each row (DESIGN.md "Tables")
    for title, rows, when in (("Pending deliveries (next due first)", st.pending, "DUE"),
                              ("Dead letters (newest first)", st.dead, "GAVE UP")):
        if rows:
            columns = ["NOTIFICATION", "ENDPOINT", "PAGE", "TRIES", when] + (["IMAGE", "LAST ERROR"] if wide else [])
            cells = [_row(r, when) for r in rows]
            print(table(columns, [c if wide else c[:5] for c in cells], width=width, title=title,
                        no_wrap=("NOTIFICATION", "PAGE", "TRIES", when, "IMAGE"),
                        details=None if wide else [f"image {c[5]} · {c[6]}" for c in cells]))


def _row(r: DeliveryRow, when: str) -> tuple[str, ...]:
    from datetime import UTC, datetime

    at = r.due_at if when == "DUE" else (r.done_at or r.due_at)
    return (r.notification_id[:12], r.endpoint, f"{r.page_idx + 1}/{r.page_count}", str(r.attempts),
            datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M"), r.image_digest.removeprefix("sha256:")[:12],
            r.last_error or "-")


def retry_cmd(*, ids: list[str], all_dead: bool, state: str | None) -> None:
    """Put dead letters back in the queue, due now (their give-up age starts again): those of the notifications
    named (an id or its first 6+ hex digits), or --all-dead. Delivered at the next `hullscan notify deliver`."""
    from hullscan.errors import UsageError
    from hullscan.notify.queue import retry
    from hullscan.state.store import open_state

    if bool(ids) == all_dead:
        raise UsageError("give notification ids or --all-dead (not both)")
    with open_state(state) as store:
        n = retry(store, None if all_dead else ids)
    print(f"{n} dead deliver{'y' if n == 1 else 'ies'} queued again")


def deliver_cmd(*, once: bool, timeout: float, give_up_after: float, state: str | None, quiet: bool) -> None:
    """Deliver the notifications that are due. With --once (what a cron job runs), each due page is tried
    once; without, keep going — waiting for retries as they come due — until nothing is pending. Failures
    are retried later, not an error: the exit code is 0 unless the store itself fails."""
    from hullscan.notify.deliver import Settings, deliver
    from hullscan.state.store import open_state

    def say(line: str) -> None:
        if not quiet:
            print(f"hullscan: {line}", file=sys.stderr, flush=True)

    settings = Settings(timeout=timeout, lease=max(120.0, 2 * timeout + 30), give_up_after=give_up_after)
    with open_state(state) as store:
        s = deliver(store, once=once, settings=settings, on_event=say)
    print(f"delivered {s.delivered}, failed {s.failed} (retried later), gave up {s.dead}")


def register(subparsers: Subparsers) -> None:
    notify = add_group(subparsers, "notify", DESCRIPTION)

    add = add_command(notify, "add", add_cmd)
    add.add_argument("url", metavar="URL", help="The webhook (http:// or https://).")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--secret-env", metavar="VAR", help="Environment variable holding the HMAC secret.")
    secret.add_argument("--secret-file", metavar="FILE", help="File holding the HMAC secret (a trailing newline is ignored).")
    add.add_argument("--cloudevents", action="store_true", help="Wrap each page in a CloudEvents 1.0 envelope (structured mode).")
    add.add_argument("--name", help="The endpoint's name (default: the URL's host).")
    add.add_argument("--state", help=STATE_HELP)

    lst = add_command(notify, "list", list_cmd)
    lst.add_argument("--state", help=STATE_HELP)

    rm = add_command(notify, "rm", rm_cmd)
    rm.add_argument("name", metavar="NAME", help="The endpoint's name.")
    rm.add_argument("--state", help=STATE_HELP)

    st = add_command(notify, "status", status_cmd)
    st.add_argument("--state", help=STATE_HELP)

    rt = add_command(notify, "retry", retry_cmd)
    rt.add_argument("ids", nargs="*", metavar="ID", help="Notification ids (or their first 6+ hex digits).")
    rt.add_argument("--all-dead", action="store_true", help="Every dead letter.")
    rt.add_argument("--state", help=STATE_HELP)

    dv = add_command(notify, "deliver", deliver_cmd)
    dv.add_argument("--once", action="store_true", help="Try each due page once and stop (for cron).")
    dv.add_argument("--timeout", type=opt.duration, default=10.0, metavar="DURATION",
                    help="How long a receiver has to answer (e.g. 10s).")
    dv.add_argument("--give-up-after", type=opt.duration, default=86400.0, metavar="DURATION",
                    help="Age (from enqueueing) after which a failing delivery becomes a dead letter (e.g. 24h), in seconds.")
    dv.add_argument("--state", help=STATE_HELP)
    opt.add_quiet(dv)
