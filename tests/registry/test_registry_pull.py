"""`hullscan image` straight from a real registry (Debian's docker-registry on 127.0.0.1, images
pushed with skopeo): same view as scanning the OCI directory it was pushed from; digests checked
against skopeo's own reading of the registry; multi-arch selection; schema 1 refused; cached layers
never fetched (counted in the registry's own access log)."""

from __future__ import annotations

import json
import platform

import pytest
from registry_support import sha256, skopeo_raw_manifest

SCAN = ("--scanners", "license", "--format", "json", "-q")


def _view(report: dict) -> dict:
    """What must not depend on where the image came from."""
    return {
        "packages": sorted((p["type"], p["name"], p["version"], p["purl"], (p["layer"] or {}).get("diff_id")) for p in report["packages"]),
        "layers": [(ln["index"], ln["digest"], ln["diff_id"], ln["size"], ln["media_type"]) for ln in report["layers"]],
        "os": report["os"],
        "architecture": report["architecture"],
        "config": report["config"],
        "manifest_digest": report["target"]["manifest_digest"],
        "config_digest": report["target"]["config_digest"],
        "history": report["history"],
    }


def test_pull_equals_oci_directory(open_registry, images, hullscan, tmp_path):
    reg = hullscan("image", f"registry:{open_registry.host}/test/app:1.0", *SCAN, "--no-cache")
    assert reg.code == 0, reg.stderr
    oci = hullscan("image", f"oci:{images.app.layout}:1.0", *SCAN, "--no-cache")
    assert oci.code == 0, oci.stderr
    r = reg.report
    assert _view(r) == _view(oci.report)
    # independent expectations: the builder's digests, skopeo's reading of the registry, dpkg-query's listing
    raw = skopeo_raw_manifest(f"{open_registry.host}/test/app:1.0")
    assert r["target"]["manifest_digest"] == sha256(raw) == images.app.manifest_digest
    assert r["target"]["config_digest"] == images.app.config_digest
    assert [ln["diff_id"] for ln in r["layers"]] == images.app.diff_ids
    assert [ln["digest"] for ln in r["layers"]] == [x["digest"] for x in json.loads(raw)["layers"]]
    assert r["target"]["type"] == "registry"
    assert r["target"]["repo_tags"] == [f"{open_registry.host}/test/app:1.0"]
    debs = sorted((p["name"], p["version"]) for p in r["packages"] if p["type"] == "deb")
    assert debs == images.dpkg_expected
    assert all(p["layer"]["index"] == 0 for p in r["packages"] if p["type"] == "deb")
    assert r["os"]["family"] == "debian" and r["os"]["version"].startswith("12")
    assert r["warnings"] == []


def test_bare_reference_and_docker_v2s2(open_registry, images, hullscan):
    raw = skopeo_raw_manifest(f"{open_registry.host}/test/app-v2s2:1.0")
    assert json.loads(raw)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    run = hullscan("image", f"{open_registry.host}/test/app-v2s2:1.0", *SCAN, "--no-cache")
    assert run.code == 0, run.stderr
    r = run.report
    assert r["target"]["manifest_digest"] == sha256(raw)
    assert [ln["diff_id"] for ln in r["layers"]] == images.app.diff_ids
    assert all(ln["media_type"].startswith("application/vnd.docker.image.rootfs.diff.tar") for ln in r["layers"])
    assert sorted((p["name"], p["version"]) for p in r["packages"] if p["type"] == "deb") == images.dpkg_expected


def test_real_docker_save_image(open_registry, images, hullscan):
    """The real alpine 3.10 `docker save` pushed by skopeo: same view as scanning the tar itself."""
    reg = hullscan("image", f"{open_registry.host}/test/alpine:3.10", *SCAN, "--no-cache")
    tar = hullscan("image", f"docker-archive:{images.alpine}", *SCAN, "--no-cache")
    assert reg.code == 0 and tar.code == 0, reg.stderr + tar.stderr
    a, b = reg.report, tar.report
    assert sorted((p["name"], p["version"]) for p in a["packages"]) == sorted((p["name"], p["version"]) for p in b["packages"])
    assert [ln["diff_id"] for ln in a["layers"]] == [ln["diff_id"] for ln in b["layers"]]
    assert a["target"]["config_digest"] == b["target"]["config_digest"]
    assert a["os"]["version"] == "3.10.4"


