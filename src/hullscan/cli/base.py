"""`hullscan base ...`: the base image catalog — add, list, rm, export, import. Thin: parses options,
calls the state store (state/) and the scan service, prints."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from hullscan.cli import options as opt
from hullscan.cli.main import add_command, add_group, path_arg
from hullscan.errors import HullscanError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from hullscan.cli.main import Subparsers
    from hullscan.image.target import SourceOptions
    from hullscan.state.catalog import Listed

# The stages (SQLAlchemy, the scan service, the registry client) load inside the commands: `hullscan
# --help` imports this module to register `base`.
DESCRIPTION = (
    "The base image catalog: the images your images are built on, by name, digest and layer chain IDs, "
    "with their packages. A scan names the base it finds here and marks what each image inherited.\n\n"
    "The catalog lives in the state store: a SQLite file ($XDG_DATA_HOME/hullscan/state.sqlite by default) "
    "or PostgreSQL (--state postgresql://... or HULLSCAN_STATE_URL). See docs/base-images.md."
)
STATE_HELP = "State store: a SQLite file or postgresql:// URL (default: $HULLSCAN_STATE_URL, else the XDG data dir file)."


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(f"hullscan: {msg}", file=sys.stderr, flush=True)


def add_cmd(*, targets: list[str], name: str | None, all_tags: bool, state: str | None, platform: str | None,
            insecure: bool, username: str | None, password_stdin: bool, cache_dir: str | None, no_cache: bool,
            quiet: bool) -> None:
    """Add base images to the catalog: any target hullscan reads (archive, OCI layout, registry reference).

    The image is inventoried (packages, OS) — no vulnerability DB needed — and catalogued under its name:
    --name NAME[:TAG], else the target's own (a docker save's RepoTags, the registry reference, an OCI
    layout's org.opencontainers.image.ref.name written as NAME:TAG). Adding an image again updates its
    tags; a tag given to another image of the repository moves to it. With --all-tags, TARGET is a registry
    repository and every tag is added. A target that fails is reported and the others are still added;
    the exit code is then the first failure's."""
    from hullscan.scan.wiring import build_service
    from hullscan.state.edit import add, from_report
    from hullscan.state.store import open_state

    if name and (len(targets) > 1 or all_tags):
        raise UsageError("--name names one image: give a single TARGET and no --all-tags")
    if any(t.startswith("sbom:") for t in targets):
        raise UsageError("sbom: targets cannot be catalogued: a base is known by its layers, which an SBOM does not hold")
    named = _given_name(name) if name else None
    source = opt.source(platform, insecure, username, password_stdin)
    if all_tags:
        targets = [ref for t in targets for ref in _repository_tags(t, source, quiet)]
    options = opt.scan_options(scanner_list="license", source_options=source, cache_dir=cache_dir, no_cache=no_cache)
    service = build_service(options, progress=opt.progress(quiet), notice=opt.notice(quiet, None))
    failed: list[HullscanError] = []
    with open_state(state) as store:  # a store that cannot be opened fails before any image is read
        for target in targets:
            try:
                report = service.scan(target)
                if not report.layers:
                    raise UsageError(f"{target}: a root filesystem has no layers, so it cannot be a base "
                                     "(catalogue the image it came from)")
                repo_tags = named or _own_name(target, report.target.repo_tags, report.target.name)
                (done,) = add(store, [from_report(report, *repo_tags)])
            except HullscanError as err:
                failed.append(err)
                said = str(err) if target in str(err) else f"{target}: {err}"
                print(f"hullscan: error: {said}", file=sys.stderr, flush=True)
                continue
            verb = "added" if done.new else ("updated" if done.changed else "unchanged")
            print(f"{verb:<9} {done.reference}  ({report.config.os}/{report.config.architecture}, "
                  f"{_count(len(report.layers), 'layer')}, {_count(len(report.packages), 'package')}, "
                  f"{report.os.name if report.os else 'no OS release'})")
    if failed:
        if len(targets) > 1:
            _say(quiet, f"{len(failed)} of {len(targets)} targets not added")
        raise SystemExit(failed[0].exit_code)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _given_name(text: str) -> tuple[str, tuple[str, ...]]:
    from hullscan.state.names import split_name

    repo, tag, digest = split_name(text, "--name")
    if digest:
        raise UsageError(f"--name {text}: NAME[:TAG] (the digest is the image's own)")
    return repo, (tag,) if tag else ()


