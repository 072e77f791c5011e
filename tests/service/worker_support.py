"""Helpers of the worker tests and bench/service_bench.py (imported by name: conftest names are ambiguous
across directories): a throwaway PostgreSQL database, images sharing base layers pushed into a real
registry, a loopback TCP proxy that can cut the broker off, real `hullscan worker` processes.

Images: every image is base A (the real Alpine 3.10 root of Trivy's test image, tests/stored/testdata,
PROVENANCE.md there: 14 apk packages) + a shared middle layer (idna 3.6 dist-info) + a layer of its own
(`app<i>` 1.0.<i> dist-info). Built with tests/image/builders.py (stdlib tarfile and hashlib: nothing here
imports hullscan), so the distinct layers are known without hullscan: 2 shared + one per image.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(TESTS / "image"))
sys.path.insert(0, str(TESTS / "registry"))
sys.path.insert(0, str(TESTS))

from builders import f, layer, oci_image  # noqa: E402
from regserver import Registry, free_port, skopeo_push  # noqa: E402

from testsupport import REPO, missing, require_module, require_tool  # noqa: E402

ALPINE = TESTS / "stored" / "testdata" / "alpine-3.10"
SITE = "usr/lib/python3.7/site-packages"
PG_ADMIN = os.environ.get("HULLSCAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BROKER = os.environ.get("HULLSCAN_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
HULLSCAN = [sys.executable, "-m", "hullscan"]


def _dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@dataclass
class Images:
    refs: list[str]
    """`host/test/app<i>:1` in the registry."""
    layers: set[str]
    """Every distinct layer diff_id of them."""


def push_images(root: Path, registry_host: str, count: int) -> Images:
    """`count` images sharing two base layers (module docstring), pushed with skopeo."""
    require_tool("skopeo")
    base = layer([f("etc/os-release", (ALPINE / "etc/os-release").read_bytes()),
                  f("etc/alpine-release", (ALPINE / "etc/alpine-release").read_bytes()),
                  f("lib/apk/db/installed", (ALPINE / "lib/apk/db/installed").read_bytes())],
                 created_by="ADD alpine-minirootfs.tar.gz /")
    middle = layer([_dist("idna", "3.6")], created_by="RUN pip install idna")
    refs, diff_ids = [], {base.diff_id, middle.diff_id}
    for i in range(count):
        own = layer([_dist(f"app{i}", f"1.0.{i}")], created_by=f"RUN pip install app{i}")
        diff_ids.add(own.diff_id)
        path = oci_image(root / f"app{i}", [base, middle, own], tag="1")
        ref = f"{registry_host}/test/app{i}:1"
        skopeo_push(f"oci:{path}:1", ref)
        refs.append(ref)
    return Images(refs, diff_ids)


def start_registry(root: Path) -> Registry:
    require_tool("docker-registry")
    return Registry(root).start()


# -- PostgreSQL -----------------------------------------------------------------------------------------


def create_database() -> str:
    """A new database on the machine's PostgreSQL (dropped by `drop_database`): the state store, the vulnerability
    DB and the layer cache of one test run, apart from every other run."""
    psycopg = require_module("psycopg")
    name = f"hs_worker_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:
        missing(f"PostgreSQL not reachable at {PG_ADMIN}: {err}")
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    psycopg = require_module("psycopg")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def import_feeds(db_url: str, env: dict[str, str]) -> None:
    """The demo feeds (examples/feeds, their PROVENANCE there) into the vulnerability DB at `db_url`."""
    p = subprocess.run([*HULLSCAN, "db", "import", str(REPO / "examples" / "feeds"), "--db", db_url],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr


# -- the broker -----------------------------------------------------------------------------------------


def require_broker(url: str = BROKER) -> None:
    host, port = "127.0.0.1", 5672
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as err:
        missing(f"RabbitMQ not reachable at {host}:{port}: {err}")


def delete_queues(url: str, prefix: str) -> None:
    """Remove a test run's queues from the shared RabbitMQ."""
    from kombu import Connection

    with Connection(url, connect_timeout=3) as conn:
        channel = conn.default_channel
        for name in (f"{prefix}.scan", f"{prefix}.maintenance"):
            try:
                channel.queue_delete(name)
            except Exception:  # noqa: BLE001, S110 — never declared in this run
                pass


