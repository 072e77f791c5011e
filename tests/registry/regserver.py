"""Real registries for the tests: Debian's `docker-registry` (the CNCF distribution registry) on
127.0.0.1 (open, htpasswd basic auth, bearer-token auth, TLS), the small token server it trusts,
a fault-injecting HTTP proxy, and `skopeo copy` to push. Nothing here imports hullscan.

Every process is started on a free port and stopped by its own pid.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(directory: Path, cn: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate (RSA 2048) valid for 127.0.0.1 and localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    crt, pem = directory / f"{cn}.crt", directory / f"{cn}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    return crt, pem


class QuietServer(ThreadingHTTPServer):
    """A test server that does not print a client's dropped connection: hullscan gives up on a faulty
    response mid-stream on purpose, and the in-process CLI tests read the process's stderr."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class TokenServer:
    """The registry's token service (Docker token auth spec): RS256 JWTs with an x5c header.
    Anonymous callers get pull only; USERS get what they ask for."""

    def __init__(self, directory: Path, users: dict[str, str]) -> None:
        import jwt  # noqa: F401  (fail early when PyJWT is missing)
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        self.users = users
        self.cert_path, key_path = self_signed(directory, "test-token-issuer")
        self.key = key_path.read_bytes()
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.issued: list[str] = []
        self.requests: list[dict] = []
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                q = parse_qs(urlparse(self.path).query)
                user = None
                auth = self.headers.get("Authorization", "")
                server.requests.append({"scope": q.get("scope", []), "auth": auth.split(" ")[0]})
                if auth.startswith("Basic "):
                    name, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    if server.users.get(name) != pw:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = name
                access = []
                for scope in q.get("scope", []):
                    typ, name_, actions = scope.split(":", 2)
                    acts = actions.split(",")
                    if user is None:
                        acts = [a for a in acts if a == "pull"]
                    access.append({"type": typ, "name": name_, "actions": acts})
                token = server.token(user, q.get("service", [""])[0], access)
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = QuietServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token(self, user: str | None, service: str, access: list[dict]) -> str:
        import jwt

        now = int(time.time())
        claims = {"iss": "test-issuer", "sub": user or "", "aud": service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        tok = jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": self.x5c})
        self.issued.append(tok)
        return tok

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Registry:
    """One `docker-registry serve` process on 127.0.0.1."""

    root: Path
    auth: str = "open"
    """open, basic or token."""
    users: dict[str, str] = field(default_factory=dict)
    token: TokenServer | None = None
    tls: tuple[Path, Path] | None = None
    port: int = 0
    proc: subprocess.Popen | None = None
    extra: str = ""
    _sentinels: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    def start(self) -> Registry:
        exe = "docker-registry"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        lines = [
            "version: 0.1",
            "log: {level: info, accesslog: {disabled: false}}",
            f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}, delete: {{enabled: true}}}}",
        ]
        http_ = f"http: {{addr: 127.0.0.1:{self.port}, secret: test-secret"
        if self.tls:
            http_ += f", tls: {{certificate: {self.tls[0]}, key: {self.tls[1]}}}"
        lines.append(http_ + "}")
        if self.auth == "basic":
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text("")
            for user, pw in self.users.items():
                subprocess.run(["htpasswd", "-Bb", str(htpasswd), user, pw], check=True, capture_output=True)
            lines.append(f"auth: {{htpasswd: {{realm: basic-realm, path: {htpasswd}}}}}")
        elif self.auth == "token":
            assert self.token is not None
            lines.append(
                f'auth: {{token: {{realm: "{self.token.realm}", service: test-registry, issuer: test-issuer, '
                f"rootcertbundle: {self.token.cert_path}}}}}"
            )
        if self.extra:
            lines.append(self.extra)
        cfg = self.root / "config.yml"
        cfg.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([exe, "serve", str(cfg)], stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        ctx = ssl._create_unverified_context()
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                scheme = "https" if self.tls else "http"
                urllib.request.urlopen(f"{scheme}://{self.host}/v2/", timeout=1, context=ctx if self.tls else None)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for auth
            except OSError as err:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"docker-registry exited: {self.log.read_text()[-2000:]}") from err
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def access_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the registry served before this call, from its own
        access log. The registry writes a line just after each response, so a quiet spell proves
        nothing on a loaded machine: a sentinel request is sent and the log read once its line is in
        (the lines of requests answered before it are written by then); the sentinel is left out."""
        import re

        self._sentinels += 1
        sentinel = f"/v2/hullscan-test-sentinel-{self._sentinels}/tags/list"
        scheme = "https" if self.tls else "http"
        ctx = ssl._create_unverified_context() if self.tls else None
        try:
            urllib.request.urlopen(f"{scheme}://{self.host}{sentinel}", timeout=10, context=ctx)
        except urllib.error.HTTPError:
            pass  # 401 or 404: answered, and logged
        deadline = time.time() + 30
        while sentinel not in self.log.read_text(errors="replace"):
            if time.time() > deadline:
                raise RuntimeError(f"the registry did not log {sentinel}")
            time.sleep(0.02)
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            m = re.search(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[0-9.]+" (\d{3})', line)
            if m and "hullscan-test-sentinel-" not in m.group(2):
                out.append((m.group(1), m.group(2), int(m.group(3))))
        return out


def skopeo_push(src: str, dest: str, *, creds: str = "", all_: bool = False, fmt: str = "") -> None:
    """`skopeo copy SRC docker://DEST` (plain HTTP or unverified TLS to the test registry)."""
    cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
    if creds:
        cmd += ["--dest-creds", creds]
    if all_:
        cmd.append("--all")
    if fmt:
        cmd += ["--format", fmt]
    cmd += [src, f"docker://{dest}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr}")


@dataclass
class Fault:
    """Inject into the first `times` requests whose path contains `match` (and method, if given)."""

    match: str
    status: int = 0
    """Answer this status instead of forwarding (429, 500…)."""
    retry_after: str = ""
    truncate_at: int = -1
    """Forward, but cut the body after this many bytes (Content-Length kept: the client sees a short read)."""
    corrupt_at: int = -1
    """Forward, but flip one bit of the body at this offset."""
    times: int = 1
    method: str = "GET"
    hits: int = 0


class FaultProxy:
    """A plain HTTP proxy in front of a registry that records every request and injects faults."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _fault(self) -> Fault | None:
                with proxy.lock:
                    for f in proxy.faults:
                        if f.match in self.path and f.method == self.command and f.hits < f.times:
                            f.hits += 1
                            return f
                return None

            def _handle(self) -> None:
                fault = self._fault()
                if fault is not None and fault.status:
                    with proxy.lock:
                        proxy.requests.append((self.command, self.path, fault.status))
                    body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}'
                    self.send_response(fault.status)
                    if fault.retry_after:
                        self.send_header("Retry-After", fault.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length) if length else None
                conn.request(self.command, self.path, body=body_in, headers=headers)
                resp = conn.getresponse()
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, resp.status))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                        self.send_header(k, v)
                data = resp.read()
                if resp.getheader("Content-Length") is None:
                    self.send_header("Content-Length", str(len(data)))
                if fault is not None and 0 <= fault.corrupt_at < len(data):
                    data = data[: fault.corrupt_at] + bytes([data[fault.corrupt_at] ^ 0x01]) + data[fault.corrupt_at + 1 :]
                if fault is not None and fault.truncate_at >= 0:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data[: fault.truncate_at])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_HEAD = _handle

        self.httpd = QuietServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def blob_gets(self) -> list[str]:
        return [p for m, p, s in self.requests if m == "GET" and "/blobs/" in p]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
