"""`hullscan stored list|show|rm|prune`: the stored inventories (state/inventories.py; docs/stored.md).
Option parsing and printing only; JSON output follows docs/stored.schema.json."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hullscan.cli import options as opt

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers
    from hullscan.state.inventories import StoredInventory, StoredSummary

SCHEMA_VERSION = "1.0"
DESCRIPTION = (
    "Stored image inventories: what `hullscan image --store` kept of scanned images (packages per layer, OS, base, "
    "secret and config findings, names, the policy), matched again as stored:sha256:… without the image. "
    "They live in the state store (--state, $HULLSCAN_STATE_URL, else $XDG_DATA_HOME/hullscan/state.sqlite). "
    "See docs/stored.md."
)


def list_cmd(*, fmt: str, repo: str | None, state: str | None) -> None:
    """List the stored images, most recently seen first (a table, or JSON with --format json)."""
    from hullscan.state.inventories import summaries
    from hullscan.state.location import display
    from hullscan.state.store import open_state

    with open_state(state) as store:
        rows = summaries(store, repository=repo)
    if fmt == "json":
        _print({"schema_version": SCHEMA_VERSION, "location": display(state), "images": [summary_dict(r) for r in rows]})
        return
    if not rows:
        print(f"No stored images{' in ' + repo if repo else ''} ({display(state)}): store one with "
              "`hullscan image TARGET --store`.")
        return
    from hullscan.report.boxes import table, terminal_columns

    width = terminal_columns()
    wide = width >= 120  # narrower: the secondary cells go on a line under each row (DESIGN.md "Tables")
    columns = ["DIGEST", "REPOSITORY", "TAGS", "PKGS"] + (["OS", "LAST SEEN", "FIRST SEEN"] if wide else [])
    body, details = [], []
    for r in rows:
        cells: list[object] = [_short(r.key), r.repository or "-", ", ".join(_tags(r)) or "-", r.package_count]
        if wide:
            cells += [r.os or "-", r.last_seen, r.first_seen]
        body.append(cells)
        details.append(f"{r.os or '-'} · last seen {r.last_seen} · first seen {r.first_seen}")
    print(table(columns, body, width=width, no_wrap=("DIGEST", "PKGS", "LAST SEEN", "FIRST SEEN"),
                details=None if wide else details, title=f"{len(rows)} stored images"))


def show_cmd(*, digest: str, fmt: str, state: str | None) -> None:
    """Show one stored image: names, layers (with the packages each introduced), OS, base, findings kept."""
    from hullscan.state.inventories import load, resolve
    from hullscan.state.store import open_state

    with open_state(state) as store:
        stored = load(store, resolve(store, digest))
    doc = show_dict(stored)
    if fmt == "json":
        _print({"schema_version": SCHEMA_VERSION, "image": doc})
        return
    r = stored.summary
    lines = [f"stored:{r.key}",
             f"  repository   {r.repository or '-'} ({r.registry or 'no registry'})",
             f"  names        {', '.join(r.names) or '-'}",
             f"  manifest     {r.manifest_digest or '-'}",
             f"  config       {r.config_digest or '-'}",
             f"  os           {r.os or '-'}",
             f"  base         {doc['base_image']['name'] or '-'} ({doc['base_image']['method']}, "
             f"{doc['base_image']['layer_count'] if doc['base_image']['layer_count'] is not None else '?'} layers)",
             f"  first seen   {r.first_seen}",
             f"  last seen    {r.last_seen}",
             f"  policy       {r.policy_digest or '-'}" + (f" ({doc['policy']['path']})" if doc["policy"]["path"] else ""),
             f"  packages     {r.package_count}",
             f"  secrets      {doc['secrets']}, config findings {doc['misconfigurations']}",
             "  layers"]
    for layer in doc["layers"]:
        base = " base" if layer["base"] else ""
        lines.append(f"    {layer['index']:>3} {_short(layer['diff_id']) if layer['diff_id'] else '-':<12} "
                     f"{layer['packages']:>5} packages{base}  {layer['created_by'][:60]}")
    print("\n".join(lines))


def rm_cmd(*, digests: list[str], state: str | None) -> None:
    """Delete stored images (stored:sha256:…, sha256:… or a unique digest prefix) and the layers no other stored
    image holds. An unknown digest is exit 2 and nothing is deleted."""
    from hullscan.state.inventories import remove, resolve
    from hullscan.state.store import open_state

    with open_state(state) as store:
        keys = [resolve(store, d) for d in digests]
        remove(store, keys)
    for key in dict.fromkeys(keys):
        print(f"removed stored:{key}")


def prune_cmd(*, keep_days: float | None, keep_last: int | None, fmt: str, state: str | None) -> None:
    """Retention: keep the images seen within --keep-days, and the --keep-last most recently seen of each
    repository (an image named in several repositories is kept when any keeps it); delete the rest, and
    the layers no stored image holds any more."""
    from hullscan.state.inventories import prune
    from hullscan.state.store import open_state

    with open_state(state) as store:
        gone = prune(store, keep_days=keep_days, keep_last=keep_last)
    if fmt == "json":
        _print({"schema_version": SCHEMA_VERSION, "removed": [summary_dict(r) for r in gone]})
        return
    for r in gone:
        print(f"removed stored:{r.key} ({r.repository or 'unnamed'}, last seen {r.last_seen})")
    print(f"pruned {len(gone)} stored image{'s' if len(gone) != 1 else ''}")


def summary_dict(r: StoredSummary) -> dict[str, Any]:
    return {"digest": r.key, "manifest_digest": r.manifest_digest, "config_digest": r.config_digest,
            "repository": r.repository, "registry": r.registry, "names": list(r.names), "first_seen": r.first_seen,
            "last_seen": r.last_seen, "policy_digest": r.policy_digest, "os": r.os, "packages": r.package_count,
            "layer_count": r.layer_count}


def show_dict(stored: StoredInventory) -> dict[str, Any]:
    report = stored.report
    per_layer: dict[int | None, int] = {}
    for p in report.packages:
        index = p.layer.index if p.layer is not None else None
        per_layer[index] = per_layer.get(index, 0) + 1
    base = report.base_image
    policy = stored.policy_document
    fields = policy[2] if isinstance(policy, tuple) and len(policy) == 3 and isinstance(policy[2], dict) else {}
    return {
        **summary_dict(stored.summary),
        "target": {"input": report.target.input, "type": report.target.type, "name": report.target.name},
        "os_release": None if report.os is None else {"family": report.os.family, "version": report.os.version,
                                                      "release": report.os.release, "ecosystem": report.os.ecosystem},
        "base_image": {"layer_count": base.layer_count, "name": base.name, "digest": base.digest, "method": base.method},
        "layers": [{"index": li.index, "diff_id": li.diff_id, "created_by": li.created_by, "base": li.base,
                    "packages": per_layer.get(li.index, 0)} for li in report.layers],
        "unlayered_packages": per_layer.get(None, 0),
        "history": len(report.history),
        "secrets": len(report.secrets),
        "misconfigurations": len(report.misconfigurations),
        "policy": {"digest": stored.summary.policy_digest, "path": str(fields.get("path") or ""),
                   "gate": bool(fields.get("gate"))},
    }


def _tags(r: StoredSummary) -> list[str]:
    return [n.rpartition(":")[2] for n in r.names if "@" not in n and n.startswith(r.repository + ":")]


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _print(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=2))


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError(text)
    return value


def register(subparsers: Subparsers) -> None:
    from hullscan.cli.main import add_command, add_group

    stored = add_group(subparsers, "stored", DESCRIPTION)
    lst = add_command(stored, "list", list_cmd)
    lst.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("table", "json"), default="table",
                     help="table or json (docs/stored.schema.json).")
    lst.add_argument("--repo", metavar="REPOSITORY", help="Only images named in this repository (short form: debian, "
                                                          "ghcr.io/org/app).")
    lst.add_argument("--state", metavar="URL", help=opt.STATE_HELP)
    show = add_command(stored, "show", show_cmd)
    show.add_argument("digest", metavar="DIGEST", help="stored:sha256:…, sha256:… or a unique prefix of the digest.")
    show.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("table", "json"), default="table",
                      help="table or json (docs/stored.schema.json).")
    show.add_argument("--state", metavar="URL", help=opt.STATE_HELP)
    rm = add_command(stored, "rm", rm_cmd)
    rm.add_argument("digests", metavar="DIGEST", nargs="+", help="stored:sha256:…, sha256:… or a unique prefix.")
    rm.add_argument("--state", metavar="URL", help=opt.STATE_HELP)
    prune = add_command(stored, "prune", prune_cmd)
    prune.add_argument("--keep-days", type=_non_negative, metavar="N", help="Keep images seen within N days.")
    prune.add_argument("--keep-last", type=_non_negative_int, metavar="N",
                       help="Keep the N most recently seen images of each repository.")
    prune.add_argument("-f", "--format", dest="fmt", type=str.lower, choices=("table", "json"), default="table",
                       help="table or json (docs/stored.schema.json).")
    prune.add_argument("--state", metavar="URL", help=opt.STATE_HELP)
