"""What the notification tests share: a real HTTP receiver on 127.0.0.1 (http.server in a thread) that
answers as each test scripts it, the signature check written from docs/notifications.md (the receiver's
side, not hullscan's code), a clock the tests move instead of waiting, and the change entries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TESTDATA = Path(__file__).parent / "testdata"
SECRET = "whsec-test-0f5d2c"  # the endpoints' HMAC secret in these tests (HOOK_SECRET)
IMAGE = "sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741"  # debian:12 amd64 manifest digest (any real digest)


def changes() -> list[dict[str, Any]]:
    return json.loads((TESTDATA / "changes.json").read_text())


def verify(secret: bytes, headers: dict[str, str], body: bytes, now: float, tolerance: float = 300) -> bool:
    """The receiver's check, written from docs/notifications.md "Verifying a request" (not from hullscan's code)."""
    ts = headers.get("x-hullscan-timestamp", "")
    sig = headers.get("x-hullscan-signature", "")
    if not ts.isdigit() or not sig.startswith("sha256="):
        return False
    if abs(now - int(ts)) > tolerance:
        return False
    expected = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig.removeprefix("sha256="))


class Clock:
    """Epoch seconds that move only when told (or when a deliverer 'sleeps')."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answer: object

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted answer (then 200): an int status, "timeout" (answers
    200 after `slow` seconds, past the client's timeout) or "hang" (waits for `release`)."""

    port: int = 0
    script: list[object] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    slow: float = 1.5
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    delay: float = 0.0
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hullscan"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else 200
                    receiver.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body, answer))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if answer == "timeout":
                    time.sleep(receiver.slow)
                    answer = 200
                elif answer == "hang":
                    receiver.hanging.set()
                    receiver.release.wait(30)
                    answer = 200
                try:
                    self.send_response(int(answer))  # type: ignore[call-overload]
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up (timeout) or died
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None
