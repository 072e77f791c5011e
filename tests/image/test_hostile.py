"""Hostile members inside a readable layer, crafted in code, through the real CLI: a warning naming
the layer and the member, the member neutralized or skipped, the scan goes on (exit 0) within
250 MB of memory, and nothing of the host is read or written."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import builders
import pytest
from builders import E, RepeatLayer, d, f, hard, layer, oci_from_files, oci_image, sym
from imagehelp import scan_json as _scan_json


def scan_json(*args, **kw):
    """A fresh `hullscan` process, as users run it (peak RSS measured)."""
    return _scan_json(*args, fresh=True, **kw)

MAX_RSS_MB = 250
HOST_PASSWD = Path("/etc/passwd").read_text().splitlines()[0]


def _warned(report: dict, layer: int, path_part: str, *words: str) -> dict:
    for w in report["warnings"]:
        text = f"{w['path']} {w['message']}".lower()
        if w["layer"] == layer and path_part in (w["path"] or "") and all(x.lower() in text for x in words):
            return w
    raise AssertionError(f"no warning for layer {layer} {path_part} {words}: {report['warnings']}")


def _no_host_content(run) -> None:
    assert HOST_PASSWD not in run.stdout
    host_os = Path("/etc/os-release")
    if host_os.exists():
        pretty = [ln for ln in host_os.read_text().splitlines() if ln.startswith("PRETTY_NAME=")]
        assert not pretty or pretty[0].split("=", 1)[1].strip('"') not in run.stdout


def test_hostile_members(tmp_path):
    escape_name = f"hullscan-escape-{uuid.uuid4().hex}"
    base = layer([
        d("etc"), f("etc/alpine-release", "3.19.1\n"), f("etc/passwd", "root:x:0:0:image:/root:/bin/ash\n"),
    ])
    hostile = layer([
        # names climbing out of the root, and an absolute name (read as an image path)
        f("../../../../../../../../tmp/" + escape_name, "escaped"),
        f("etc/../../../tmp/" + escape_name, "escaped"),
        f("/etc/issue", "absolute name\n"),
        # OS files an analyzer looks at, each hostile
        sym("etc/os-release", "../../../../../../../../../etc/os-release"),  # climbs out
        sym("usr/lib/os-release", "/usr/lib/os-release-loop"),               # symlink loop
        sym("usr/lib/os-release-loop", "/usr/lib/os-release"),
        hard("etc/debian_version", "../../../../etc/debian_version"),         # hard link out of the image
        hard("etc/redhat-release", "etc/no-such-file"),                        # hard link to nothing
        E("etc/lsb-release", kind="fifo"),                                     # FIFO where an analyzer looks
        E("var/lib/dpkg/status", kind="chr"),                                  # device node there
        sym("lib/apk/db/installed", "/etc/passwd"),                             # points at the host's file by name
        # whiteouts pointing outside their directory / the root
        f("etc/.wh..", ""),
        f("../.wh.etc", ""),
    ])
    target = oci_image(tmp_path / "oci", [base, hostile])
    run = scan_json(target)
    assert run.code == 0, run.stderr
    rep = run.report
    _warned(rep, 1, escape_name, "escapes")
    _warned(rep, 1, "/etc/os-release", "outside")
    _warned(rep, 1, "/etc/debian_version", "outside")
    _warned(rep, 1, "/etc/redhat-release", "hard link")
    _warned(rep, 1, "/etc/lsb-release", "fifo")
    _warned(rep, 1, "/var/lib/dpkg/status", "device")
    _warned(rep, 1, ".wh..", "whiteout")
    _warned(rep, 1, ".wh.etc", "escapes")
    _warned(rep, 1, "/etc/issue", "absolute")
    # the image is not hidden: its OS is still found, from its own alpine-release
    assert rep["os"] is not None and rep["os"]["family"] == "alpine" and rep["os"]["version"] == "3.19.1"
    _no_host_content(run)
    assert not Path("/tmp", escape_name).exists()
    assert not (Path.cwd() / escape_name).exists()
    assert run.maxrss_mb < MAX_RSS_MB


def test_warnings_are_capped_per_layer(tmp_path):
    """10,000 escaping members: the report stays small (the walker keeps a bounded number)."""
    entries = [f(f"../x{i}", "") for i in range(10_000)] + [f("etc/alpine-release", "3.19.1\n")]
    run = scan_json(oci_image(tmp_path / "oci", [layer(entries)]))
    assert run.code == 0, run.stderr
    assert 10 <= len(run.report["warnings"]) <= 1000
    assert run.report["os"]["version"] == "3.19.1"


def test_hostile_rootfs_dir(tmp_path):
    """`dir:` targets: symlinks to host files and FIFOs are never opened."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "alpine-release").write_text("3.18.4\n")
    (root / "etc" / "os-release").symlink_to("/etc/os-release")
    (root / "usr" / "lib").mkdir(parents=True)
    os.mkfifo(root / "usr" / "lib" / "os-release")
    (root / "lib" / "apk" / "db").mkdir(parents=True)
    (root / "lib" / "apk" / "db" / "installed").symlink_to("/etc/passwd")
    run = scan_json(f"dir:{root}")
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "3.18.4"
    _no_host_content(run)
    assert any("/usr/lib/os-release" == w["path"] for w in run.report["warnings"])


