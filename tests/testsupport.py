"""Helpers every test may import (`from testsupport import …`): what a test does when a tool it needs is
missing, a directory as an in-memory layer, and the trees tests build once from the package registries.

Not in conftest.py: several directories have a conftest.py, so `from conftest import …` would name
whichever was imported last.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> NoReturn:
    """The one place that decides what a test does when something it needs is absent: under CI=true
    it fails (.ci/run installs every tool, module and service the tests use), elsewhere it skips."""
    if IN_CI:
        pytest.fail(what)
    pytest.skip(what)


def require_tool(name: str) -> str:
    """Path of an external tool (see `missing`)."""
    path = shutil.which(name)
    if path is None:
        missing(f"tool {name!r} not installed (.ci/run installs it)")
    return path


def require_module(name: str) -> ModuleType:
    """An importable Python module a test needs (see `missing`); replaces pytest.importorskip."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        missing(f"Python module {name!r} not importable ({err}); the test extra installs it")


def read_tree(root: Path, prefix: str = "/") -> dict[str, bytes]:
    """A directory as one in-memory layer for `hullscan.inventory.applier.analyze_files`:
    {absolute image path: bytes}; symlinks and special files are left out."""
    out: dict[str, bytes] = {}
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(root).as_posix()
            out[prefix.rstrip("/") + "/" + rel] = path.read_bytes()
    return out


# -- things the tests and benchmarks build once and share (debootstrap trees, pip/npm installs) --
import fcntl  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
COMPLETE = ".hullscan-complete"


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every test process (xdist workers, benches) building `name`."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def cached_build(name: str, make: Callable[[Path], None]) -> Path:
    """CACHE/name, built once by `make(tmp)` into a temporary directory renamed into place."""
    dest = CACHE / name
    with locked(name):
        if (dest / COMPLETE).exists():
            return dest
        tmp = CACHE / f"{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        make(tmp)  # creates tmp (debootstrap, cp -a and pip --target all do)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        (dest / COMPLETE).write_text("ok\n")
        return dest


def debian_mirror() -> str:
    """The Debian mirror apt already uses on this machine."""
    out = subprocess.run(["awk", "/^URIs:/{print $2; exit}", "/etc/apt/sources.list.d/debian.sources"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out or "http://deb.debian.org/debian"


def debian_rootfs() -> Path:
    """`debootstrap --variant=minbase bookworm`, built once into the cache and shared."""
    def make(tmp: Path) -> None:
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(tmp), debian_mirror()],
                       check=True, capture_output=True)

    return cached_build("debian-bookworm-minbase", make)


def on_a_terminal(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,), timeout: float = 300,
                  unset: tuple[str, ...] = ()) -> str:
    """What `cmd` prints to a pseudo-terminal (as a user at a shell sees it: colour, terminal width), with
    `env` over os.environ less `unset`; its exit code must be one of `ok`."""
    import pty

    master, slave = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in unset}
    proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, env={**base, **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=timeout) in ok, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode().replace("\r\n", "\n")


PG_BASE = os.environ.get("HULLSCAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_throwaway_schema(prefix: str) -> Iterator[tuple[str, str]]:
    """(URL, a schema name unique to this use) on the machine's PostgreSQL (db `test`); the schema is
    dropped afterwards. PostgreSQL down is `missing` (a failure under CI)."""
    import uuid

    psycopg = require_module("psycopg")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as err:
        missing(f"PostgreSQL not reachable at {PG_BASE}: {err}")
    try:
        yield PG_BASE, schema
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class FileServer:
    """Files served over HTTP on 127.0.0.1 with ETags (a conditional GET of an unchanged file is a 304),
    404 for the rest; `log` holds each (path, If-None-Match) asked. Start it with `serve_files()`."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str | None]] = []


@contextmanager
def serve_files() -> Iterator[tuple[str, FileServer]]:
    """(base URL, its FileServer) for the duration."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.log.append((self.path, self.headers.get("If-None-Match")))
            body = state.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{len(body)}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
