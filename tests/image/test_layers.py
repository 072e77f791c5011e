"""Multi-layer images built in code: whiteouts, opaque dirs, overwritten and deleted files, hard
links, long names, gzip/zstd/uncompressed layers, in every container format hullscan reads.

The squashed result is checked through a recording test analyzer (imagehelp.Recorder), against
what each layer was built with (hand-derived expectations below)."""

from __future__ import annotations

import tarfile

import pytest
from builders import (
    OCILayout,
    d,
    docker25_archive,
    docker_archive,
    f,
    hard,
    layer,
    oci_archive,
    oci_image,
    opaque,
    sym,
    wh,
)
from imagehelp import scan_json

LONG_DIR = "/".join(["deep" + "x" * 40] * 6)  # > 255 bytes: needs PAX / GNU long names


def _layers():
    base = layer(
        [
            d("etc"), f("etc/os-release", 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'),
            d("app"), f("app/a.txt", "a0"), f("app/b.txt", "b0"), d("app/dir"), f("app/dir/x", "x0"),
            f("app/dir/y", "y0"), f("app/keep", "k0"), d("app/gone"), f("app/gone/inner", "g0"),
            f("./etc/app/dotted", "dot0"),
        ],
        compression="gzip",
        created_by="ADD base",
    )
    middle = layer(
        [
            f("app/a.txt", "a1"), wh("app/b.txt"), opaque("app/dir"), f("app/dir/z", "z1"), wh("app/gone"),
            f("app/new", "n1"), f("app/h1", "h"), hard("app/h2", "app/h1"), sym("app/s", "keep"),
        ],
        compression="zstd",
        created_by="RUN change",
    )
    top = layer(
        [
            wh("app/new"), f("etc/os-release", 'ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n'),
            f(f"app/{LONG_DIR}/marker", "long"),
        ],
        compression="",
        created_by="COPY top",
    )
    return [base, middle, top]


def _gnu_top():
    """The same top layer in GNU tar format (././@LongLink members) instead of PAX."""
    lay = _layers()
    import builders

    lay[2] = builders.Layer(builders.layer_tar(
        [wh("app/new"), f("etc/os-release", 'ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n'),
         f(f"app/{LONG_DIR}/marker", "long")], fmt=tarfile.GNU_FORMAT), "", "COPY top")
    return lay


EXPECTED_FILES = {
    "/app/a.txt": {"content": "a1", "layer": 1},
    "/app/keep": {"content": "k0", "layer": 0},
    "/app/dir/z": {"content": "z1", "layer": 1},
    "/app/h1": {"content": "h", "layer": 1},
    "/app/h2": {"content": "h", "layer": 1},
    f"/app/{LONG_DIR}/marker": {"content": "long", "layer": 2},
    "/etc/app/dotted": {"content": "dot0", "layer": 0},
}
EXPECTED_HISTORY = sorted([
    ["/app/a.txt", 0, 1, "a0"],       # replaced
    ["/app/b.txt", 0, 1, "b0"],       # whiteout
    ["/app/dir/x", 0, 1, "x0"],       # opaque dir
    ["/app/dir/y", 0, 1, "y0"],
    ["/app/gone/inner", 0, 1, "g0"],  # whiteout of the directory
    ["/app/new", 1, 2, "n1"],
])


def _build(kind: str, tmp_path, layers):
    if kind == "oci":
        return oci_image(tmp_path / "oci", layers, tag="t1")
    if kind == "oci-archive":
        return oci_archive(oci_image(tmp_path / "oci", layers, tag="t1"), tmp_path / "img.oci.tar")
    if kind == "docker-archive":
        return docker_archive(tmp_path / "img.tar", layers)
    if kind == "docker-archive-gz":
        return docker_archive(tmp_path / "img.tar.gz", layers, gz=True)
    if kind == "docker25":
        return docker25_archive(tmp_path / "img25.tar", layers)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["oci", "oci-archive", "docker-archive", "docker-archive-gz", "docker25"])
