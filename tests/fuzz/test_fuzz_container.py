"""Fuzz: what hullscan reads of a running container (image/container.py): the container inspect document,
the changes list, the archive's path-stat header, and the runtime layer made of hostile archives (any
tar bytes, any stat) walked as a layer. Whatever the engine answers, the outcome is a result or a
HullscanError, never another exception; the layer the runtime changes make is always a tar the walker reads."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hullscan.errors import HullscanError, InputError
from hullscan.image.container import ContainerInspect, RuntimeLayer, _stat, parse_changes, parse_container
from hullscan.image.model import Layer
from hullscan.image.tarstream import TarError
from hullscan.secrets.analyzer import SecretAnalyzer
from hullscan.walk.walker import walk_tar_layer

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=20)
RUNNING = ContainerInspect(id="c" * 64, name="fuzz", image_id="sha256:" + "0" * 64, image="fuzz", running=True,
                           status="running", started_at="2026-01-01T00:00:00Z", created="")


@given(st.dictionaries(st.sampled_from(["Id", "Name", "Image", "State", "Config", "Created"]), json_values, max_size=6)
       | json_values)
def test_fuzz_container_inspect(doc: object) -> None:
    try:
        parse_container(doc, "fuzz")
    except HullscanError:
        pass


@given(st.lists(st.dictionaries(st.sampled_from(["Path", "Kind"]), json_values | st.text(max_size=30), max_size=2)
                | json_values, max_size=8) | json_values)
def test_fuzz_changes(doc: object) -> None:
    try:
        changes, _warnings = parse_changes(doc, "fuzz")
    except HullscanError:
        return
    assert all(c.path.startswith("/") and c.kind in "ACD" for c in changes)


@given(st.binary(max_size=80) | json_values.map(lambda v: base64.b64encode(json.dumps(v).encode())))
def test_fuzz_path_stat(value: bytes) -> None:
    assert isinstance(_stat(value.decode("latin-1")), dict)


class _FakeClient:
    """Serves one archive (any bytes, any stat) for every path; the container keeps running."""

    label = "fuzz engine"

    def __init__(self, body: bytes, stat: dict[str, Any]) -> None:
        self.body, self.stat = body, stat

    @contextmanager
    def container_archive(self, cid: str, path: str, headers: dict[str, str]) -> Iterator[Iterator[bytes]]:
        headers["x-docker-container-path-stat"] = base64.b64encode(json.dumps(self.stat).encode()).decode()
        yield iter([self.body[i:i + 300] for i in range(0, len(self.body), 300)])

    def inspect_container(self, name: str) -> dict[str, Any]:
        return {"Id": RUNNING.id, "Image": RUNNING.image_id, "State": {"Running": True, "StartedAt": RUNNING.started_at}}


def _archive(parts: list[tuple[str, str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in parts:
            ti = tarfile.TarInfo(name)
            if kind == "link":
                ti.type, ti.linkname = tarfile.SYMTYPE, data.decode("latin-1")
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            else:
                ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if kind == "file" else None)
    return buf.getvalue()


@given(st.lists(st.tuples(st.sampled_from(["x", "../x", "/etc/passwd", "a/b", ""]), st.sampled_from(["file", "link", "dir"]),
                          st.binary(max_size=40)), max_size=3),
       st.integers(min_value=0, max_value=2048), st.booleans(),
       st.dictionaries(st.sampled_from(["mode", "size", "name", "linkTarget"]), json_values | st.integers(), max_size=4),
       st.lists(st.tuples(st.sampled_from(["/app/.env", "/app", "/x/../y", "/a b", "/.wh.z"]), st.sampled_from([0, 1, 2])),
                max_size=4))
def test_fuzz_runtime_layer(parts: list[tuple[str, str, bytes]], cut: int, truncate: bool, stat: dict[str, Any],
                            changes: list[tuple[str, int]]) -> None:
    body = _archive(parts)
    if truncate:
        body = body[:cut]
    found, _ = parse_changes([{"Path": p, "Kind": k} for p, k in changes], "fuzz")
    runtime = RuntimeLayer(_FakeClient(body, stat), RUNNING, found, lambda path, size, mode: True)  # type: ignore[arg-type]
    layer = Layer(index=1, digest="", size=-1, media_type="", diff_id="", opener=runtime.open, local=False)
    try:
        walk_tar_layer(layer, [SecretAnalyzer()])
    except (InputError, TarError):
        pass
