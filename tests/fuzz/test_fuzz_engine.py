"""Fuzz: what hullscan reads from a container engine (image/engine.py, image/engine_save.py): the image
inspect document, engine addresses, and a save stream read forward and checked against its manifest.
Whatever the bytes, the outcome is a result or a HullscanError, never another exception."""

from __future__ import annotations

import io
import json
import tarfile

from hypothesis import given
from hypothesis import strategies as st

from hullscan.errors import HullscanError
from hullscan.image.engine import EngineHost, ImageInspect, parse_inspect
from hullscan.image.engine_save import SaveStream

CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
INSPECT = ImageInspect(id="sha256:" + "0" * 64, repo_tags=(), repo_digests=(), diff_ids=("sha256:" + "1" * 64,),
                       os="linux", architecture="amd64", variant="")
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=20)
names = st.sampled_from(["manifest.json", "a/layer.tar", "a/json", "blobs/sha256/" + "1" * 64, "1" * 64 + ".tar",
                         "0" * 64 + ".json", "repositories", "../x", "./manifest.json"])


@given(st.dictionaries(st.sampled_from(["Id", "RootFS", "RepoTags", "RepoDigests", "Os", "Architecture", "Variant"]),
                       json_values, max_size=7) | json_values)
def test_fuzz_inspect(doc: object) -> None:
    try:
        parse_inspect(doc, "fuzz")
    except HullscanError:
        pass


@given(st.text(max_size=40))
def test_fuzz_engine_address(text: str) -> None:
    try:
        EngineHost.parse("docker", text)
    except HullscanError:
        pass


def _save(parts: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in parts:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@given(st.lists(st.tuples(names, st.binary(max_size=64) | st.just(CONFIG) | json_values.map(lambda v: json.dumps(v).encode())),
                max_size=6),
       st.integers(min_value=0, max_value=4096), st.booleans())
def test_fuzz_save_stream(parts: list[tuple[str, bytes]], cut: int, truncate: bool) -> None:
    data = _save(parts)
    if truncate:
        data = data[:cut]
    stream = SaveStream(iter([data[i : i + 700] for i in range(0, len(data), 700)]), INSPECT, "fuzz")
    try:
        hashed = {layer.name: layer.hash() for layer in stream.layers()}
        stream.finish(hashed)
    except HullscanError:
        pass
