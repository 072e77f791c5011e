"""The Docker / Podman Engine API as hullscan speaks it: find the engine, ping it, ask it about images
and stream them out. Over the project's one HTTP client (http.py), on a unix socket or tcp://.

Where the engine is (docs/engines.md): for `docker`, `--docker-host`, else `DOCKER_HOST`, else
/var/run/docker.sock; for `podman`, `--podman-host`, else $XDG_RUNTIME_DIR/podman/podman.sock, then
/run/podman/podman.sock. Only what the docker CLI itself accepts: `unix://PATH` and `tcp://HOST:PORT`
(plain HTTP; TLS and ssh:// engines are refused with one line).

Every call returns a typed value or raises one error: `EngineDown` (exit 3: nothing answers at the
address, or the engine broke off), `InputError` (exit 2: the engine does not hold the image), `FetchError`
(exit 3: any other answer the engine should not give). The calls: `/_ping`, `/version`,
`/images/{name}/json`, `/images/{name}/get`, and for running containers (image/container.py)
`/containers/json`, `/containers/{id}/json`, `/containers/{id}/changes`, `/containers/{id}/archive`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hullscan.errors import FetchError, InputError, UsageError

if TYPE_CHECKING:
    from hullscan.http import HttpClient


ENGINES = ("docker", "podman")
DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_SOCKETS = ("{XDG_RUNTIME_DIR}/podman/podman.sock", "/run/podman/podman.sock")
PING_TIMEOUT = 5.0
"""Seconds a ping may take: a local engine answers in milliseconds, a hung one must not hold a bare target."""
CALL_TIMEOUT = 60.0
SAVE_TIMEOUT = 600.0
"""Seconds between two reads of a save stream: dockerd 20.10 exports the whole image to its own disk
before the first byte (about 2 s per 128 MB here), so the first read may wait long."""
CHUNK = 1 << 20
MAX_JSON = 16 * 1024 * 1024


class EngineDown(FetchError):
    """Nothing answers at the engine's address, or the connection broke off (exit 3)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.why = why


@dataclass(frozen=True, slots=True)
class EngineHost:
    """Where one engine listens."""

    kind: str
    """docker or podman: the target prefix it serves."""
    address: str
    """As given or found: unix:///path or tcp://host:port."""
    socket: str
    """The unix socket's path; "" over tcp."""
    base_url: str
    """What request URLs start with (a placeholder host over a unix socket)."""

    @classmethod
    def parse(cls, kind: str, address: str) -> EngineHost:
        """An engine address as DOCKER_HOST spells it (a bare absolute path is a unix socket)."""
        text = address.strip()
        if text.startswith("/"):
            text = "unix://" + text
        scheme, sep, rest = text.partition("://")
        if sep and scheme == "unix" and rest.startswith("/"):
            return cls(kind, text, rest, "http://engine")
        if sep and scheme in ("tcp", "http") and rest and "/" not in rest.rstrip("/"):
            return cls(kind, text, "", f"http://{rest.rstrip('/')}")
        raise UsageError(f"{address!r}: not an engine address hullscan speaks to (unix:///PATH or tcp://HOST:PORT; "
                         "TLS and ssh:// engines are not supported)")

    def present(self) -> bool:
        """Whether there is anything to connect to: a unix socket's file exists (tcp: always worth a try)."""
        return not self.socket or os.path.exists(self.socket)


def engine_hosts(kind: str, given: str = "", environ: Mapping[str, str] | None = None) -> list[EngineHost]:
    """The addresses to try for one kind of engine, in order (module docstring)."""
    env = os.environ if environ is None else environ
    if given:
        return [EngineHost.parse(kind, given)]
    if kind == "docker":
        return [EngineHost.parse(kind, env.get("DOCKER_HOST") or DOCKER_SOCKET)]
    if kind != "podman":
        raise UsageError(f"{kind}: not a container engine (choose from {', '.join(ENGINES)})")
    runtime = env.get("XDG_RUNTIME_DIR", "")
    paths = [p.format(XDG_RUNTIME_DIR=runtime) for p in PODMAN_SOCKETS if runtime or "{" not in p]
    return [EngineHost.parse(kind, p) for p in paths]


@dataclass(frozen=True, slots=True)
class EngineVersion:
    """`/version`: what the engine is."""

    name: str
    """The first component's name ("Engine" for dockerd, "Podman Engine" for podman)."""
    version: str
    api_version: str
    os: str
    arch: str