# -- heavy ones: big, but built in seconds as repeated gzip members ------------------------------

MiB = 1 << 20


def _big_image(tmp_path: Path, rl: RepeatLayer) -> Path:
    base = RepeatLayer().small([d("etc"), f("etc/alpine-release", "3.19.1\n")]).end()
    blobs = []
    for i, part in enumerate((base, rl)):
        p = tmp_path / f"blob{i}"
        digest, diff_id, size = part.write(p)
        blobs.append((p, digest, diff_id, size))
    return oci_from_files(tmp_path / "oci", blobs)


@pytest.mark.slow
def test_decompression_bomb(tmp_path):
    """1 GiB of zeros (about 1 MB of gzip) where the dpkg analyzer looks."""
    rl = RepeatLayer().file("var/lib/dpkg/status", b"\0" * (64 * MiB), 16).end()
    run = scan_json(_big_image(tmp_path, rl))
    assert run.code == 0, run.stderr
    _warned(run.report, 1, "/var/lib/dpkg/status", "exceeds")
    assert run.report["os"]["version"] == "3.19.1"
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


@pytest.mark.slow
@pytest.mark.parametrize("where", ["var/lib/rpm/Packages", "opt/app/big.jar", "etc/os-release"])
def test_500mb_without_newline(tmp_path, where):
    """500 MB of one line at a path an analyzer wants (rpm and jar analyzers accept big files)."""
    rl = RepeatLayer().file(where, b"A" * (50 * MiB), 10).small([f("etc/marker", "after\n")]).end()
    run = scan_json(_big_image(tmp_path, rl))
    assert run.code == 0, run.stderr
    _warned(run.report, 1, "/" + where)
    assert run.report["os"]["version"] == "3.19.1"
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


@pytest.mark.slow
def test_file_just_under_the_read_cap(tmp_path):
    """120 MiB where the jar analyzer looks (its max_size is larger): read once, memory still bounded."""
    rl = RepeatLayer().file("opt/app/big.jar", b"PK" * (6 * MiB), 10).end()
    run = scan_json(_big_image(tmp_path, rl))
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "3.19.1"
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


@pytest.mark.slow
def test_300k_tiny_files(tmp_path):
    rl = RepeatLayer()
    chunk = bytearray()
    for i in range(300_000):
        chunk += builders.tar_header(f"usr/share/many/{i // 1000}/f{i}", 1) + b"x" + b"\0" * 511
        if len(chunk) > 32 * MiB:
            rl.add(bytes(chunk))
            chunk = bytearray()
    rl.add(bytes(chunk)).small([f("etc/alpine-release", "3.20.3\n")]).end()
    run = scan_json(_big_image(tmp_path, rl))
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "3.20.3"
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