def _own_name(target: str, repo_tags: tuple[str, ...], image_name: str) -> tuple[str, tuple[str, ...]]:
    from hullscan.state.names import default_name

    found = default_name(repo_tags, image_name)
    if found is None:
        raise UsageError(f"{target}: the image names no repository (it is called {image_name!r}); give --name NAME:TAG")
    return found


def _repository_tags(target: str, source: SourceOptions, quiet: bool) -> list[str]:
    """`registry:HOST/REPO` for every tag of the repository (the registry's tag list)."""
    from hullscan.image.registry import connect, list_tags
    from hullscan.image.registry_ref import parse_reference, valid_tag

    text = target.removeprefix("registry:")
    if "@" in text or ":" in text.rpartition("/")[2]:
        raise UsageError(f"--all-tags takes a registry repository without tag or digest, not {target!r}")
    ref = parse_reference(text)
    client = connect(ref.registry, insecure=source.insecure, username=source.username, password=source.password)
    try:
        tags = list_tags(client, ref.repository)
    finally:
        client.close()
    good = sorted(t for t in tags if valid_tag(t))
    for bad in sorted(set(tags) - set(good)):
        _say(quiet, f"{ref.name}: skipping invalid tag {bad!r}")
    if not good:
        raise UsageError(f"{ref.name}: the registry lists no tags for this repository")
    _say(quiet, f"{ref.name}: {len(good)} tags")
    return [f"registry:{ref.name}:{t}" for t in good]


def list_cmd(*, fmt: str, state: str | None) -> None:
    """List the catalogued base images (a table, or JSON with --format json)."""
    import json

    from hullscan.state.catalog import open_catalog
    from hullscan.state.location import display

    with open_catalog(state) as catalog:
        rows = catalog.listing()
        generation = catalog.generation()
    if fmt == "json":
        print(json.dumps({"location": display(state), "generation": generation, "bases": [_json_row(r) for r in rows]},
                         indent=2))
        return
    if not rows:
        print(f"The base catalog ({display(state)}) is empty: add images with `hullscan base add TARGET`.")
        return
    from hullscan.report.boxes import table, terminal_columns

    width = terminal_columns()
    wide = width >= 120  # narrower: the secondary cells go on a line under each row (DESIGN.md "Tables")
    columns = ["NAME", "TAGS", "PLATFORM", "LAYERS", "PKGS"] + (["OS", "DIGEST", "ADDED"] if wide else [])
    body, details = [], []
    for r in rows:
        e = r.entry
        digest = (e.manifest_digest or e.config_digest).removeprefix("sha256:")[:12]
        cells: list[object] = [e.name, ", ".join(e.tags) or "-", e.platform, len(e.diff_ids), r.packages]
        if wide:
            cells += [_os_text(r), digest, r.added_at[:10]]
        body.append(cells)
        details.append(f"{_os_text(r)} · {digest} · added {r.added_at[:10]}")
    print(table(columns, body, width=width, no_wrap=("LAYERS", "PKGS", "DIGEST", "ADDED"), details=None if wide else details,
                title=f"{len(rows)} base images (catalog generation {generation})"))


def _os_text(row: Listed) -> str:
    return f"{row.entry.os_id} {row.entry.os_version}".strip() or "-"


