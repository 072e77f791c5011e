"""Images that cannot be read, each crafted in code, through the real CLI in a subprocess:
exactly one line on stderr naming the file and the problem, exit 2, no traceback."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import builders
import pytest
from builders import docker_archive, f, layer, oci_image, sha256, write_tar
from imagehelp import scan_json as _scan_json


def scan_json(*args, **kw):
    """A fresh `hullscan` process, as users run it (peak RSS measured)."""
    return _scan_json(*args, fresh=True, **kw)


def refused(run, *words: str) -> str:
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("hullscan: error: ")
    low = line.lower()
    for w in words:
        assert w.lower() in low, (w, line)
    assert run.stdout == ""
    return line


def _simple_layers():
    return [layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")])]


def _blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]


def _manifest(root: Path) -> tuple[dict, dict]:
    index = json.loads((root / "index.json").read_text())
    m = json.loads(_blob_path(root, index["manifests"][0]["digest"]).read_text())
    return index, m


def _rewrite_manifest(root: Path, manifest: dict) -> None:
    """Store an edited manifest as a new blob and point index.json at it (digests stay consistent)."""
    data = json.dumps(manifest).encode()
    digest = sha256(data)
    _blob_path(root, digest).write_bytes(data)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=digest, size=len(data))
    (root / "index.json").write_text(json.dumps(index))


def _replace_config(root: Path, data: bytes) -> None:
    _, m = _manifest(root)
    digest = sha256(data)
    _blob_path(root, digest).write_bytes(data)
    m["config"].update(digest=digest, size=len(data))
    _rewrite_manifest(root, m)


def test_not_a_tar(tmp_path):
    p = tmp_path / "junk.tar"
    p.write_bytes(os.urandom(4096))
    refused(scan_json(p), str(p))
    refused(scan_json(f"docker-archive:{p}"), str(p))
    refused(scan_json(f"oci-archive:{p}"), str(p))


def test_empty_file(tmp_path):
    p = tmp_path / "empty.tar"
    p.write_bytes(b"")
    refused(scan_json(p), str(p))


def test_truncated_gzip_archive(tmp_path):
    full = docker_archive(tmp_path / "full.tar.gz", _simple_layers(), gz=True)
    data = full.read_bytes()
    p = tmp_path / "cut.tar.gz"
    p.write_bytes(data[: len(data) // 2])
    refused(scan_json(p), str(p))


def test_corrupt_deflate_data_in_gzip_archive(tmp_path):
    """A valid gzip header followed by garbage: the decompressor's own error becomes one line."""
    full = docker_archive(tmp_path / "full.tar.gz", _simple_layers(), gz=True).read_bytes()
    p = tmp_path / "corrupt.tar.gz"
    p.write_bytes(full[:20] + bytes((b * 7 + 3) % 256 for b in range(4000)))
    refused(scan_json(p), str(p))