@dataclass(frozen=True, slots=True)
class ImageInspect:
    """`/images/{name}/json`: what identifies an image held by the engine."""

    id: str
    """The image ID: the digest of its config (sha256:…)."""
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    diff_ids: tuple[str, ...]
    """RootFS.Layers: the digests of the uncompressed layer tars, bottom first."""
    os: str
    architecture: str
    variant: str


def parse_inspect(doc: Any, what: str) -> ImageInspect:
    """An image inspect document → ImageInspect; anything missing or mistyped is an InputError."""
    if not isinstance(doc, dict):
        raise InputError(f"{what}: the engine's image description is not a JSON object")
    image_id = doc.get("Id")
    rootfs = doc.get("RootFS") if isinstance(doc.get("RootFS"), dict) else {}
    layers = rootfs.get("Layers") if rootfs else None
    if not isinstance(image_id, str) or not image_id.startswith("sha256:") or len(image_id) != 71:
        raise InputError(f"{what}: the engine gives no usable image ID ({str(image_id)[:80]!r})")
    if not isinstance(layers, list) or not all(isinstance(x, str) and x.startswith("sha256:") for x in layers):
        raise InputError(f"{what}: the engine gives no usable RootFS.Layers")
    return ImageInspect(
        id=image_id,
        repo_tags=_strings(doc.get("RepoTags"), skip="<none>:<none>"),
        repo_digests=_strings(doc.get("RepoDigests"), skip="<none>@<none>"),
        diff_ids=tuple(layers),
        os=_string(doc.get("Os")),
        architecture=_string(doc.get("Architecture")),
        variant=_string(doc.get("Variant")),
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any, skip: str) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str) and v != skip) if isinstance(value, list) else ()


def path_name(name: str) -> str:
    """An image name, ID or name@digest as one URL path part (the API routes `/images/{name:.*}/…`)."""
    return quote(name, safe="/:@")


