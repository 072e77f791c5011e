"""The one HTTP client (hullscan.http) against a real HTTP server on 127.0.0.1: what is retried and how
long it waits (Retry-After as seconds or an HTTP date, clamped; exponential backoff), what is not
retried, and a body cut short fetched again. The feed downloader and the registry client are tested
on top of it in tests/vulndb and tests/registry (both wait alike: test_registry_faults.py)."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hullscan.errors import FetchError
from hullscan.http import MAX_RETRY_AFTER, HttpClient, Retry, RetryPolicy, TransferError, default_policy, retry_after

NOW = 1_750_000_000.0


def test_retry_after_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0 and retry_after(" 120 ") == 120.0
    assert retry_after(email.utils.formatdate(NOW + 30, usegmt=True), now=NOW) == 30.0
    assert retry_after(email.utils.formatdate(NOW + 30).replace("+0000", "-0000"), now=NOW) == 30.0
    assert retry_after(email.utils.formatdate(NOW - 30, usegmt=True), now=NOW) == 0.0  # already past
    for unusable in (None, "", "soon", "1.5", "-3"):
        assert retry_after(unusable, now=NOW) is None  # the backoff applies instead


def test_waits_clamped_and_doubling() -> None:
    p = RetryPolicy(backoff=0.5, jitter=0)
    assert [p.wait(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert (p.wait(1, 7.0), p.wait(3, 0.0), p.wait(1, 3600.0)) == (7.0, 0.0, MAX_RETRY_AFTER)
    spread = {RetryPolicy(backoff=1.0).wait(2, None) for _ in range(200)}
    assert len(spread) > 100 and min(spread) >= 1.5 and max(spread) <= 2.5  # 2 s, give or take 25 %


def test_the_backoff_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HULLSCAN_HTTP_BACKOFF", "0.01")
    assert default_policy() == RetryPolicy(backoff=0.01)
    monkeypatch.setenv("HULLSCAN_HTTP_BACKOFF", "fast")
    with pytest.raises(FetchError, match="HULLSCAN_HTTP_BACKOFF"):
        default_policy()


class Server:
    """Answers per path from a script of (status, headers, body) steps; the last step repeats.
    A step whose body is cut short announces the whole length and closes the connection early."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple[int, dict[str, str], bytes, bool]]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.hits.append(self.path)
                steps = server.script[self.path]
                status, headers, body, cut = steps.pop(0) if len(steps) > 1 else steps[0]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                if cut:
                    self.wfile.flush()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


def _client(sleeps: list[float], attempts: int = 5) -> HttpClient:
    return HttpClient(policy=RetryPolicy(attempts=attempts, backoff=0.5, jitter=0), sleep=sleeps.append, timeout=10)


def test_5xx_and_429_are_retried_with_the_servers_wait(server: Server) -> None:
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    server.script["/feed"] = [(503, {}, b"", False), (429, {"Retry-After": "7"}, b"", False),
                              (500, {"Retry-After": later}, b"", False), (200, {}, b"data", False)]
    sleeps: list[float] = []
    with _client(sleeps) as c:
        resp = c.send("GET", server.url + "/feed")
    assert (resp.status_code, resp.content) == (200, b"data")
    assert sleeps[:2] == [0.5, 7.0] and 15 < sleeps[2] <= 20 and len(sleeps) == 3
    assert server.hits == ["/feed"] * 4


def test_a_long_retry_after_is_clamped_and_the_attempts_bounded(server: Server) -> None:
    server.script["/busy"] = [(429, {"Retry-After": "3600"}, b"", False)]
    sleeps: list[float] = []
    with _client(sleeps, attempts=3) as c, pytest.raises(TransferError) as err:
        c.send("GET", server.url + "/busy")
    assert sleeps == [MAX_RETRY_AFTER, MAX_RETRY_AFTER] and len(server.hits) == 3
    assert err.value.status == 429 and "3600" in str(err.value) and "after 3 attempts" in str(err.value)


def test_other_statuses_are_the_callers(server: Server) -> None:
    server.script["/missing"] = [(404, {}, b"no", False)]
    sleeps: list[float] = []
    with _client(sleeps) as c:
        assert c.send("GET", server.url + "/missing").status_code == 404
    assert sleeps == [] and server.hits == ["/missing"]


def test_a_cut_body_and_a_rejected_answer_are_fetched_again(server: Server) -> None:
    server.script["/file"] = [(200, {}, b"x" * 100_000, True), (200, {}, b"short", False), (200, {}, b"x" * 100_000, False)]
    sleeps: list[float] = []
    reasons: list[str] = []

    def read(resp: httpx.Response) -> bytes:
        body = resp.read()
        if len(body) < 100_000:
            raise Retry(f"short body ({len(body)} bytes)")
        return body

    with _client(sleeps) as c:
        assert c.fetch("GET", server.url + "/file", read, on_retry=lambda why, wait: reasons.append(why)) == b"x" * 100_000
    assert sleeps == [0.5, 1.0] and len(server.hits) == 3
    assert "truncated" in reasons[0] and reasons[1] == "short body (5 bytes)"


def test_a_refused_connection_is_tried_twice() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    with _client(sleeps) as c, pytest.raises(TransferError) as err:
        c.send("GET", f"http://127.0.0.1:{port}/")
    assert sleeps == [0.5] and err.value.status is None and "ConnectError" in err.value.reason
    assert err.value.exit_code == 3


def test_tls_spoken_to_plain_http_is_not_retried(server: Server) -> None:
    server.script["/"] = [(200, {}, b"", False)]
    sleeps: list[float] = []
    with _client(sleeps) as c, pytest.raises(TransferError):
        c.send("GET", server.url.replace("http://", "https://") + "/")
    assert sleeps == []
