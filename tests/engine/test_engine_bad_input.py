"""Engine images that must be refused or fail cleanly: a save stream that disagrees with its manifest or
config (a fake engine serving a tampered tar), a socket closed mid-stream, an image removed while it is
streamed (the real engine). Each is one line and its exit code, never a traceback."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import builders as b
import pytest
from engineimages import TAG, build
from fakeengine import Served, fake_engine, inspect_of
from imagehelp import run_cli, scan_json

from enginehelp import Engine


def members(archive: Path) -> dict[str, bytes]:
    """A docker-archive tar's members, in order (manifest.json last, as dockerd 20.10 streams it)."""
    out: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for m in tar:
            f = tar.extractfile(m)
            if f is not None:
                out[m.name] = f.read()
    return out


def save_of(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in parts.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), b.MTIME
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def image(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, object]]:
    """The test image's save members and the inspect a truthful engine gives of it."""
    parts = members(build(tmp_path / "img.tar", TAG).archive)
    manifest = json.loads(parts["manifest.json"])[0]
    config = parts[manifest["Config"]]
    return parts, inspect_of(config, json.loads(config)["rootfs"]["diff_ids"], TAG)


def scan_fake(tmp_path: Path, served: Served) -> tuple[int, str]:
    with fake_engine(tmp_path / "fake.sock", served) as address:
        r = run_cli("image", f"docker:{TAG}", "--format", "json", "--quiet", "--scanners", "license", "--no-cache",
                    "--docker-host", address)
    assert "Traceback" not in r.stderr, r.stderr
    return r.code, r.stderr


def test_truthful_fake_engine_scans(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    """The control: the same fake engine serving the untouched stream gives a report."""
    parts, inspect = image
    code, err = scan_fake(tmp_path, Served(inspect, save_of(parts)))  # type: ignore[arg-type]
    assert code == 0, err


def test_layers_swapped_in_manifest(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    parts, inspect = image
    manifest = json.loads(parts["manifest.json"])
    layers = manifest[0]["Layers"]
    layers[0], layers[1] = layers[1], layers[0]
    parts["manifest.json"] = json.dumps(manifest).encode()
    code, err = scan_fake(tmp_path, Served(inspect, save_of(parts)))  # type: ignore[arg-type]
    assert code == 2 and err.count("\n") == 1, err
    assert "layer 0 (" in err and "the save stream disagrees with its manifest; image refused" in err


def test_layer_content_tampered(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    """One byte of the application file changed (same size): the layer's digest is no longer its diff_id."""
    parts, inspect = image
    name = json.loads(parts["manifest.json"])[0]["Layers"][1]
    parts[name] = parts[name].replace(b"echo hello", b"echo HELLO")
    code, err = scan_fake(tmp_path, Served(inspect, save_of(parts)))  # type: ignore[arg-type]
    assert code == 2 and "layer 1 (" in err and "disagrees with its manifest" in err, err


def test_config_not_the_image_id(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    parts, inspect = image
    other = {**inspect, "Id": "sha256:" + "ab" * 32}
    code, err = scan_fake(tmp_path, Served(other, save_of(parts)))
    # the fake serves /get only for its Id: the stream is the image's own
    assert code == 2 and "the save stream's config is" in err and "image refused" in err, err


def test_manifest_missing(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    parts, inspect = image
    del parts["manifest.json"]
    code, err = scan_fake(tmp_path, Served(inspect, save_of(parts)))  # type: ignore[arg-type]
    assert code == 2 and "save stream lacks manifest.json" in err, err


def test_not_a_tar(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]]) -> None:
    _parts, inspect = image
    code, err = scan_fake(tmp_path, Served(inspect, b"<html>not a tar</html>" * 100))  # type: ignore[arg-type]
    assert code == 2 and "save stream" in err, err


@pytest.mark.parametrize("where", [100, 5000, 20000])
def test_socket_closes_mid_stream(tmp_path: Path, image: tuple[dict[str, bytes], dict[str, object]], where: int) -> None:
    """The engine promised the whole body and closed the socket part-way: I/O failure, exit 3."""
    parts, inspect = image
    code, err = scan_fake(tmp_path, Served(inspect, save_of(parts), cut_at=where))  # type: ignore[arg-type]
    assert code == 3 and err.count("\n") == 1 and "the stream broke off" in err, err


def test_image_removed_mid_stream(docker: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dockerd 20.10 exports the image before it sends a byte, so the stream under way arrives whole; the
    second stream the hard link /etc/os-release needs (conftest.py; with nothing kept for links, as for a
    target past the walker's budget) then finds the image gone: exit 2."""
    built = build(tmp_path / "gone.tar", "hullscan-test/gone:1", marker=str(tmp_path))  # an image of its own
    docker.load(built.archive)
    from hullscan.image import engine_save
    from hullscan.walk import walker

    monkeypatch.setattr(walker, "KEEP_FOR_LINKS", 0)

    original = engine_save.SaveStream.layers
    removed = []

    def layers(self: engine_save.SaveStream):  # type: ignore[no-untyped-def]
        for i, layer in enumerate(original(self)):
            if i == 0:
                docker.remove(built.tag)
                removed.append(True)
            yield layer

    monkeypatch.setattr(engine_save.SaveStream, "layers", layers)
    run = scan_json("docker:hullscan-test/gone:1", "--docker-host", docker.address, fresh=False)
    assert removed and docker.inspect(built.tag) is None
    assert run.code == 2, run.stderr
    assert run.stderr == "hullscan: error: docker:hullscan-test/gone:1: the image was removed from the engine during the scan\n"


def test_hard_link_read_from_a_second_stream(docker: Engine, in_docker: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """/etc/os-release is a hard link to /usr/lib/os-release (conftest.py): its bytes come from the target's
    read kept for it (walker.KEEP_FOR_LINKS), no second stream; past that budget, from a second stream
    skipped forward to that member, never from a copy of the first."""
    from hullscan.image.engine_source import SaveSource
    from hullscan.walk import walker

    opened: list[str] = []
    original = SaveSource.open_member

    def counting(self: SaveSource, name: str):  # type: ignore[no-untyped-def]
        opened.append(name)
        return original(self, name)

    monkeypatch.setattr(SaveSource, "open_member", counting)
    run = scan_json(f"docker:{TAG}", "--docker-host", docker.address, fresh=False)
    assert run.code == 0, run.stderr
    assert opened == [] and run.report["os"]["version"] == "12"
    monkeypatch.setattr(walker, "KEEP_FOR_LINKS", 0)
    run = scan_json(f"docker:{TAG}", "--docker-host", docker.address, fresh=False)
    assert run.code == 0, run.stderr
    assert len(opened) == 1 and opened[0].endswith("/layer.tar")
    assert run.report["os"]["version"] == "12"
