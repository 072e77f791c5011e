"""Real container engines for the tests (and, later, the container tests): our own dockerd (Debian's
docker.io, RECIPES 4c: vfs storage, no iptables, no bridge, its own root and socket under the test
cache) and, where it starts, Podman's API service (`podman system service`), each started once and
shared by every test process (xdist workers, benches) through a file lock.

An engine is left running when the tests end: starting dockerd costs ~3 s, and the next run (or the
next xdist worker) finds it by its pid file and socket and reuses it. `python tests/enginehelp.py stop`
stops both. Images are loaded through the API (`POST /images/load`, what `docker load` sends); at most
MAX_CONTAINERS containers run at a time across all test processes (`container_slot()`).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from testsupport import CACHE, locked, missing  # noqa: E402

DOCKERD = "/usr/sbin/dockerd"
"""Debian's dockerd (docker.io), named explicitly: /usr/local/bin/docker may be another program."""
PODMAN = "/usr/bin/podman"
MAX_CONTAINERS = 4
START_TIMEOUT = 60.0
ENGINES = CACHE / "engines"


@dataclass(frozen=True)
class Engine:
    """A running engine of ours."""

    kind: str
    """docker or podman."""
    home: Path
    """Its root, run and pid files, socket and log."""

    @property
    def socket(self) -> Path:
        return self.home / "api.sock"

    @property
    def address(self) -> str:
        """As --docker-host / --podman-host / DOCKER_HOST take it."""
        return f"unix://{self.socket}"

    @property
    def flag(self) -> str:
        return f"--{self.kind}-host"

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(transport=httpx.HTTPTransport(uds=str(self.socket)), base_url="http://engine", timeout=timeout)

    def alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with self.client(timeout=5) as c:
                return c.get("/_ping").status_code == 200
        except httpx.HTTPError:
            return False

    def load(self, archive: Path) -> None:
        """`docker load` of a docker-archive tar, through the API."""
        with self.client() as c, open(archive, "rb") as fh:
            r = c.post("/images/load", params={"quiet": "1"}, content=fh, headers={"Content-Type": "application/x-tar"})
        assert r.status_code == 200 and b"rror" not in r.content, r.content[:500]

    def inspect(self, name: str) -> dict[str, Any] | None:
        with self.client() as c:
            r = c.get(f"/images/{quote(name, safe='/:@')}/json")
        if r.status_code == 404:
            return None
        r.raise_for_status()
        doc: dict[str, Any] = r.json()
        return doc

    def remove(self, name: str) -> None:
        with self.client() as c:
            r = c.delete(f"/images/{quote(name, safe='/:@')}", params={"force": "1"})
        assert r.status_code in (200, 404), r.content[:300]

    def tag(self, name: str, repo: str, tag: str) -> None:
        with self.client() as c:
            r = c.post(f"/images/{quote(name, safe='/:@')}/tag", params={"repo": repo, "tag": tag})
        assert r.status_code in (200, 201), r.content[:300]


def _pid(home: Path) -> int | None:
    try:
        pid = int((home / "pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _start(engine: Engine, cmd: list[str]) -> Engine:
    """Under the engine's lock: reuse it when it answers, else (re)start it and wait for its ping."""
    with locked(f"engine-{engine.kind}"):
        if _pid(engine.home) is not None and engine.alive():
            return engine
        stop(engine)
        engine.home.mkdir(parents=True, exist_ok=True)
        with open(engine.home / "log", "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)  # outlives this test process: later runs reuse it
        (engine.home / "pid").write_text(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if engine.alive():
                return engine
            time.sleep(0.2)
        tail = (engine.home / "log").read_bytes()[-800:].decode(errors="replace")
        stop(engine)
        missing(f"{engine.kind} engine did not start ({' '.join(cmd[:1])}): {tail}")


def docker_engine() -> Engine:
    """Our dockerd (skipped with the reason when it cannot run here; under CI=true that fails)."""
    if not os.path.exists(DOCKERD):
        missing(f"{DOCKERD} not installed (Debian's docker.io; scripts/test installs it)")
    home = ENGINES / "docker"
    engine = Engine("docker", home)
    return _start(engine, [
        DOCKERD, "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
        "--data-root", str(home / "root"), "--exec-root", str(home / "exec"), "--pidfile", str(home / "dockerd.pid"),
        "-H", engine.address,
    ])


def podman_engine() -> Engine:
    """Podman's API service on our own storage (vfs), the same way."""
    if not os.path.exists(PODMAN):
        missing(f"{PODMAN} not installed (Debian's podman; scripts/test installs it)")
    home = ENGINES / "podman"
    engine = Engine("podman", home)
    return _start(engine, [
        PODMAN, "--root", str(home / "root"), "--runroot", str(home / "run"), "--storage-driver", "vfs",
        "system", "service", "--time", "0", engine.address,
    ])


def stop(engine: Engine) -> None:
    """Stop an engine of ours by its pid (never by name)."""
    pid = _pid(engine.home)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    (engine.home / "pid").unlink(missing_ok=True)


@contextmanager
def container_slot() -> Iterator[int]:
    """One of MAX_CONTAINERS slots shared by every test process: hold it while a container runs."""
    ENGINES.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(MAX_CONTAINERS):
            fh = open(ENGINES / f"container-slot-{slot}.lock", "w")  # noqa: SIM115 - held while the slot is
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                yield slot
            finally:
                fh.close()
            return
        time.sleep(0.2)


if __name__ == "__main__" and sys.argv[1:] == ["stop"]:
    for kind in ("docker", "podman"):
        stop(Engine(kind, ENGINES / kind))