def test_squash_and_history_every_format(recorder_scan, tmp_path, kind):
    layers = _layers()
    target = _build(kind, tmp_path, layers)
    result = recorder_scan(target)
    facts = result.inventory.facts["test-recorder"]
    assert facts["files"] == EXPECTED_FILES
    assert facts["history"] == EXPECTED_HISTORY
    assert result.inventory.os is not None and result.inventory.os.version == "3.20.0"
    assert [lay.diff_id for lay in result.image.layers] == [lay.diff_id for lay in layers]
    # DESIGN.md: a Docker >= 25 tar (manifest.json + OCI layout) is read as the OCI layout it holds
    expected_type = {"docker-archive-gz": "docker-archive", "docker25": "oci-archive"}.get(kind, kind)
    assert result.image.source_type == expected_type
    # the hard link to a file of a lower layer is the only thing worth a warning here: none expected
    assert [w for w in result.inventory.warnings if "/app/" in (w.path or "")] == []


def test_gnu_long_names(recorder_scan, tmp_path):
    result = recorder_scan(oci_image(tmp_path / "oci", _gnu_top()))
    assert result.inventory.facts["test-recorder"]["files"] == EXPECTED_FILES


def test_squash_through_cache_is_identical(recorder_scan, tmp_path):
    target = _build("oci", tmp_path, _layers())
    cold = recorder_scan(target, cache=tmp_path / "cache")
    warm = recorder_scan(target, cache=tmp_path / "cache")
    assert cold.stats["walked"] == 3 and warm.stats["walked"] == 0 and warm.stats["cached"] == 3
    assert warm.inventory.facts["test-recorder"] == cold.inventory.facts["test-recorder"]
    assert warm.inventory.facts["test-recorder"]["history"] == EXPECTED_HISTORY


