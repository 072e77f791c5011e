"""`docker:IMAGE` / `podman:IMAGE` against our own engines: the same report as the docker-archive of the
same image, the image named by tag, ID or digest, warm scans that never stream the image, the layer cache
shared with archives, bare names resolved as DESIGN "Bare targets" says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engineimages import TAG, Built
from imagehelp import run_cli, scan_json

from enginehelp import Engine

VARYING = ("created_at", "stats", "target")
"""What differs between two scans of one image given two ways (the target names how it was given)."""


def same_but_target(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert {k: v for k, v in a.items() if k not in VARYING} == {k: v for k, v in b.items() if k not in VARYING}


def test_docker_equals_docker_archive(docker: Engine, in_docker: Built, tmp_path: Path) -> None:
    engine = scan_json(f"docker:{TAG}", docker.flag, docker.address, cache=tmp_path / "c1")
    archive = scan_json(f"docker-archive:{in_docker.archive}", cache=tmp_path / "c2")
    assert engine.code == 0 and archive.code == 0, engine.stderr + archive.stderr
    report = engine.report
    same_but_target(report, archive.report)
    # the fixture's one package and OS (conftest.py DPKG); /etc/os-release is a hard link, fed from its target's bytes
    assert [(p["name"], p["version"]) for p in report["packages"]] == [("libpam-runtime", "1.1.8-3.6")]
    assert report["os"]["family"] == "debian" and report["os"]["version"] == "12"
    target = report["target"]
    assert target["type"] == "docker" and target["name"] == TAG and target["repo_tags"] == [TAG]
    assert target["config_digest"] == docker.inspect(TAG)["Id"]  # type: ignore[index]
    # docker save writes layer tars: sizes are theirs, 3 layers of which the first and last are one
    assert [layer["created_by"] for layer in report["layers"]] == ["ADD base /", "COPY app /app", "ADD base /"]
    assert report["layers"][0]["diff_id"] == report["layers"][2]["diff_id"]
    assert report["stats"]["walked"] == 3 and report["stats"]["cached"] == 0


@pytest.mark.parametrize("how", ["short-id", "long-id"])
def test_image_by_id(docker: Engine, in_docker: Built, how: str) -> None:
    image_id = docker.inspect(TAG)["Id"]  # type: ignore[index]
    ref = image_id.split(":")[1][:12] if how == "short-id" else image_id
    run = scan_json(f"docker:{ref}", docker.flag, docker.address)
    assert run.code == 0, run.stderr
    assert run.report["target"]["config_digest"] == image_id
    assert run.report["target"]["name"] == TAG  # the engine's tag names it


def test_warm_scan_does_not_stream(docker: Engine, in_docker: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cold = scan_json(f"docker:{TAG}", docker.flag, docker.address, cache=cache)
    assert cold.code == 0, cold.stderr

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("a warm scan streamed the image")

    from hullscan.image.engine import EngineClient

    monkeypatch.setattr(EngineClient, "save_image", refuse)
    warm = scan_json(f"docker:{TAG}", docker.flag, docker.address, cache=cache, fresh=False)
    assert warm.code == 0, warm.stderr
    assert warm.report["stats"]["result_cached"] is True
    same_but_target(warm.report, cold.report)
    assert warm.report["layers"] == cold.report["layers"]  # sizes kept from the cold scan


def test_layer_cache_shared_with_archive(docker: Engine, in_docker: Built, tmp_path: Path) -> None:
    """Layers analyzed from the archive are only hashed as the engine's stream passes (result keys differ:
    an engine image's names its repo digests too)."""
    cache = tmp_path / "cache"
    assert scan_json(f"docker-archive:{in_docker.archive}", cache=cache).code == 0
    run = scan_json(f"docker:{TAG}", docker.flag, docker.address, cache=cache)
    assert run.code == 0, run.stderr
    assert run.report["stats"]["walked"] == 0 and run.report["stats"]["cached"] == 3
    assert not run.report["stats"].get("result_cached")


