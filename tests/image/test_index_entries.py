"""OCI index entries that break the image-spec descriptor rules (a missing digest, `platform` or
`annotations` of the wrong type, an entry that is no object) — in index.json and in a nested index, in an
OCI directory, an OCI archive and a Docker >= 25 archive — and manifests with such annotations or layer
media types: one line naming the file and the entry, exit 2, no traceback (before: KeyError and friends)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import OCI_INDEX, OCILayout, f, layer, oci_archive, sha256, write_tar
from imagehelp import scan_json


def _layers():
    return [layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")])]


def _layout(root: Path, nested: bool = False) -> OCILayout:
    """One amd64 image, indexed directly or through a nested index."""
    lay = OCILayout(root)
    desc = lay.image(_layers())
    if nested:
        desc = lay.index([dict(desc, platform={"os": "linux", "architecture": "amd64"})])
    lay.add(desc, tag="latest")
    return lay


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc))


def refused(run, *parts: str) -> str:
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr and run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


ENTRY_DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no digest": (lambda e: e.pop("digest"), "manifests[0] has no digest"),
    "null digest": (lambda e: e.update(digest=None), "manifests[0]: invalid digest None"),
    "annotations a string": (lambda e: e.update(annotations="latest"), "manifests[0]: annotations is not an object of strings"),
    "a tag that is a number": (lambda e: e.update(annotations={"org.opencontainers.image.ref.name": 5}),
                               "manifests[0]: annotations is not an object of strings"),
    "platform a string": (lambda e: e.update(platform="linux/amd64"),
                          "manifests[0]: platform is not an object with string os, architecture and variant"),
    "platform os a list": (lambda e: e.update(platform={"os": ["linux"], "architecture": "amd64"}),
                           "manifests[0]: platform is not an object with string os, architecture and variant"),
}


@pytest.mark.parametrize("damage", ENTRY_DAMAGE)
@pytest.mark.parametrize("container", ["oci", "oci-archive"])
def test_index_json_entry(tmp_path, damage, container):
    lay = _layout(tmp_path / "oci")
    mutate, message = ENTRY_DAMAGE[damage]
    mutate(lay.manifests[0])
    root = lay.save()
    target = oci_archive(root, tmp_path / "a.tar") if container == "oci-archive" else root
    refused(scan_json(target), f"{target}: index.json: {message}")
    if container == "oci":
        refused(scan_json(f"oci:{target}:latest"), f"{target}: index.json: {message}")


def test_an_entry_that_is_not_an_object(tmp_path):
    lay = _layout(tmp_path / "oci")
    lay.manifests.append(5)  # type: ignore[arg-type]
    root = lay.save()
    refused(scan_json(root), f"{root}: index.json: manifests[1] is not an object")


@pytest.mark.parametrize("damage", ["no digest", "platform a string"])
def test_nested_index_entry(tmp_path, damage):
    """The entry sits in a nested index blob (written by hand here; its digest in index.json is its own)."""
    lay = _layout(tmp_path / "oci")
    manifest_desc = lay.manifests[0]
    mutate, message = ENTRY_DAMAGE[damage]
    entry = dict(manifest_desc, platform={"os": "linux", "architecture": "amd64"})
    mutate(entry)
    nested = lay.index([entry])
    lay.manifests = [dict(nested, annotations={"org.opencontainers.image.ref.name": "latest"})]
    root = lay.save()
    refused(scan_json(root), f"{root}: index {nested['digest'][:19]}: {message}")


def test_nested_index_without_digest(tmp_path):
    lay = _layout(tmp_path / "oci", nested=True)
    lay.manifests[0].pop("digest")
    assert lay.manifests[0]["mediaType"] == OCI_INDEX
    root = lay.save()
    refused(scan_json(root), f"{root}: index.json: manifests[0] has no digest")


def test_docker25_archive_index_without_digest(tmp_path):
    """Docker >= 25 archives are read as the OCI layout inside them: the same check applies."""
    lay = _layout(tmp_path / "oci")
    lay.manifests[0].pop("digest")
    root = lay.save()
    members = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    members["manifest.json"] = b'[{"Config": "x", "RepoTags": ["a:1"], "Layers": []}]'
    tar = write_tar(tmp_path / "d25.tar", members)
    refused(scan_json(tar), f"{tar}: index.json: manifests[0] has no digest")


def _rewrite_manifest(lay: OCILayout, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the manifest blob and point the index entry at the new one."""
    old = lay.manifests[0]
    doc = json.loads((lay.root / "blobs" / "sha256" / old["digest"].split(":")[1]).read_bytes())
    change(doc)
    data = json.dumps(doc).encode()
    (lay.root / "blobs" / "sha256" / sha256(data).split(":")[1]).write_bytes(data)
    lay.manifests[0] = dict(old, digest=sha256(data), size=len(data))


@pytest.mark.parametrize("change,message", [
    (lambda m: m.update(annotations=["x"]), "annotations is not an object of strings"),
    (lambda m: m["layers"][0].update(annotations={"a": 1}), "layer 0: annotations is not an object of strings"),
    (lambda m: m["layers"][0].update(mediaType=["application/vnd.oci.image.layer.v1.tar"]), "layer 0 has unknown media type"),
])
def test_manifest_fields_of_the_wrong_type(tmp_path, change, message):
    lay = _layout(tmp_path / "oci")
    _rewrite_manifest(lay, change)
    root = lay.save()
    refused(scan_json(root), f"{root}: manifest sha256:", message)


def test_config_history_of_the_wrong_type_is_no_history(tmp_path):
    """`history` is optional in the image spec: one that is not a list is read as none (the scan goes on)."""
    lay = OCILayout(tmp_path / "oci")
    layers = _layers()
    lay.add(lay.image(layers, config={"architecture": "amd64", "os": "linux", "history": 5,
                                      "rootfs": {"type": "layers", "diff_ids": [x.diff_id for x in layers]}}), tag="latest")
    run = scan_json(lay.save())
    assert run.code == 0, run.stderr
    assert run.report["history"] == []
