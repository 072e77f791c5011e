"""Real `docker save` output and a real OCI layout from tests/image/testdata (trivy's test images, see
testdata/PROVENANCE.md).

Expectations come from the archives themselves read with tarfile/json (manifest, config diff_ids,
history) and from the layers' own /etc/alpine-release (3.10.4 / 3.11.5), never from hullscan."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from builders import write_tar
from imagehelp import scan_json

TESTDATA = Path(__file__).resolve().parent / "testdata"


def _docker_save_facts(path: Path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config_bytes = tar.extractfile(manifest["Config"]).read()
        layer_sizes = [tar.getmember(n).size for n in manifest["Layers"]]
        layer_sha = [hashlib.sha256(tar.extractfile(n).read()).hexdigest() for n in manifest["Layers"]]
    return {
        "manifest": manifest,
        "config": json.loads(config_bytes),
        "config_digest": "sha256:" + hashlib.sha256(config_bytes).hexdigest(),
        "layer_sizes": layer_sizes,
        "layer_sha": layer_sha,
    }


@pytest.mark.parametrize("name,version,release", [("alpine-3.10", "3.10.4", "v3.10"), ("alpine-3.11", "3.11.5", "v3.11")])
def test_docker_save_alpine(tmp_path, name, version, release):
    path = TESTDATA / f"{name}.docker-save.tar.gz"
    truth = _docker_save_facts(path)
    run = scan_json(path, cache=tmp_path / "c")
    assert run.code == 0, run.stderr
    rep = run.report
    assert rep["target"]["type"] == "docker-archive"
    assert rep["target"]["repo_tags"] == truth["manifest"]["RepoTags"]
    assert rep["target"]["config_digest"] == truth["config_digest"]
    diff_ids = truth["config"]["rootfs"]["diff_ids"]
    assert [ln["diff_id"] for ln in rep["layers"]] == diff_ids
    # the uncompressed layer.tar's own sha256 is its diff_id: hullscan verified the right thing
    assert ["sha256:" + s for s in truth["layer_sha"]] == diff_ids
    assert [ln["size"] for ln in rep["layers"]] == truth["layer_sizes"]
    assert rep["architecture"] == truth["config"]["architecture"] == "amd64"
    assert rep["config"]["cmd"] == truth["config"]["config"]["Cmd"]
    assert [h["created_by"] for h in rep["config"]["history"]] == [h["created_by"] for h in truth["config"]["history"]]
    assert rep["layers"][0]["created_by"] == truth["config"]["history"][0]["created_by"]
    assert rep["os"]["family"] == "alpine"
    assert rep["os"]["version"] == version
    assert rep["os"]["ecosystem"] == f"Alpine:{release}"
    assert rep["warnings"] == []


def test_docker_save_layer_tampered_is_refused(tmp_path):
    """Flip one byte of the layer inside a copy of the real archive: the diff_id check refuses it."""
    src = TESTDATA / "alpine-3.10.docker-save.tar.gz"
    members: dict[str, bytes] = {}
    with tarfile.open(src, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                members[m.name] = tar.extractfile(m).read()
    layer_name = next(n for n in members if n.endswith("layer.tar"))
    data = bytearray(members[layer_name])
    # change one byte well inside the layer (a member's data or a header): the diff_id no longer matches
    data[4096] ^= 0x01 if data[4096] else 0x20
    members[layer_name] = bytes(data)
    bad = write_tar(tmp_path / "tampered.tar", members)
    run = scan_json(bad)
    assert run.code == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert "diff_id" in lines[0] or "checksum" in lines[0]  # a flipped header byte fails its checksum first


def test_oci_layout_sample(tmp_path):
    root = TESTDATA / "oci-layout-sample"
    index = json.loads((root / "index.json").read_text())
    mdesc = index["manifests"][0]
    manifest = json.loads((root / "blobs/sha256" / mdesc["digest"].split(":")[1]).read_text())
    config = json.loads((root / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_text())
    blob = (root / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]).read_bytes()
    assert "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest() == config["rootfs"]["diff_ids"][0]

    for target in (str(root), f"oci:{root}", f"oci-dir:{root}", f"oci:{root}:0.0.1"):
        run = scan_json(target, cache=tmp_path / "c")
        assert run.code == 0, (target, run.stderr)
        rep = run.report
        assert rep["target"]["type"] == "oci"
        assert rep["target"]["manifest_digest"] == mdesc["digest"]
        assert rep["target"]["config_digest"] == manifest["config"]["digest"]
        assert rep["target"]["name"] == "0.0.1"
        assert [(ln["digest"], ln["size"], ln["media_type"]) for ln in rep["layers"]] == [
            (x["digest"], x["size"], x["mediaType"]) for x in manifest["layers"]
        ]
        assert [ln["diff_id"] for ln in rep["layers"]] == config["rootfs"]["diff_ids"]
        assert rep["os"] is None  # the layer holds only /hello
        assert rep["config"]["cmd"] == ["/hello"]

    run = scan_json(f"oci:{root}:nosuchtag")
    assert run.code == 2 and "0.0.1" in run.stderr  # the error lists the tags there are
