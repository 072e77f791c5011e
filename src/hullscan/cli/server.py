"""`hullscan server`: the Harbor scanner API and hullscan's own API over uvicorn (service/app.py;
docs/service.md, docs/harbor.md). The server never scans: it submits jobs that `hullscan worker` runs."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hullscan.cli.options import STATE_HELP

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers


def server_cmd(*, host: str, port: int, workers: int, state: str | None, db: str | None, blob_dir: str | None,
               broker: str | None, log_level: str, relay_interval: float | None = None) -> None:
    """Serve the Harbor Pluggable Scanner API v1.2 (/api/v1) and hullscan's API (/api/v2, OpenAPI at
    /openapi.json) with uvicorn. Every route but /healthz and /readyz needs a bearer token (`hullscan token
    create`). Settings come from the flags, else the environment: $HULLSCAN_STATE_URL, $HULLSCAN_DB_URL,
    $HULLSCAN_BLOB_DIR, $HULLSCAN_BROKER_URL (the workers read the same variables). Each server process runs
    the outbox relay: jobs submitted while the broker was down are published once it is back."""
    import uvicorn

    from hullscan.errors import UsageError
    from hullscan.state.location import ENV_URL
    from hullscan.state.store import open_state

    if workers < 1:
        raise UsageError("--workers: 1 or more")
    # the settings go to the environment: uvicorn's worker processes build the app from it (app_factory)
    for var, value in ((ENV_URL, state), ("HULLSCAN_DB_URL", db), ("HULLSCAN_BLOB_DIR", blob_dir),
                       ("HULLSCAN_BROKER_URL", broker),
                       ("HULLSCAN_RELAY_INTERVAL", None if relay_interval is None else str(relay_interval))):
        if value:
            os.environ[var] = os.path.abspath(value) if var == "HULLSCAN_BLOB_DIR" else value
    if blob_dir:
        os.makedirs(os.environ["HULLSCAN_BLOB_DIR"], exist_ok=True)
    open_state(None).close()  # migrate once, before the workers start, and fail here (exit 2/3) when it cannot
    uvicorn.run("hullscan.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, proxy_headers=True, server_header=False)


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command

    p = add_command(subparsers, "server", server_cmd)
    p.add_argument("--host", default="127.0.0.1", help="The address to listen on.")
    p.add_argument("--port", type=int, default=8080, help="The port to listen on.")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="Server processes (uvicorn workers).")
    p.add_argument("--state", metavar="URL", help=STATE_HELP)
    p.add_argument("--db", metavar="URL", help="The vulnerability DB (default: $HULLSCAN_DB_URL, else the default file).")
    p.add_argument("--blob-dir", metavar="DIR", help="Where uploaded archives go, shared with the workers "
                                                     "(default: $HULLSCAN_BLOB_DIR; none: uploads are refused).")
    p.add_argument("--broker", metavar="URL", help="The job broker (default: $HULLSCAN_BROKER_URL, else RabbitMQ on "
                                                   "127.0.0.1:5672).")
    p.add_argument("--relay-interval", type=float, metavar="SECONDS",
                   help="How often the outbox relay publishes jobs the broker missed (default: "
                        "$HULLSCAN_RELAY_INTERVAL, else 5; 0: no relay in this server).")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                   help="uvicorn's log level.")
