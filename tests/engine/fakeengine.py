"""A tiny fake engine on a unix socket, for what the real one will not do: serve a save stream that
disagrees with its manifest, or close the socket mid-stream. It answers `/_ping`, the inspect of one
image and that image's `/get` with whatever bytes the test gives."""

from __future__ import annotations

import hashlib
import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any


@dataclass
class Served:
    inspect: dict[str, Any]
    save: bytes
    cut_at: int | None = None
    """Send the full Content-Length but close the socket after this many body bytes."""


def inspect_of(config: bytes, diff_ids: list[str], tag: str) -> dict[str, Any]:
    """What dockerd's `/images/{name}/json` says of an image with this config."""
    return {"Id": "sha256:" + hashlib.sha256(config).hexdigest(), "RepoTags": [tag], "RepoDigests": [],
            "Os": "linux", "Architecture": "amd64", "RootFS": {"Type": "layers", "Layers": diff_ids}}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    served: Served


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def address_string(self) -> str:
        return "fake"

    def _send(self, status: int, body: bytes, ctype: str = "application/json", cut_at: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cut_at is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:cut_at])
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        served = self.server.served
        path = self.path.split("?", 1)[0]
        image_id = served.inspect["Id"]
        names = {image_id, *served.inspect["RepoTags"]}
        if path == "/_ping":
            self._send(200, b"OK", "text/plain")
        elif path.startswith("/images/") and path.endswith("/json") and path[8:-5] in names:
            self._send(200, json.dumps(served.inspect).encode())
        elif path == f"/images/{image_id}/get":
            self._send(200, served.save, "application/x-tar", served.cut_at)
        else:
            self._send(404, b'{"message":"No such image"}')


@contextmanager
def fake_engine(sock: Path, served: Served) -> Iterator[str]:
    """Serve on `sock`; yields the address for --docker-host."""
    server = _Server(str(sock), _Handler)
    server.served = served
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"unix://{sock}"
    finally:
        server.shutdown()
        server.server_close()
