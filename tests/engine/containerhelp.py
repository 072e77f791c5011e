"""Images and running containers for the container tests (tests/engine/test_container*.py) and the bench.

The images are built here from real data: Debian 12 minbase's os-release and dpkg status (four
packages: hostname 3.23+nmu1, sed 4.9-1+deb12u1, usr-is-merged 37~deb12u1, zlib1g 1:1.2.13.dfsg-1;
tests/inventory/testdata/dpkg/debian-12-minbase__licenses, PROVENANCE.md there), a Python distribution's
METADATA (six 1.16.0, as pip writes it) and the host's static busybox (Debian's busybox-static) as the
shell the containers run. Containers run with `--network none` (no network here), each in one of
enginehelp's container slots, and are removed afterwards.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import builders as b

from enginehelp import Engine, container_slot
from testsupport import require_tool

HERE = Path(__file__).resolve().parent
MINBASE = HERE.parent / "inventory" / "testdata" / "dpkg" / "debian-12-minbase__licenses"
TOKEN = (HERE.parent / "secrets/testdata/trivy-scanner/builtin-rule-secret.txt").read_text().splitlines()[0].split("=", 1)[1]
"""Trivy's own test value for its `github-pat` rule (tests/secrets/testdata/trivy-scanner/PROVENANCE.md)."""
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "sed", "awk", "mkdir", "printf", "sleep", "ln", "dd", "cat", "echo", "rm", "mv", "head", "true")
SITE = "usr/lib/python3/dist-packages"
SIX = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nSummary: Python 2 and 3 compatibility utilities\n"


@dataclass(frozen=True)
class Built:
    tag: str
    archive: Path


def busybox() -> bytes:
    require_tool(BUSYBOX)  # Debian busybox-static (scripts/test installs it)
    return Path(BUSYBOX).read_bytes()


