"""A stand-in Kubernetes API server on 127.0.0.1 for the tests: HTTPS with a CA made here, answers the list
JSON of the API (`{"kind": "PodList", "items": [...], "metadata": {"continue": ...}}`) for the paths
hullscan asks, pages with `limit`/`continue` (at most `page_cap` items a page, as a server may answer
fewer than asked), 401 (a Status object) without the bearer token or a client certificate signed by
its CA, 403 for the namespaces it is told to forbid, and the secrets it holds. Nothing here imports
hullscan.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

KINDS = {"pods": "Pod", "deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
         "replicasets": "ReplicaSet", "jobs": "Job", "cronjobs": "CronJob"}


@dataclass
class Pki:
    """A CA, the server's certificate for 127.0.0.1 and a client certificate, PEM files in `root`."""

    root: Path
    ca: Path = field(init=False)
    server_cert: Path = field(init=False)
    server_key: Path = field(init=False)
    client_cert: Path = field(init=False)
    client_key: Path = field(init=False)

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)
        self.root.mkdir(parents=True, exist_ok=True)

        def name(cn: str) -> x509.Name:
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def pem_key(key: Any) -> bytes:
            return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (x509.CertificateBuilder().subject_name(name("test-kubernetes-ca")).issuer_name(name("test-kubernetes-ca"))
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))

        def leaf(cn: str, usage: Any, san: list[Any] | None) -> tuple[bytes, bytes]:
            key = ec.generate_private_key(ec.SECP256R1())
            b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject).public_key(key.public_key())
                 .serial_number(x509.random_serial_number())
                 .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                 .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
            if san:
                b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
            return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), pem_key(key)

        self.ca = self.root / "ca.crt"
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        crt, key = leaf("kube-apiserver", ExtendedKeyUsageOID.SERVER_AUTH, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.server_cert, self.server_key = self.root / "apiserver.crt", self.root / "apiserver.key"
        self.server_cert.write_bytes(crt)
        self.server_key.write_bytes(key)
        crt, key = leaf("hullscan-reader", ExtendedKeyUsageOID.CLIENT_AUTH, None)
        self.client_cert, self.client_key = self.root / "client.crt", self.root / "client.key"
        self.client_cert.write_bytes(crt)
        self.client_key.write_bytes(key)


class ApiServer:
    def __init__(self, pki: Pki, objects: list[dict[str, Any]], *, token: str, secrets: dict[tuple[str, str], dict[str, Any]],
                 forbidden: set[str] | None = None, page_cap: int = 2) -> None:
        self.objects, self.token, self.secrets = objects, token, secrets
        self.forbidden = forbidden if forbidden is not None else set()
        self.page_cap = page_cap
        self.requests: list[tuple[str, int]] = []
        """(path with query, status) of every request answered."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                status, body = server.answer(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                server.requests.append((self.path, status))

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        ctx.load_verify_locations(pki.ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL  # a token or a client certificate: kube-apiserver's choice too
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, req: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        authed = req.headers.get("Authorization") == f"Bearer {self.token}" or bool(req.connection.getpeercert())  # type: ignore[attr-defined]
        if not authed:
            return 401, _status(401, "Unauthorized", "Unauthorized")
        url = urlparse(req.path)
        parts = url.path.strip("/").split("/")
        group = parts[:2] if parts[0] == "api" else parts[:3]
        rest = parts[len(group):]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
            if namespace in self.forbidden:
                return 403, _status(403, "Forbidden", f'{rest[0]} is forbidden: User "test" cannot list resource '
                                                      f'"{rest[0]}" in API group "" in the namespace "{namespace}"')
        if rest and rest[0] == "secrets" and len(rest) == 2:
            found = self.secrets.get((namespace or "", rest[1]))
            return (200, found) if found else (404, _status(404, "NotFound", f'secrets "{rest[1]}" not found'))
        if len(rest) != 1 or rest[0] not in KINDS:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        kind = KINDS[rest[0]]
        q = parse_qs(url.query)
        selector = dict(kv.split("=", 1) for kv in q.get("labelSelector", [""])[0].split(",") if "=" in kv)
        items = [o for o in self.objects if o["kind"] == kind and (namespace is None or o["metadata"]["namespace"] == namespace)
                 and all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
        start = int(base64.b64decode(q["continue"][0])) if "continue" in q else 0
        limit = min(int(q.get("limit", ["500"])[0]), self.page_cap)
        page = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items[start:start + limit]]
        meta: dict[str, Any] = {"resourceVersion": "10063"}
        if start + limit < len(items):
            meta["continue"] = base64.b64encode(str(start + limit).encode()).decode()
        version = "v1" if group == ["api", "v1"] else "/".join(group[1:])
        return 200, {"kind": f"{kind}List", "apiVersion": version, "metadata": meta, "items": page}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
