"""`--platform` on a single-platform image (DESIGN.md "Targets"): an image of another platform is one line
and exit 2 naming the platform it has, never scanned in its place — for a classic `docker save`, a Docker
>= 25 archive, an OCI layout (directory and archive) with one manifest, a registry's single manifest (a
real docker-registry on 127.0.0.1, the image pushed with skopeo). The platforms come from the configs the
builders write; every source shares one check (image/model.py `Platform.check_config`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from builders import docker25_archive, docker_archive, f, layer, oci_archive, oci_image
from imagehelp import scan_json

from testsupport import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from regserver import Registry, skopeo_push  # noqa: E402


def _layers():
    return [layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")])]


def _build(kind: str, tmp_path: Path, **config: str) -> Path:
    """A single-platform image of `kind` whose config says arch/os_/variant (the builders' config_doc)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if kind == "docker-archive":
        return docker_archive(tmp_path / "img.tar", _layers(), **config)
    if kind == "docker25-archive":
        return docker25_archive(tmp_path / "img.tar", _layers(), **config)
    layout = oci_image(tmp_path / "oci", _layers(), **config)
    return oci_archive(layout, tmp_path / "img-oci.tar") if kind == "oci-archive" else layout


KINDS = ["docker-archive", "docker25-archive", "oci", "oci-archive"]


def refused(run, path: Path, line_end: str) -> None:
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert run.stderr.splitlines() == [f"hullscan: error: {path}: {line_end}"]


@pytest.mark.parametrize("kind", KINDS)
def test_another_architecture_is_refused_naming_the_one_the_image_has(tmp_path, kind):
    image = _build(kind, tmp_path)  # amd64 (config_doc's default)
    refused(scan_json(image, "--platform", "linux/arm64"), image,
            "no image for --platform linux/arm64: image has linux/amd64 only")
    ok = scan_json(image, "--platform", "linux/amd64")
    assert ok.code == 0, ok.stderr
    assert ok.report["architecture"] == "amd64"


@pytest.mark.parametrize("kind", ["docker-archive", "oci"])
def test_another_os_is_refused(tmp_path, kind):
    image = _build(kind, tmp_path)
    refused(scan_json(image, "--platform", "windows/amd64"), image,
            "no image for --platform windows/amd64: image has linux/amd64 only")


@pytest.mark.parametrize("kind", ["docker-archive", "oci"])
def test_variants(tmp_path, kind):
    """A variant the config states must be the one asked for; one it leaves out (arm64 images often do)
    is not held against it."""
    arm7 = _build(kind, tmp_path / "arm7", arch="arm", variant="v7")
    refused(scan_json(arm7, "--platform", "linux/arm/v6"), arm7,
            "no image for --platform linux/arm/v6: image has linux/arm/v7 only")
    assert scan_json(arm7, "--platform", "linux/arm/v7").code == 0
    assert scan_json(arm7, "--platform", "linux/arm").code == 0
    arm64 = _build(kind, tmp_path / "arm64", arch="arm64")
    run = scan_json(arm64, "--platform", "linux/arm64/v8")
    assert run.code == 0, run.stderr
    assert run.report["architecture"] == "arm64"


def test_without_platform_any_single_platform_image_is_scanned(tmp_path):
    image = _build("docker-archive", tmp_path, arch="s390x")
    run = scan_json(image)
    assert run.code == 0, run.stderr
    assert run.report["architecture"] == "s390x"


@pytest.fixture(scope="module")
def registry_image(tmp_path_factory: pytest.TempPathFactory):
    """An amd64 image with one manifest (no index) in a real registry: (registry, reference)."""
    for tool in ("docker-registry", "skopeo"):
        require_tool(tool)
    tmp = tmp_path_factory.mktemp("reg")
    archive = docker_archive(tmp / "img.tar", _layers())
    reg = Registry(tmp / "registry").start()
    try:
        skopeo_push(f"docker-archive:{archive}", f"{reg.host}/test/one:1")
        yield reg, f"{reg.host}/test/one:1"
    finally:
        reg.stop()


def test_registry_single_manifest_of_another_platform_is_refused(registry_image):
    reg, ref = registry_image
    run = scan_json(f"registry:{ref}", "--platform", "linux/arm64")
    assert run.code == 2, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert run.stderr.splitlines() == [
        f"hullscan: error: registry {reg.host}, repository test/one: {ref}: "
        "no image for --platform linux/arm64: image has linux/amd64 only"]
    ok = scan_json(f"registry:{ref}", "--platform", "linux/amd64")
    assert ok.code == 0, ok.stderr
    assert ok.report["architecture"] == "amd64"