@pytest.mark.parametrize("compression", ["gzip", "zstd", ""])
def test_each_compression_cli(tmp_path, compression):
    layers = [layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")], compression=compression)]
    target = oci_image(tmp_path / "oci", layers)
    run = scan_json(target)
    assert run.code == 0, run.stderr
    rep = run.report
    assert rep["layers"][0]["diff_id"] == layers[0].diff_id
    assert rep["layers"][0]["media_type"].endswith({"gzip": "+gzip", "zstd": "+zstd", "": ".tar"}[compression])
    assert rep["os"]["family"] == "debian" and rep["os"]["version"] == "12"


def test_media_type_disagreeing_with_magic_is_read_by_content(tmp_path):
    """A zstd blob labelled +gzip: the magic bytes decide, the digests still verify."""
    lay = layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")], compression="zstd")
    oci = OCILayout(tmp_path / "oci")
    import builders

    orig = builders.LAYER_MT["zstd"]
    builders.LAYER_MT["zstd"] = builders.LAYER_MT["gzip"]
    try:
        oci.add(oci.image([lay]), tag="x")
    finally:
        builders.LAYER_MT["zstd"] = orig
    run = scan_json(oci.save())
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "12"


def _multi_platform(tmp_path):
    """index.json → (tag multi) nested index → amd64 and arm64/v8 images; plus a second tag `single`."""
    oci = OCILayout(tmp_path / "multi")
    amd = oci.image([layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")])], arch="amd64")
    arm = oci.image([layer([f("etc/os-release", "ID=debian\nVERSION_ID=11\n")])], arch="arm64", variant="v8")
    attestation = oci.image([layer([f("x", "attestation")])], arch="unknown", os_="unknown")
    nested = oci.index([
        {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
        {**arm, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {**attestation, "platform": {"os": "unknown", "architecture": "unknown"}},
    ])
    outer = oci.index([nested])  # nested twice
    oci.add(outer, tag="multi")
    single = oci.image([layer([f("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")])])
    oci.add(single, tag="single")
    return oci.save(), amd, arm, single


def test_nested_multi_platform_index(tmp_path):
    root, amd, arm, single = _multi_platform(tmp_path)
    run = scan_json(f"oci:{root}:multi", "--platform", "linux/arm64")
    assert run.code == 0, run.stderr
    assert run.report["architecture"] == "arm64" and run.report["os"]["version"] == "11"
    assert run.report["target"]["manifest_digest"] == arm["digest"]

    run = scan_json(f"oci:{root}:multi", "--platform", "linux/arm64/v8")
    assert run.code == 0 and run.report["target"]["manifest_digest"] == arm["digest"]

    run = scan_json(f"oci:{root}:multi", "--platform", "linux/amd64")
    assert run.code == 0 and run.report["target"]["manifest_digest"] == amd["digest"]

    run = scan_json(f"oci:{root}@{single['digest']}")
    assert run.code == 0, run.stderr
    assert run.report["os"]["family"] == "alpine"

    run = scan_json(f"oci:{root}:multi", "--platform", "linux/s390x")
    assert run.code == 2 and "linux/amd64" in run.stderr and "linux/arm64/v8" in run.stderr

    run = scan_json(f"oci:{root}:multi", "--platform", "linux")
    assert run.code == 2 and "--platform" in run.stderr and "Traceback" not in run.stderr


def test_several_manifests_no_tag_lists_them(tmp_path):
    root, *_ = _multi_platform(tmp_path)
    run = scan_json(root)
    assert run.code == 2
    line = run.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "tag multi" in line and "tag single" in line


def test_hard_link_to_lower_layer_is_a_warning(recorder_scan, tmp_path):
    layers = [layer([f("app/t", "t0")]), layer([hard("app/l", "app/t")])]
    result = recorder_scan(oci_image(tmp_path / "oci", layers))
    assert "/app/l" not in result.inventory.facts["test-recorder"]["files"]
    assert any(w.path == "/app/l" and w.layer == 1 for w in result.inventory.warnings)


def test_whiteout_then_readd_in_the_same_layer(recorder_scan, tmp_path):
    """A whiteout removes lower layers' copies only: the same layer may write the path again."""
    import builders

    layers = [
        layer([f("app/a.txt", "a0"), f("app/gone/old", "o0"), f("app/keep", "k0")]),
        layer([wh("app/a.txt"), f("app/a.txt", "a1"), wh("app/gone"), f("app/gone/new", "n1")]),
        builders.Layer(b"", "gzip"),           # an empty blob: 0 bytes of tar
        builders.Layer(b"\0" * 10240, ""),     # an empty tar: just the end-of-archive blocks
    ]
    result = recorder_scan(oci_image(tmp_path / "oci", layers))
    facts = result.inventory.facts["test-recorder"]
    assert facts["files"] == {
        "/app/a.txt": {"content": "a1", "layer": 1},
        "/app/gone/new": {"content": "n1", "layer": 1},
        "/app/keep": {"content": "k0", "layer": 0},
    }
    assert facts["history"] == [["/app/a.txt", 0, 1, "a0"], ["/app/gone/old", 0, 1, "o0"]]
    assert len(result.image.layers) == 4


def test_parallel_and_serial_walks_agree(recorder_scan, tmp_path, monkeypatch):
    """Layers walked in forked workers (HULLSCAN_PARALLEL) give exactly the serial result."""
    target = _build("oci", tmp_path, _layers())
    results = {}
    for workers in ("1", "3"):
        monkeypatch.setenv("HULLSCAN_PARALLEL", workers)
        r = recorder_scan(target)
        results[workers] = (r.inventory.facts["test-recorder"], [(w.message, w.path, w.layer) for w in r.inventory.warnings],
                            r.inventory.os)
    assert results["1"] == results["3"]
    assert results["1"][0]["files"] == EXPECTED_FILES