def _json_row(row: Listed) -> dict[str, object]:
    e = row.entry
    return {"id": e.id, "name": e.name, "tags": list(e.tags), "manifest_digest": e.manifest_digest,
            "config_digest": e.config_digest, "platform": e.platform, "created": e.created,
            "os": {"id": e.os_id, "version": e.os_version}, "diff_ids": list(e.diff_ids), "chain_ids": list(e.chain_ids),
            "packages": row.packages, "added_at": row.added_at, "updated_at": row.updated_at}


def rm_cmd(*, selector: str, state: str | None) -> None:
    """Remove bases: NAME:TAG (untags it; an image left without tags goes), NAME (the whole repository),
    NAME@DIGEST, or a manifest or config digest. Nothing matching is exit 2."""
    from hullscan.state.edit import remove
    from hullscan.state.store import open_state

    with open_state(state) as store:
        for line in remove(store, selector):
            print(line)


def export_cmd(*, file: Path, state: str | None) -> None:
    """Write the whole catalog as one checksummed bundle (import it elsewhere with `hullscan base import`)."""
    from hullscan import bundlefile
    from hullscan.state import bundle
    from hullscan.state.store import open_state

    with open_state(state) as store:
        man = bundle.export(store, file)
    print(f"wrote {file}: {man['bases']} bases, sha256 {man['sha256'][bundlefile.DATA]}")


def import_cmd(*, file: Path, replace: bool, state: str | None) -> None:
    """Add the bases of a `hullscan base export` bundle (checked whole first: a truncated or altered
    bundle is refused with exit 2 and the catalog is left unchanged)."""
    from hullscan.state import bundle
    from hullscan.state.store import open_state

    with open_state(state) as store:
        man, added = bundle.load(store, file, replace_all=replace)
    new = sum(1 for a in added if a.new)
    changed = sum(1 for a in added if a.changed and not a.new)
    print(f"imported {file}: {man['bases']} bases ({new} new, {changed} updated, {len(added) - new - changed} unchanged)"
          + (", replacing the catalog" if replace else ""))


def advise_cmd(*, target: str, db: str | None, fmt: str, output: str | None, state: str | None, platform: str | None,
               insecure: bool, username: str | None, password_stdin: bool, cache_dir: str | None, no_cache: bool,
               quiet: bool) -> None:
    """Which other catalogued base would remove the most of an image's inherited vulnerabilities.

    TARGET is scanned (vuln scanner, against --db) and its base identified against the catalog; the
    catalog's other images of the same repository, platform and OS family are matched against the same
    DB from their stored packages, and ranked by how many of the image's inherited findings they remove
    (then fewest added, fewest remaining, newest). Prints the counts by severity and, for each candidate,
    the findings that remain. No identified base: nothing to rank (exit 0, the reason said).
    JSON output: docs/base-advise.schema.json."""
    import json

    from hullscan.base.advise import to_dict
    from hullscan.fsio import write_atomic
    from hullscan.scan.advice import compute
    from hullscan.scan.wiring import build_service
    from hullscan.state.catalog import open_catalog

    source = opt.source(platform, insecure, username, password_stdin)
    options = opt.scan_options(scanner_list="vuln", source_options=source, cache_dir=cache_dir, no_cache=no_cache, db=db)
    service = build_service(options, progress=opt.progress(quiet), notice=opt.notice(quiet, None))
    service.open_catalog = lambda: open_catalog(state)  # the catalog advice reads identifies the base too
    service.result_cache = state is None  # the whole-result key knows the default catalog only
    report = service.scan(target)
    doc = to_dict(compute(report, options, state), report)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else _advice_table(doc)
    if output:
        write_atomic(output, text.encode(), private=False)
    else:
        sys.stdout.write(text)


