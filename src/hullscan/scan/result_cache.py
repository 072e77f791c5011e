"""Whole scan results, cached: a warm scan of an unchanged image against an unchanged DB reads one row.

The key holds everything a report's findings depend on: the image's content (config digest, manifest
annotations, diff_ids — each local blob verified first, image/identity.py), the scanners and matching
options, the secret rules file, the vulnerability DB file's identity, and hullscan's own code (every
file of the installed package: a changed analyzer, matcher or rule never serves an old result). What
depends on the moment or on how the image was given (created_at, target, layer digests, DB age,
stats) is rebuilt on every scan; policy, VEX and display filters apply afterwards, as after a fresh
scan. A PostgreSQL DB has no file identity (it would take a query and SQLAlchemy's import, the very
costs this cache saves): scans against one are cached per layer only.

A result is stored in three parts (`pack_result`): the report without its packages, the packages
marshalled, and the packages rendered as the JSON format writes them. A warm scan printed as JSON
with no licence rule takes the rendered form and passes it through (most of a report is packages).
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import lru_cache

from hullscan.cache.blobs import RACY_NS
from hullscan.digests import sha256
from hullscan.image.model import Image

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

RESULT_VERSION = 3  # bump when what a cached result holds changes shape


@lru_cache(maxsize=1)
def code_identity() -> str | None:
    """Names, sizes and mtimes of every file of the hullscan package (about 200 stats), the Python
    version (results are stored with `marshal`), and the mtimes of the site-packages directories
    (installing or removing any dependency changes them). None when the package is not a directory
    of files (a zip app): its results are then not cached."""
    try:
        return _code_identity()
    except OSError:
        return None


def _code_identity() -> str:
    h = sha256(sys.version.encode())
    for entry in sys.path:
        if entry.endswith("-packages") and os.path.isdir(entry):
            h.update(f"{entry}:{os.stat(entry).st_mtime_ns}\n".encode())
    stack = [(os.path.dirname(os.path.abspath(__file__)), "")]
    while stack:
        directory, rel = stack.pop()
        for e in sorted(os.scandir(directory), key=lambda e: e.name):
            if e.is_dir(follow_symlinks=False):
                if e.name != "__pycache__":
                    stack.append((e.path, f"{rel}{e.name}/"))
            elif not e.name.endswith((".pyc", ".pyo")):
                st = e.stat()
                h.update(f"{rel}{e.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def db_identity(location: str | None) -> tuple[str, int] | None:
    """(identity, last change in ns) of a SQLite DB file and its WAL, None for PostgreSQL or no file."""
    from hullscan.vulndb.location import resolve_file

    _url, path = resolve_file(location)
    if path is None:
        return None
    parts, changed = [], 0
    for p in (str(path), f"{path}-wal"):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            parts.append("-")
            continue
        except OSError:
            return None
        parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}")
        changed = max(changed, st.st_mtime_ns, st.st_ctime_ns)
    if parts[0] == "-":
        return None
    return f"{os.path.abspath(path)}|{'|'.join(parts)}", changed


def result_key(image: Image, options: Any) -> tuple[str, bool] | None:
    """(key, settled) for this scan, or None when its result cannot be cached. `settled` is False when
    the DB changed too recently to tell a later write apart (such a result is not stored)."""
    settled = True
    db = None
    if "vuln" in options.scanners:
        found = db_identity(options.db)
        if found is None:
            return None
        db, changed = found
        settled = time.time_ns() - changed >= RACY_NS
    secret_rules = None
    if options.secret_config:
        try:
            with open(options.secret_config, "rb") as fh:
                secret_rules = sha256(fh.read()).hexdigest()
        except OSError:
            return None  # the scan reports it
    code = code_identity()
    if code is None:
        return None
    parts = {
        "v": RESULT_VERSION,
        "code": code,
        "db": db,
        "scanners": sorted(options.scanners),
        "match": [sorted(options.match.pkg_types), options.match.include_owned],
        "secret_config": secret_rules,
        "config": image.config_digest,
        "annotations": image.manifest_annotations,
        "diff_ids": [layer.diff_id for layer in image.layers],
    }
    if not image.config_digest or not all(layer.diff_id for layer in image.layers):
        return None
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return sha256(text.encode()).hexdigest(), settled


def pack_result(report: dict[str, Any]) -> tuple[dict[str, Any], bytes, bytes | None]:
    """What the cache stores of a report: the report without its packages (their key keeps its place),
    the packages marshalled, and the packages as the JSON format renders them. A warm scan decompresses
    only the form its output takes; JSON output copies the rendered one (json_report.PackagesJSON)."""
    import marshal
    import zlib

    from hullscan.report.json_report import render_packages

    packages = report.get("packages") or []
    rest = {**report, "packages": None}
    rendered = render_packages(packages)
    # each part compressed on its own: a warm scan decompresses only the one it takes
    return (rest, zlib.compress(marshal.dumps(packages), 1),
            None if rendered is None else zlib.compress(rendered, 1))


def unpack_result(stored: Any, packages_json: bool) -> dict[str, Any] | None:
    """A stored result as a report: `packages` a list, or its rendered JSON when `packages_json` (only
    the JSON format takes that form). None for a row of another shape."""
    import marshal
    import zlib

    rest: dict[str, Any]
    try:
        rest, packages, rendered = stored
        if packages_json and rendered is not None:
            from hullscan.report.json_report import PackagesJSON

            rest["packages"] = PackagesJSON(zlib.decompress(rendered))
        else:
            rest["packages"] = marshal.loads(zlib.decompress(packages))
    except (TypeError, ValueError, EOFError, zlib.error):  # another shape, or damaged: scan again
        return None
    return rest