def build(out: Path, tag: str, marker: str = "") -> Built:
    """Two layers: the Debian base (busybox, os-release, dpkg status, /tmp) and the application (six's
    dist-info and /app/main.sh; `marker` makes another image of the same base)."""
    base = b.layer([
        b.d("bin"), b.f("bin/busybox", busybox(), mode=0o755), *(b.sym(f"bin/{a}", "busybox") for a in APPLETS),
        b.d("etc"), b.f("etc/os-release", (MINBASE / "etc/os-release").read_bytes()),
        b.d("var"), b.d("var/lib"), b.d("var/lib/dpkg"),
        b.f("var/lib/dpkg/status", (MINBASE / "var/lib/dpkg/status").read_bytes()),
        b.d("tmp"), b.d("usr"), b.d("usr/lib"), b.d("usr/lib/python3"), b.d(SITE),
    ], compression="", created_by="ADD debian-12-minbase /")
    app = b.layer([
        b.d(f"{SITE}/six-1.16.0.dist-info"), b.f(f"{SITE}/six-1.16.0.dist-info/METADATA", SIX),
        b.d("app"), b.f("app/main.sh", "#!/bin/sh\necho hello\n" + marker, mode=0o755),
    ], compression="", created_by="COPY app /app")
    config = {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"], "Labels": {"org.example.team": "payments"}}
    return Built(tag, b.docker_archive(out, [base, app], tags=(tag,), config=b.config_doc([base, app], config=config)))


DRIFT_SCRIPT = f"""set -e
mkdir -p /{SITE}/requests-2.31.0.dist-info
printf 'Metadata-Version: 2.1\\nName: requests\\nVersion: 2.31.0\\n' > /{SITE}/requests-2.31.0.dist-info/METADATA
sed -i 's/^Version: 1.16.0$/Version: 1.17.0/' /{SITE}/six-1.16.0.dist-info/METADATA
sed -i '/^Package: sed$/,/^$/d' /var/lib/dpkg/status
printf 'GITHUB_PAT=%s\\n' "$1" > /app/.env
"""
"""What the drift container does after it starts (its expected drift is read off these lines):
requests 2.31.0 installed (a dist-info written), six upgraded 1.16.0 -> 1.17.0 (its METADATA edited in
place: a runtime file shadowing the image's), sed's stanza deleted from the dpkg status (sed removed),
a GitHub token written to /app/.env."""


class Running:
    """A container of ours: id and name, and the engine it runs on."""

    def __init__(self, engine: Engine, cid: str, name: str) -> None:
        self.engine, self.id, self.name = engine, cid, name

    def kill(self) -> None:
        with self.engine.client() as c:
            c.post(f"/containers/{self.id}/kill")


@contextmanager
def running(engine: Engine, image: str, script: str, *args: str, name: str | None = None,
            ready_timeout: float = 120.0, slot: bool = True) -> Iterator[Running]:
    """Run `sh -c SCRIPT sh ARGS...` in a container of IMAGE (network none), wait until the script is
    done (it prints `ready`, then sleeps), yield it; remove it afterwards. `slot=False`: the caller
    holds every container slot already (the bench)."""
    name = name or f"hs-test-{os.getpid()}-{time.monotonic_ns()}"
    nofile, nproc = 1024, 4096  # below any hard limit an engine of ours inherits
    body: dict[str, Any] = {
        "Image": image, "Cmd": ["/bin/sh", "-c", script + "\necho ready\nexec sleep 3600", "sh", *args],
        "Labels": {"org.example.test": "container"},
        # podman asks for nofile and nproc limits above this sandbox's hard limits unless told otherwise
        "HostConfig": {"NetworkMode": "none", "Ulimits": [{"Name": "nofile", "Soft": nofile, "Hard": nofile},
                                                          {"Name": "nproc", "Soft": nproc, "Hard": nproc}]},
    }
    with container_slot() if slot else nullcontext(), engine.client() as c:
        r = c.post("/containers/create", params={"name": name}, json=body)
        assert r.status_code == 201, r.content[:500]
        cid = r.json()["Id"]
        try:
            r = c.post(f"/containers/{cid}/start")
            assert r.status_code in (204, 304), r.content[:500]
            deadline = time.monotonic() + ready_timeout
            while b"ready" not in c.get(f"/containers/{cid}/logs", params={"stdout": "1", "stderr": "1"}).content:
                state = c.get(f"/containers/{cid}/json").json()["State"]
                logs = c.get(f"/containers/{cid}/logs", params={"stdout": "1", "stderr": "1"}).content[-500:]
                assert state["Running"], f"container exited: {state} {logs!r}"
                assert time.monotonic() < deadline, "container not ready in time"
                time.sleep(0.2)
            yield Running(engine, cid, name)
        finally:
            c.delete(f"/containers/{cid}", params={"force": "1"})


def image_id(engine: Engine, tag: str) -> str:
    doc = engine.inspect(tag)
    assert doc is not None, tag
    return str(doc["Id"])


def quoted(name: str) -> str:
    return quote(name, safe="/:@")


class Proxy:
    """A unix-socket proxy in front of an engine that sees each request line (`GET /path?query HTTP/1.1`)
    before forwarding it: the tests count the image save streams a scan opens and the bytes it reads,
    and stop a container at the moment a scan starts reading its files."""

    def __init__(self, upstream: Path, sock: Path, hook: Any = None) -> None:
        import socketserver
        import threading

        self.upstream, self.sock, self.hook = upstream, sock, hook
        self.requests: list[str] = []
        self.bytes_down = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self._server = Server(str(sock), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"unix://{self.sock}"

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, fragment: str) -> int:
        with self._lock:
            return sum(fragment in r for r in self.requests)

    def _serve(self, client: Any) -> None:
        import socket
        import threading

        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(str(self.upstream))

        def down() -> None:
            try:
                while data := up.recv(1 << 16):
                    with self._lock:
                        self.bytes_down += len(data)
                    client.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=down, daemon=True)
        t.start()
        try:
            while data := client.recv(1 << 16):
                for line in data.split(b"\r\n"):
                    if line[:4] in (b"GET ", b"POST", b"HEAD", b"DELE", b"PUT "):
                        text = line.decode(errors="replace")
                        with self._lock:
                            self.requests.append(text)
                        if self.hook is not None:
                            self.hook(text)
                up.sendall(data)
        except OSError:
            pass
        finally:
            try:
                up.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            t.join(timeout=30)
            up.close()