def _advice_table(doc: dict[str, Any]) -> str:
    """The advice for people: the base and its inherited findings, the ranked candidates with their counts,
    then what each leaves and adds, wrapped to the terminal's width."""
    from hullscan.report.boxes import clean, table, terminal_columns, wrap

    width = terminal_columns()
    out: list[str] = []

    def say(text: str) -> None:
        out.extend(wrap(clean(text), width))

    inherited = doc["inherited"]
    base = doc["base"]
    name = doc["target"]["name"]
    name = name if ("/" in name or ":" in name) else doc["target"]["input"]  # a bare layout tag says little
    say(f"Base image advice for {name}")
    say(f"base image: {base['reference']} ({base['platform']}, {base['os']['id']} {base['os']['version']})".replace(" )", ")")
        if base else f"base image: {doc['base_image']['name'] or 'not identified'} (method {doc['base_image']['method']})")
    say(f"inherited vulnerabilities: {inherited['total']} ({_severities(inherited['by_severity'])})")
    if doc["candidates"]:
        rows = [(c["rank"], c["reference"], f"{c['removes']['total']} ({_severities(c['removes']['by_severity'], True)})",
                 c["adds"]["total"], c["remaining"]["total"], (c["created"] or "")[:10]) for c in doc["candidates"]]
        out.append(table(("#", "Base", "Removes", "Adds", "Remaining", "Created"), rows, width=width,
                         title="Candidates, best first", no_wrap=("#", "Removes", "Adds", "Created")))
        for c in doc["candidates"]:  # prose wrapped at spaces: an advisory id is never cut
            for what, key in (("leaves", "remaining"), ("adds", "adds")):
                listed = ", ".join(f"{r['id']} ({r['package']}, {r['severity']})" for r in c[key]["findings"])
                if listed:
                    say(f"#{c['rank']} {c['reference']} {what}: {listed}")
    if doc["reason"]:
        say(f"no advice: {doc['reason']}")
    return "\n".join(out) + "\n"


def _severities(counts: dict[str, int], short: bool = False) -> str:
    """`CRITICAL 1, HIGH 2` (zeros left out); short: `C1 H2`."""
    parts = [(s[0] + str(n)) if short else f"{s} {n}" for s, n in counts.items() if n]
    return (" " if short else ", ").join(parts) or ("-" if short else "none")


def register(subparsers: Subparsers) -> None:
    base = add_group(subparsers, "base", DESCRIPTION)

    add = add_command(base, "add", add_cmd)
    add.add_argument("targets", nargs="+", metavar="TARGET", help="Image archive, OCI layout or registry reference.")
    add.add_argument("--name", metavar="NAME[:TAG]", help="Catalogue the image under this name (one TARGET only).")
    add.add_argument("--all-tags", action="store_true", help="TARGET is a registry repository: add every tag it lists.")
    add.add_argument("--state", help=STATE_HELP)
    opt.add_source(add)
    opt.add_cache(add)
    opt.add_quiet(add)

    lst = add_command(base, "list", list_cmd)
    lst.add_argument("-f", "--format", dest="fmt", choices=("table", "json"), default="table", help="Output format.")
    lst.add_argument("--state", help=STATE_HELP)

    rm = add_command(base, "rm", rm_cmd)
    rm.add_argument("selector", metavar="NAME|DIGEST", help="NAME:TAG, NAME, NAME@DIGEST or a digest.")
    rm.add_argument("--state", help=STATE_HELP)

    export = add_command(base, "export", export_cmd)
    export.add_argument("file", type=path_arg, help="Bundle file to write.")
    export.add_argument("--state", help=STATE_HELP)

    imp = add_command(base, "import", import_cmd)
    imp.add_argument("file", type=path_arg, help="A `hullscan base export` bundle.")
    imp.add_argument("--replace", action="store_true", help="Make the catalog the bundle's (default: add to it).")
    imp.add_argument("--state", help=STATE_HELP)

    adv = add_command(base, "advise", advise_cmd)
    adv.add_argument("target", metavar="TARGET", help="The image to advise on (any target `hullscan image` reads).")
    opt.add_db(adv)
    adv.add_argument("-f", "--format", dest="fmt", choices=("table", "json"), default="table", help="Output format.")
    adv.add_argument("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
    adv.add_argument("--state", help=STATE_HELP)
    opt.add_source(adv)
    opt.add_cache(adv)
    opt.add_quiet(adv)