def test_truncated_gzip_layer(tmp_path):
    """The layer blob is cut short, and the manifest describes the cut blob: only gzip can tell."""
    lay = builders.Layer(builders.layer_tar([f("etc/os-release", os.urandom(20000).hex())]), "gzip")
    root = oci_image(tmp_path / "oci", [lay])
    _, m = _manifest(root)
    blob = _blob_path(root, m["layers"][0]["digest"]).read_bytes()
    cut = blob[: len(blob) // 2]
    m["layers"][0].update(digest=sha256(cut), size=len(cut))
    _blob_path(root, sha256(cut)).write_bytes(cut)
    _rewrite_manifest(root, m)
    refused(scan_json(root), "layer 0", "truncated")


def test_truncated_tar_layer(tmp_path):
    tar = builders.layer_tar([f("etc/os-release", "x" * 5000)])
    lay = builders.Layer(tar[:1500], "")  # ends in the middle of the member's data
    refused(scan_json(oci_image(tmp_path / "oci", [lay])), "layer 0", "truncated")


def test_missing_manifest(tmp_path):
    p = write_tar(tmp_path / "nothing.tar", {"hello.txt": b"hi"})
    refused(scan_json(p), str(p))
    refused(scan_json(f"docker-archive:{p}"), str(p), "manifest.json")
    refused(scan_json(f"oci-archive:{p}"), str(p), "index.json")
    d = tmp_path / "layoutdir"
    d.mkdir()
    (d / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    refused(scan_json(d), str(d), "index.json")


def test_missing_manifest_blob(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    index, _ = _manifest(root)
    _blob_path(root, index["manifests"][0]["digest"]).unlink()
    refused(scan_json(root), str(root), "missing")


def test_missing_config(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _, m = _manifest(root)
    _blob_path(root, m["config"]["digest"]).unlink()
    refused(scan_json(root), str(root), "missing")

    members = {"manifest.json": json.dumps([{"Config": "nope.json", "RepoTags": ["a:1"], "Layers": ["l/layer.tar"]}]).encode(),
               "l/layer.tar": _simple_layers()[0].tar}
    p = write_tar(tmp_path / "noconfig.tar", members)
    refused(scan_json(p), str(p), "nope.json")


def test_missing_layer_blob(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _, m = _manifest(root)
    _blob_path(root, m["layers"][0]["digest"]).unlink()
    refused(scan_json(root), "missing")

    cfg = json.dumps(builders.config_doc(_simple_layers())).encode()
    members = {"manifest.json": json.dumps([{"Config": "c.json", "RepoTags": ["a:1"], "Layers": ["l/layer.tar"]}]).encode(),
               "c.json": cfg}
    p = write_tar(tmp_path / "nolayer.tar", members)
    refused(scan_json(p), str(p), "layer 0")


def test_config_not_json(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _replace_config(root, b"this is { not json")
    refused(scan_json(root), str(root), "config", "json")


def test_config_absurdly_nested(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _replace_config(root, b"[" * 200_000 + b"]" * 200_000)
    refused(scan_json(root), str(root), "nested")


def test_manifest_absurdly_nested(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    data = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    digest = sha256(data)
    _blob_path(root, digest).write_bytes(data)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=digest, size=len(data))
    (root / "index.json").write_text(json.dumps(index))
    refused(scan_json(root), str(root), "nested")


def test_config_without_diff_ids(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _replace_config(root, json.dumps({"architecture": "amd64", "os": "linux"}).encode())
    refused(scan_json(root), str(root), "diff_ids")


def test_unknown_layer_media_type(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    _, m = _manifest(root)
    m["layers"][0]["mediaType"] = "application/x-mystery"
    _rewrite_manifest(root, m)
    refused(scan_json(root), str(root), "application/x-mystery")


def test_blob_digest_mismatch(tmp_path):
    lays = _simple_layers()
    root = oci_image(tmp_path / "oci", lays)
    _, m = _manifest(root)
    p = _blob_path(root, m["layers"][0]["digest"])
    # same size, different bytes: a valid gzip of a different tar... padded to the same length
    other = gzip.compress(builders.layer_tar([f("etc/os-release", "ID=evil\n")]), mtime=0)
    orig = p.read_bytes()
    assert len(other) <= len(orig)
    p.write_bytes(other + b"\0" * (len(orig) - len(other)))
    refused(scan_json(root), "layer 0", "digest")


def test_diff_id_mismatch(tmp_path):
    lays = _simple_layers()
    root = oci_image(tmp_path / "oci", lays)
    cfg = builders.config_doc(lays)
    cfg["rootfs"]["diff_ids"] = [sha256(b"something else")]
    _replace_config(root, json.dumps(cfg).encode())
    refused(scan_json(root), "layer 0", "diff_id")

    cfg_d = builders.config_doc(lays)
    cfg_d["rootfs"]["diff_ids"] = [sha256(b"x")]
    p = docker_archive(tmp_path / "d.tar", lays, config=cfg_d)
    refused(scan_json(p), "layer 0", "diff_id")


def test_layer_count_disagrees_with_diff_ids(tmp_path):
    lays = _simple_layers()
    cfg = builders.config_doc(lays + lays)
    root = oci_image(tmp_path / "oci", lays, config=cfg)
    refused(scan_json(root), str(root), "diff_ids")


@pytest.mark.parametrize("name", ["../../../etc/passwd", "/etc/passwd", "../outside.json"])
def test_docker_manifest_points_outside(tmp_path, name):
    lays = _simple_layers()
    cfg = json.dumps(builders.config_doc(lays)).encode()
    members = {
        "manifest.json": json.dumps([{"Config": name, "RepoTags": ["a:1"], "Layers": ["l/layer.tar"]}]).encode(),
        "l/layer.tar": lays[0].tar,
    }
    (tmp_path / "outside.json").write_bytes(cfg)  # exists on the host next to the tar: must not be read
    p = write_tar(tmp_path / "sub.tar", members)
    run = scan_json(p)
    refused(run, str(p))


def test_docker_layer_points_outside(tmp_path):
    lays = _simple_layers()
    cfg = json.dumps(builders.config_doc(lays)).encode()
    (tmp_path / "layer.tar").write_bytes(lays[0].tar)
    members = {"manifest.json": json.dumps([{"Config": "c.json", "Layers": ["../layer.tar"]}]).encode(), "c.json": cfg}
    p = write_tar(tmp_path / "x.tar", members)
    refused(scan_json(p), str(p), "layer 0")


@pytest.mark.parametrize("digest", ["sha256:../../../../etc/passwd", "sha256:" + "0" * 63, "md5:abc", 42])
def test_index_entry_with_bad_digest(tmp_path, digest):
    root = oci_image(tmp_path / "oci", _simple_layers())
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0]["digest"] = digest
    (root / "index.json").write_text(json.dumps(index))
    refused(scan_json(root), str(root))


def test_blob_symlink_leaving_the_layout(tmp_path):
    """blobs/sha256/<manifest> is a symlink to a file outside the layout with the right content."""
    root = oci_image(tmp_path / "oci", _simple_layers())
    index, _ = _manifest(root)
    p = _blob_path(root, index["manifests"][0]["digest"])
    outside = tmp_path / "outside-manifest.json"
    outside.write_bytes(p.read_bytes())
    p.unlink()
    p.symlink_to(outside)
    refused(scan_json(root), str(root), "outside")


def test_oci_archive_blob_symlink_outside(tmp_path):
    """Inside an oci-archive, a blob that is a symlink climbing out of the archive is missing."""
    root = oci_image(tmp_path / "oci", _simple_layers())
    index, _ = _manifest(root)
    import tarfile

    out = tmp_path / "a.tar"
    with tarfile.open(out, "w") as tar:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if rel.endswith(index["manifests"][0]["digest"].split(":")[1]):
                ti = tarfile.TarInfo(rel)
                ti.type, ti.linkname = tarfile.SYMTYPE, "../../../../../etc/passwd"
                tar.addfile(ti)
            else:
                tar.add(path, rel, recursive=False)
    refused(scan_json(out), str(out))


def test_schema1_manifest(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    schema1 = {
        "schemaVersion": 1, "name": "library/x", "tag": "1", "architecture": "amd64",
        "fsLayers": [{"blobSum": sha256(b"")}], "history": [{"v1Compatibility": "{}"}],
    }
    data = json.dumps(schema1).encode()
    _blob_path(root, sha256(data)).write_bytes(data)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=sha256(data), size=len(data),
                                 mediaType="application/vnd.docker.distribution.manifest.v1+prettyjws")
    (root / "index.json").write_text(json.dumps(index))
    refused(scan_json(root), str(root), "schema 1")


def test_index_json_not_an_object(tmp_path):
    root = oci_image(tmp_path / "oci", _simple_layers())
    (root / "index.json").write_text("[1, 2, 3]")
    refused(scan_json(root), str(root), "index.json")


def test_nonexistent_path(tmp_path):
    refused(scan_json(f"docker-archive:{tmp_path}/nope.tar"), "nope.tar")
    refused(scan_json(f"oci:{tmp_path}/nope"), "nope")


def test_blob_that_is_a_fifo(tmp_path):
    """A layer blob that is a FIFO in an OCI layout directory: refused at once, not a hang."""
    root = oci_image(tmp_path / "oci", _simple_layers())
    _, m = _manifest(root)
    p = _blob_path(root, m["layers"][0]["digest"])
    p.unlink()
    os.mkfifo(p)
    refused(scan_json(root), "not a regular file")