class TcpProxy:
    """A loopback TCP proxy in front of `upstream` (host, port). `pause()` cuts every connection and refuses
    new ones (accepted, then closed at once: the broker is unreachable); `resume()` forwards again."""

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        """Seconds to hold each chunk the upstream sends (a slow registry)."""
        self.port = free_port()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.paused = threading.Event()
        self.stopped = threading.Event()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.paused.is_set():
                client.close()
                continue
            try:
                up = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, up))
            threading.Thread(target=self._pump, args=(client, up), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while not self.stopped.is_set() and not self.paused.is_set():
                for key, _ in sel.select(0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if self.delay and key.fileobj is b:
                        time.sleep(self.delay)
                    key.data.sendall(data)
        except OSError:
            pass
        finally:
            sel.close()
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def pause(self) -> None:
        self.paused.set()

    def resume(self) -> None:
        self.paused.clear()

    def stop(self) -> None:
        self.stopped.set()
        self.server.close()


# -- workers --------------------------------------------------------------------------------------------


@dataclass
class Service:
    """The environment of one test run's service: every process of it gets `env`."""

    root: Path
    db_url: str
    broker_url: str
    prefix: str = field(default_factory=lambda: f"hs-test-{uuid.uuid4().hex[:10]}")
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_paths: dict[int, Path] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HULLSCAN_")}
        env.update({
            "HULLSCAN_STATE_URL": self.db_url, "HULLSCAN_DB_URL": self.db_url, "HULLSCAN_CACHE_URL": self.db_url,
            "HULLSCAN_BROKER_URL": self.broker_url, "HULLSCAN_QUEUE_PREFIX": self.prefix,
            "XDG_DATA_HOME": str(self.root / "data"), "XDG_CACHE_HOME": str(self.root / "cache"),
            "HULLSCAN_JOB_BACKOFF": "0.5", "HULLSCAN_HTTP_BACKOFF": "0.05", "HULLSCAN_PARALLEL": "1",
            **self.extra_env,
        })
        return env

    def apply(self) -> None:
        """This process's environment as the service's (the test submits jobs itself)."""
        for k in [k for k in os.environ if k.startswith("HULLSCAN_")]:
            del os.environ[k]
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("HULLSCAN_", "XDG_"))})

    def start_worker(self, *args: str, name: str = "") -> subprocess.Popen[bytes]:
        path = self.root / f"worker-{name or len(self.workers)}.log"
        log = open(path, "wb")  # noqa: SIM115 — the process's
        proc = subprocess.Popen([*HULLSCAN, "worker", "--concurrency", "1", "--loglevel", "INFO", *args],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(proc)
        self.log_paths[proc.pid] = path
        return proc

    def worker_of(self, job_id: str) -> subprocess.Popen[bytes]:
        """The live worker that received the job (its log names the task, whose id is the job's)."""
        return next(w for w in self.workers
                    if w.poll() is None and job_id in self.log_paths[w.pid].read_text(errors="replace"))

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, 15)
                except ProcessLookupError:
                    continue
        for proc in self.workers:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.root.glob("worker-*.log")))


def wait_until(what: str, check: Callable[[], Any], timeout: float, service: Service | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n--- worker logs ---\n{service.logs()}" if service else ""))



class PrivateCluster:
    """A PostgreSQL cluster of the test's own (`initdb` in a temporary directory, `pg_ctl` on a free port):
    the one a test may stop and restart, never the machine's shared server."""

    def __init__(self) -> None:
        require_tool("initdb")
        require_tool("pg_ctl")
        # its own directory under /tmp: pytest's are private to root, and the server runs as `postgres`
        self.root = Path(tempfile.mkdtemp(prefix="hullscan-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "pgdata"
        self.port = free_port()
        self._as_owner(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])

    def _as_owner(self, cmd: list[str]) -> None:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as its own user
            subprocess.run(["chown", "-R", "postgres", str(self.root)], check=True)
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{' '.join(cmd)}: {p.stdout}{p.stderr}"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._as_owner(["pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "-t", "60", "-o",
                        f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])

    def close(self) -> None:
        """Stop the server and remove the cluster."""
        try:
            self._as_owner(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self._as_owner(["pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"), "-m", "fast", "-w", "-t", "60", "-o",
                        f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "restart"])