def test_digest_reference(open_registry, images, hullscan):
    ref = f"{open_registry.host}/test/app@{images.app.manifest_digest}"
    run = hullscan("image", ref, *SCAN, "--no-cache")
    assert run.code == 0, run.stderr
    assert run.report["target"]["manifest_digest"] == images.app.manifest_digest
    missing = hullscan("image", f"{open_registry.host}/test/app@sha256:{'0' * 64}", *SCAN, "--no-cache")
    assert missing.code == 2
    assert "not found" in missing.stderr and "test/app" in missing.stderr and open_registry.host in missing.stderr
    nope = hullscan("image", f"{open_registry.host}/test/app:no-such-tag", *SCAN, "--no-cache")
    assert nope.code == 2 and "no-such-tag" in nope.stderr


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="default platform is the host's; the index has amd64")
def test_multi_arch_index(open_registry, images, hullscan):
    ref = f"{open_registry.host}/test/multi:1"
    default = hullscan("image", ref, *SCAN, "--no-cache")
    assert default.code == 0, default.stderr
    assert default.report["target"]["manifest_digest"] == images.app.manifest_digest  # amd64 entry = the app image
    assert default.report["architecture"] == "amd64"
    assert default.report["target"]["repo_digests"] == [f"{open_registry.host}/test/multi@{images.multi_index_digest}"]
    arm = hullscan("image", ref, *SCAN, "--no-cache", "--platform", "linux/arm64")
    assert arm.code == 0, arm.stderr
    assert arm.report["target"]["manifest_digest"] == images.arm.manifest_digest
    assert arm.report["target"]["config_digest"] == images.arm.config_digest
    assert arm.report["os"]["family"] == "alpine"
    assert [ln["diff_id"] for ln in arm.report["layers"]] == images.arm.diff_ids
    missing = hullscan("image", ref, *SCAN, "--no-cache", "--platform", "linux/s390x")
    assert missing.code == 2
    assert "linux/s390x" in missing.stderr and "linux/amd64" in missing.stderr and "linux/arm64/v8" in missing.stderr


def test_schema1_is_refused(open_registry, hullscan):
    raw = json.loads(skopeo_raw_manifest(f"{open_registry.host}/test/old:1"))
    assert raw["schemaVersion"] == 1
    run = hullscan("image", f"{open_registry.host}/test/old:1", *SCAN, "--no-cache")
    assert run.code == 2
    line = run.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "schema 1" in line and "unsupported" in line and "test/old" in line and open_registry.host in line


def test_cached_layers_are_never_downloaded(open_registry, images, hullscan, tmp_path):
    """First scan fetches each layer blob once; the second, with every layer cached, fetches none
    (the registry's own access log is the witness)."""
    cache = tmp_path / "cache"
    ref = f"{open_registry.host}/test/app2:1.0"

    def layer_gets() -> int:
        return sum(1 for m, p, s in open_registry.access_log()
                   if m == "GET" and "/v2/test/app2/blobs/" in p and p.rsplit("/", 1)[1] in images.app2.layer_digests)

    before = layer_gets()
    first = hullscan("image", ref, *SCAN, "--cache-dir", str(cache))
    assert first.code == 0, first.stderr
    after_first = layer_gets()
    assert after_first - before == len(images.app2.layer_digests)
    second = hullscan("image", ref, *SCAN, "--cache-dir", str(cache))
    assert second.code == 0, second.stderr
    assert layer_gets() == after_first
    assert _view(first.report) == _view(second.report)
