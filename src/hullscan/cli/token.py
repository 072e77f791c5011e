"""`hullscan token create|list|revoke`: the API tokens of `hullscan server` (service/auth.py; docs/service.md).
Option parsing and printing only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hullscan.cli.options import STATE_HELP

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers

DESCRIPTION = (
    "API tokens of `hullscan server`: bearer tokens with scopes read < scan < admin (each allows what the ones before "
    "it allow). A token is shown once, when created; the state store keeps only its sha256. See docs/service.md."
)


def create_cmd(*, scope: list[str] | None, name: str | None, harbor: bool, fmt: str, state: str | None) -> None:
    """Create a token and print it (once: it cannot be shown again). --harbor makes Harbor's scanner
    registration token (scope scan, name harbor)."""
    from hullscan.errors import UsageError
    from hullscan.service.auth import HARBOR_NAME, create, parse_scopes
    from hullscan.state.store import open_state

    if harbor and scope and parse_scopes(scope) != ("scan",):
        raise UsageError("--harbor makes a token of scope scan (Harbor scans and reads its reports); leave --scope out")
    scopes = ("scan",) if harbor else parse_scopes(scope or ["read"])
    with open_state(state) as store:
        token, secret = create(store, name or (HARBOR_NAME if harbor else "api"), scopes)
    if fmt == "json":
        print(json.dumps({"id": token.id, "name": token.name, "scopes": list(token.scopes), "created_at": token.created_at,
                          "token": secret}, indent=2))
        return
    print(secret)


def list_cmd(*, all_: bool, fmt: str, state: str | None) -> None:
    """List the tokens (never their secrets): id, name, scopes, created, last used; --all adds revoked ones."""
    from hullscan.service.auth import listing
    from hullscan.state.store import open_state

    with open_state(state) as store:
        rows = listing(store, include_revoked=all_)
    if fmt == "json":
        print(json.dumps({"tokens": [{"id": t.id, "name": t.name, "scopes": list(t.scopes), "created_at": t.created_at,
                                      "last_used_at": t.last_used_at, "revoked_at": t.revoked_at} for t in rows]}, indent=2))
        return
    if not rows:
        print("No tokens: create one with `hullscan token create --scope read`.")
        return
    from hullscan.report.boxes import table, terminal_columns

    width = terminal_columns()
    wide = width >= 120  # narrower: the secondary cells go on a line under each row (DESIGN.md "Tables")
    columns = ["ID", "NAME", "SCOPES"] + (["CREATED", "LAST USED", "REVOKED"] if wide else [])
    body: list[list[object]] = []
    details = []
    for t in rows:
        row: list[object] = [t.id, t.name, " ".join(t.scopes)]
        body.append(row + ([t.created_at, t.last_used_at or "-", t.revoked_at or "-"] if wide else []))
        details.append(f"created {t.created_at} · last used {t.last_used_at or '-'}"
                       + (f" · revoked {t.revoked_at}" if t.revoked_at else ""))
    print(table(columns, body, width=width, no_wrap=("ID", "CREATED", "LAST USED", "REVOKED"),
                details=None if wide else details, title=f"{len(rows)} tokens"))


def revoke_cmd(*, selector: str, state: str | None) -> None:
    """Revoke a token by its id, or every live token of a name; it stops working at once."""
    from hullscan.service.auth import revoke
    from hullscan.state.store import open_state

    with open_state(state) as store:
        for t in revoke(store, selector):
            print(f"revoked {t.id} ({t.name})")


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group

    token = add_group(subparsers, "token", DESCRIPTION)
    create = add_command(token, "create", create_cmd)
    create.add_argument("--scope", action="append", metavar="SCOPE",
                        help="read, scan or admin (repeat or comma-separate; the highest counts) [default: read].")
    create.add_argument("--name", help="What the token is for (default: api; harbor with --harbor).")
    create.add_argument("--harbor", action="store_true", help="Harbor's scanner registration token (scope scan).")
    create.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("text", "json"), default="text",
                        help="text (the token alone) or json.")
    create.add_argument("--state", metavar="URL", help=STATE_HELP)
    lst = add_command(token, "list", list_cmd)
    lst.add_argument("--all", dest="all_", action="store_true", help="Include revoked tokens.")
    lst.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("table", "json"), default="table",
                     help="table or json.")
    lst.add_argument("--state", metavar="URL", help=STATE_HELP)
    rv = add_command(token, "revoke", revoke_cmd)
    rv.add_argument("selector", metavar="ID|NAME", help="The token's id, or a name (every live token of it).")
    rv.add_argument("--state", metavar="URL", help=STATE_HELP)
