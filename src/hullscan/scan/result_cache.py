"""The key of a whole scan result in the cache: a warm scan of an unchanged image against an unchanged DB
reads one row (how the row holds the Report: cache/results.py).

The key holds everything a report's findings depend on: the image's content (config digest, manifest
annotations, diff_ids — each local blob verified first, cache/blobs.py), the scanners and matching
options, `--import-reachability`, the secret rules file, the skip globs (applied when layers are applied, so the per-layer
facts are shared whatever a scan skips), the vulnerability DB file's identity, the base image catalog's (state file and generation:
`catalog_identity`), and hullscan's own code (every
file of the installed package: a changed analyzer, matcher or rule never serves an old result). The EOL
table's date is in it twice over: the built-in table is a file of the package (the code identity), the
DB's `hs_eol` is in the DB (its identity); a release whose support ends after its result was stored is
EOL when the result is served (scan/service.py `_refresh` keeps the dates, `os.support`). What
depends on the moment or on how the image was given (created_at, target, layer digests, DB age,
stats) is rebuilt on every scan; policy, VEX and display filters apply afterwards, as after a fresh
scan. A PostgreSQL DB has no file identity (it would take a query and SQLAlchemy's import, the very
costs this cache saves): scans against one are cached per layer only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import lru_cache

from hullscan.cache.blobs import RACY_NS
from hullscan.cache.results import FORMAT
from hullscan.digests import sha256
from hullscan.image.model import Image

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any


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


def catalog_identity(location: str | None = None) -> str | None:
    """The base image catalog a cold scan of the same image would identify its base against: the state
    file's path and inode and the catalog's generation (bumped by every change, state/models.py) — one
    single-row SELECT through `sqlite3` (already loaded by the cache), no SQLAlchemy. "-" when there is no
    state file (an empty catalog); None when it cannot be read, or is PostgreSQL (whose read would cost
    psycopg's import): such scans are cached per layer only."""
    import sqlite3

    from hullscan.state.location import resolve

    try:
        _url, path = resolve(location)
    except Exception:  # noqa: BLE001  # a bad $HULLSCAN_STATE_URL: the cold scan says so
        return None
    if path is None:
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{path}|-"
    except OSError:
        return None
    try:
        uri = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")  # urllib.parse's quote, unimported
        conn = sqlite3.connect(f"file:{uri}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT generation FROM catalog_state WHERE id = 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # a store not yet migrated, or damaged: the cold scan decides and says so
    if row is None:
        return None
    return f"{path}|{st.st_dev}:{st.st_ino}|{row[0]}"


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
    catalog = catalog_identity()  # the base a scan identifies, and so every `inherited`, depends on it
    if catalog is None:
        return None
    parts = {
        "v": FORMAT,
        "code": code,
        "db": db,
        "scanners": sorted(options.scanners),
        "match": [sorted(options.match.pkg_types), options.match.include_owned],
        "secret_config": secret_rules,
        "skip": [sorted(set(options.skip_files)), sorted(set(options.skip_dirs))],
        "imports": options.import_reachability,  # --import-reachability: the Python/Node levels decided or not
        "config": image.config_digest,
        "annotations": image.manifest_annotations,
        "diff_ids": [layer.diff_id for layer in image.layers],
        "catalog": catalog,
    }
    if image.source_type in ("docker", "podman"):  # an engine image: known by its ID and its repo digests
        parts["repo_digests"] = sorted(image.repo_digests)
    if not image.config_digest or not all(layer.diff_id for layer in image.layers):
        return None
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return sha256(text.encode()).hexdigest(), settled