def test_undecodable_member_names(tmp_path):
    """Names that are not UTF-8 (raw ustar bytes): reported with U+FFFD, in every format, no traceback."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        for name, data in (("../esc\udcff", b"x"), ("opt/caf\udce9/marker.txt", b"x"),
                           ("etc/os-release", b"ID=debian\nVERSION_ID=12\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    target = oci_image(tmp_path / "oci", [builders.Layer(buf.getvalue(), "gzip")])
    run = scan_json(target)
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "12"
    _warned(run.report, 0, "../esc\ufffd", "escapes")
    from imagehelp import run_cli

    table = run_cli("image", str(target), "--format", "table", "--no-cache", "--scanners", "license")
    assert table.code == 0 and "Traceback" not in table.stderr, table.stderr


@pytest.mark.slow
def test_zstd_bomb(tmp_path):
    """1 GiB of zeros as one zstd layer (a few hundred KB): read in bounded chunks, warned, scan goes on."""
    import hashlib
    import json

    import zstandard

    zeros = b"\0" * (64 * MiB)
    header = builders.tar_header("var/lib/dpkg/status", 16 * len(zeros))
    diff = hashlib.sha256()
    blob_path = tmp_path / "bomb.zst"
    with open(blob_path, "wb") as fh:
        with zstandard.ZstdCompressor(level=3).stream_writer(fh, closefd=False) as w:
            for part in [header] + [zeros] * 16 + [b"\0" * 1024]:
                diff.update(part)
                w.write(part)
    blob = blob_path.read_bytes()
    base = builders.layer([f("etc/alpine-release", "3.19.1\n")])
    oci = builders.OCILayout(tmp_path / "oci")
    cfg = builders.config_doc([base])
    cfg["rootfs"]["diff_ids"].append("sha256:" + diff.hexdigest())
    manifest = {
        "schemaVersion": 2, "mediaType": builders.OCI_MANIFEST,
        "config": oci.blob(json.dumps(cfg).encode(), builders.OCI_CONFIG),
        "layers": [oci.blob(base.blob, builders.LAYER_MT["gzip"]), oci.blob(blob, builders.LAYER_MT["zstd"])],
    }
    oci.add(oci.blob(json.dumps(manifest).encode(), builders.OCI_MANIFEST), tag="bomb")
    run = scan_json(oci.save())
    assert run.code == 0, run.stderr
    _warned(run.report, 1, "/var/lib/dpkg/status", "exceeds")
    assert run.report["os"]["version"] == "3.19.1"
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


@pytest.mark.slow
def test_megabyte_names(tmp_path):
    """40 PAX names and link targets of 7.5 MB each (gzip makes them tiny): skipped with a short
    warning; neither the walker's path sets nor the warnings hold them."""
    import tarfile

    rl = RepeatLayer().small([f("etc/alpine-release", "3.19.1\n")])
    for i in range(40):
        ti = tarfile.TarInfo(f"d{i}/" + "a" * 7_500_000 if i % 2 else f"etc/link{i}")
        if not i % 2:
            ti.type, ti.linkname = tarfile.SYMTYPE, "b" * 7_500_000
        rl.add(ti.tobuf(format=tarfile.PAX_FORMAT))
    run = scan_json(_big_image(tmp_path, rl.end()))
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "3.19.1"
    assert len(run.stdout) < 1_000_000
    _warned(run.report, 1, "etc/link0", "PATH_MAX")
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb


@pytest.mark.slow
def test_many_long_names(tmp_path):
    """20,000 distinct names of ~4,000 characters (legal, under PATH_MAX): the paths kept per layer
    are capped, with a warning; the scan (cache on) stays within the memory budget."""
    import tarfile

    rl = RepeatLayer()
    chunk = bytearray()
    deep = "/".join(["x" * 250] * 15)
    for i in range(20_000):
        ti = tarfile.TarInfo(f"{deep}/{i:08d}")
        chunk += ti.tobuf(format=tarfile.PAX_FORMAT)
        if len(chunk) > 8 * MiB:
            rl.add(bytes(chunk))
            chunk = bytearray()
    rl.add(bytes(chunk)).small([f("etc/alpine-release", "3.20.3\n")]).end()
    run = scan_json(_big_image(tmp_path, rl), cache=tmp_path / "cache")
    assert run.code == 0, run.stderr
    assert run.report["os"]["version"] == "3.20.3"
    _warned(run.report, 1, "/x", "characters of paths")
    assert run.maxrss_mb < MAX_RSS_MB, run.maxrss_mb