class EngineClient:
    """One engine's API over a kept-alive connection. `close()` when done."""

    def __init__(self, host: EngineHost, *, http: HttpClient | None = None) -> None:
        self.host = host
        if http is None:
            from hullscan.http import HttpClient, default_policy

            # a refused connection is an engine that is down: no second try; answers are local, so
            # what retries remain (a 5xx) are quick
            http = HttpClient(policy=replace(default_policy(), attempts=3, connect_attempts=1), timeout=CALL_TIMEOUT,
                              uds=host.socket or None)
        self.http = http

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def label(self) -> str:
        return f"{self.host.kind} engine at {self.host.address}"

    # -- calls ------------------------------------------------------------------------------------

    def ping(self) -> None:
        """The engine answers `/_ping` with 200, or EngineDown."""
        if not self.host.present():
            raise EngineDown(self.label, "no such socket")
        from hullscan.http import TransferError

        try:
            resp = self.http.send("GET", self._url("/_ping"), timeout=PING_TIMEOUT)
        except TransferError as err:
            raise EngineDown(self.label, f"not answering ({err.reason})") from None
        resp.close()
        if resp.status_code != 200:
            raise EngineDown(self.label, f"/_ping answered HTTP {resp.status_code}")

    def version(self) -> EngineVersion:
        doc = self.get_json("/version")
        parts = doc.get("Components") if isinstance(doc, dict) else None
        first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], dict) else {}
        return EngineVersion(
            name=str(first.get("Name", "")), version=str(doc.get("Version", "")), api_version=str(doc.get("ApiVersion", "")),
            os=str(doc.get("Os", "")), arch=str(doc.get("Arch", "")))

    def inspect_image(self, name: str) -> ImageInspect | None:
        """The image the engine knows by this name, ID or name@digest; None when it holds none."""
        doc = self.get_json(f"/images/{path_name(name)}/json", missing_ok=True)
        return None if doc is None else parse_inspect(doc, f"{self.label}: {name}")

    @contextmanager
    def save_image(self, name: str) -> Iterator[Iterator[bytes]]:
        """`/images/{name}/get` (what `docker save` reads): the tar in chunks as they arrive. A
        connection that breaks off mid-stream raises EngineDown from the iterator."""
        with self.stream(f"/images/{path_name(name)}/get", timeout=SAVE_TIMEOUT) as chunks:
            yield chunks

    def containers(self) -> list[dict[str, Any]]:
        """`/containers/json`: the running containers, as the engine lists them (image/container.py reads them)."""
        doc = self.get_json("/containers/json")
        if not isinstance(doc, list):
            raise FetchError(f"{self.label}: /containers/json: the answer is not a list")
        return [c for c in doc if isinstance(c, dict)]

    def inspect_container(self, name: str) -> dict[str, Any] | None:
        """`/containers/{name}/json` (name or ID); None when the engine has no such container."""
        doc = self.get_json(f"/containers/{path_name(name)}/json", missing_ok=True)
        if doc is not None and not isinstance(doc, dict):
            raise FetchError(f"{self.label}: container {name}: the description is not a JSON object")
        return doc

    def container_changes(self, container_id: str) -> Any:
        """`/containers/{id}/changes`: what `docker diff` prints ([{Path, Kind}], or null for none)."""
        return self.get_json(f"/containers/{path_name(container_id)}/changes")

    @contextmanager
    def container_archive(self, container_id: str, path: str, headers: dict[str, str]) -> Iterator[Iterator[bytes]]:
        """`/containers/{id}/archive?path=PATH`: one path of the container's filesystem as a tar (a
        directory with everything under it); `headers` receives X-Docker-Container-Path-Stat before the
        body is read, so a directory can be left unread."""
        with self.stream(f"/containers/{path_name(container_id)}/archive", params={"path": path},
                         headers=headers) as chunks:
            yield chunks

    # -- the two ways every call goes ---------------------------------------------------------------

    def get_json(self, path: str, *, missing_ok: bool = False, params: Mapping[str, str] | None = None) -> Any:
        """A JSON answer (None for 404 when `missing_ok`); a non-JSON or failed answer raises."""
        from hullscan.http import TransferError

        try:
            resp = self.http.send("GET", self._url(path), params=params)
        except TransferError as err:
            raise self._transfer(err) from None
        body = resp.content  # read already (not streamed)
        if resp.status_code == 404 and missing_ok:
            return None
        if resp.status_code != 200:
            raise self._refusal(path, resp.status_code, body)
        if len(body) > MAX_JSON:
            raise FetchError(f"{self.label}: {path}: answer of {len(body)} bytes is too large")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise FetchError(f"{self.label}: {path}: the answer is not JSON") from None

    @contextmanager
    def stream(self, path: str, *, timeout: float = CALL_TIMEOUT, params: Mapping[str, str] | None = None,
               headers: dict[str, str] | None = None) -> Iterator[Iterator[bytes]]:
        """A streamed answer's body in chunks of at most CHUNK bytes; 404 is InputError. `headers`, when
        given, receives the answer's headers (lower-case names) before the body is read."""
        import httpx

        from hullscan.http import TransferError

        try:
            resp = self.http.send("GET", self._url(path), stream=True, timeout=timeout, params=params)
        except TransferError as err:
            raise self._transfer(err) from None
        try:
            if resp.status_code != 200:
                body = resp.read()[:4096]
                if resp.status_code == 404:
                    raise InputError(f"{self.label}: {path}: {_message(body) or 'not found'}")
                raise self._refusal(path, resp.status_code, body)
            if headers is not None:
                headers.update((k.lower(), v) for k, v in resp.headers.items())
            done = 0

            def chunks() -> Iterator[bytes]:
                nonlocal done
                try:
                    for chunk in resp.iter_bytes(CHUNK):
                        done += len(chunk)
                        yield chunk
                except httpx.HTTPError as err:  # the socket closed or timed out mid-body
                    raise EngineDown(f"{self.label}: {path}", f"the stream broke off after {done} bytes "
                                     f"({type(err).__name__}: {str(err)[:160]})") from None

            yield chunks()
        finally:
            resp.close()

    def _url(self, path: str) -> str:
        return self.host.base_url + path

    def _transfer(self, err: Any) -> FetchError:
        if err.status is None:  # no answer at all: the engine went away
            return EngineDown(self.label, f"not answering ({err.reason})")
        return FetchError(f"{self.label}: {err.reason}")

    def _refusal(self, path: str, status: int, body: bytes) -> FetchError:
        return FetchError(f"{self.label}: {path}: HTTP {status}" + (f": {m}" if (m := _message(body)) else ""))


def _message(body: bytes) -> str:
    """The engine's error message ({"message": "..."}), one line."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    msg = doc.get("message") if isinstance(doc, dict) else None
    return msg.strip().splitlines()[0][:300] if isinstance(msg, str) and msg.strip() else ""


def connect(kind: str, given: str = "") -> EngineClient:
    """A client of the first engine of this kind that answers its ping; EngineDown naming every address tried."""
    tried = []
    for host in engine_hosts(kind, given):
        if not host.present():  # no socket file: no client (nor httpx import) for a bare target's probe
            tried.append(f"{host.address}: no such socket")
            continue
        client = EngineClient(host)
        try:
            client.ping()
        except EngineDown as err:
            client.close()
            tried.append(f"{host.address}: {err.why}")
            continue
        return client
    raise EngineDown(f"no {kind} engine answers", "; ".join(tried))