def test_bare_name_found_in_engine(docker: Engine, in_docker: Built) -> None:
    r = run_cli("image", TAG, "--format", "json", "--quiet", "--scanners", "license", "--no-cache",
                "--image-src", "docker,registry", env={"DOCKER_HOST": docker.address})
    assert r.code == 0, r.stderr
    assert r.report["target"]["type"] == "docker" and r.report["target"]["input"] == TAG


def test_bare_name_engine_down_moves_on(tmp_path: Path) -> None:
    """No engine answers: the bare name goes to the next source; with none left it is not found (exit 2)."""
    r = run_cli("image", TAG, "--quiet", "--scanners", "license", "--no-cache", "--image-src", "docker,podman",
                env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "XDG_RUNTIME_DIR": str(tmp_path)})
    assert r.code == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not found in the docker engine or the podman engine" in r.stderr


def test_bare_name_not_in_engine(docker: Engine) -> None:
    r = run_cli("image", "hullscan-test/absent:1", "--quiet", "--scanners", "license", "--no-cache",
                "--image-src", "docker", env={"DOCKER_HOST": docker.address})
    assert r.code == 2 and "not found in the docker engine" in r.stderr, r.stderr


def test_file_looking_name_is_no_such_file(docker: Engine) -> None:
    r = run_cli("image", "app.tar", "--quiet", "--no-cache", env={"DOCKER_HOST": docker.address})
    assert r.code == 2 and "no such file" in r.stderr, r.stderr


def test_explicit_engine_down_is_exit_3(tmp_path: Path) -> None:
    r = run_cli("image", f"docker:{TAG}", "--quiet", "--no-cache", "--docker-host", f"unix://{tmp_path}/none.sock")
    assert r.code == 3, r.stderr
    assert r.stderr.strip() == f"hullscan: error: no docker engine answers: unix://{tmp_path}/none.sock: no such socket"


def test_explicit_engine_refusing_is_exit_3(tmp_path: Path) -> None:
    """A socket file nobody listens on (an engine that died): connection refused."""
    import socket

    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    r = run_cli("image", f"docker:{TAG}", "--quiet", "--no-cache", "--docker-host", f"unix://{path}")
    assert r.code == 3 and r.stderr.count("\n") == 1 and "not answering" in r.stderr, r.stderr


def test_image_not_in_engine_is_exit_2(docker: Engine) -> None:
    r = run_cli("image", "docker:hullscan-test/absent:1", "--quiet", "--no-cache", docker.flag, docker.address)
    assert r.code == 2, r.stderr
    assert r.stderr.strip() == f"hullscan: error: hullscan-test/absent:1: no such image in the docker engine at {docker.address}"


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--image-src", "docker,containerd", "--image-src: choose"),
    ("--docker-host", "ssh://me@host", "not an engine address"),
])
def test_bad_engine_options_are_exit_2(flag: str, value: str, says: str) -> None:
    r = run_cli("image", f"docker:{TAG}", "--quiet", "--no-cache", flag, value)
    assert r.code == 2 and says in r.stderr, r.stderr


def test_podman_equals_docker_archive(podman: Engine, in_podman: Built, tmp_path: Path) -> None:
    run = scan_json(f"podman:{TAG}", podman.flag, podman.address)
    archive = scan_json(f"docker-archive:{in_podman.archive}")
    assert run.code == 0 and archive.code == 0, run.stderr
    same_but_target(run.report, archive.report)
    target = run.report["target"]
    # podman names a loaded image in its `localhost/` registry and records a digest for it
    assert target["type"] == "podman" and target["repo_tags"] == [f"localhost/{TAG}"]
    assert len(target["repo_digests"]) == 1
    by_digest = scan_json(f"podman:{target['repo_digests'][0]}", podman.flag, podman.address)
    assert by_digest.code == 0, by_digest.stderr
    same_but_target(by_digest.report, archive.report)
