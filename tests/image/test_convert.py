"""One image built by umoci (Debian) from a small synthetic rootfs, converted by skopeo between OCI
layout, docker-archive and oci-archive (and zstd): hullscan reads the same layers, diff_ids, file
trees and facts from each. Expectations: the rootfs we wrote, and the configs the tools wrote."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from imagehelp import Recorder
from imagehelp import require_tool as require_tool_here

ROOT_FILES = {
    "etc/os-release": "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    "etc/app/settings.conf": "mode=prod\n",
    "app/main.py": "print('hi')\n",
    "app/lib/util.py": "X = 1\n",
    "app/old.txt": "old\n",
    "usr/share/doc/pkg/README": "docs\n",
    "usr/share/doc/pkg/NEWS": "news\n",
    "bin/tool": "#!/bin/sh\necho tool\n",
}
LINKS = {"app/current": "main.py"}  # symlink
HARD = {"app/main-hard.py": "app/main.py"}


def _run(*cmd: str) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, (cmd, p.stderr)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    umoci = require_tool_here("umoci")
    skopeo = require_tool_here("skopeo")
    tmp = tmp_path_factory.mktemp("convert")
    rootfs = tmp / "rootfs"
    for rel, text in ROOT_FILES.items():
        p = rootfs / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (rootfs / "bin/tool").chmod(0o755)
    for rel, target in LINKS.items():
        (rootfs / rel).symlink_to(target)
    for rel, target in HARD.items():
        os.link(rootfs / target, rootfs / rel)
    oci = tmp / "oci"
    _run(umoci, "init", "--layout", str(oci))
    _run(umoci, "new", "--image", f"{oci}:base")
    rootless = [] if os.geteuid() == 0 else ["--rootless"]  # umoci needs it to unpack as a normal user
    _run(umoci, "unpack", *rootless, "--image", f"{oci}:base", str(tmp / "b1"))
    _run("cp", "-a", f"{rootfs}/.", str(tmp / "b1" / "rootfs"))
    _run(umoci, "repack", *rootless, "--image", f"{oci}:base", str(tmp / "b1"))
    _run(umoci, "config", "--image", f"{oci}:base", "--config.cmd", "/bin/tool", "--os", "linux",
         "--architecture", "amd64", "--tag", "base")
    _run(umoci, "unpack", *rootless, "--image", f"{oci}:base", str(tmp / "b2"))
    r2 = tmp / "b2" / "rootfs"
    (r2 / "app" / "old.txt").unlink()
    subprocess.run(["rm", "-rf", str(r2 / "usr/share/doc/pkg")], check=True)
    (r2 / "app" / "main.py").write_text("print('v2')\n")
    (r2 / "app" / "new.txt").write_text("new\n")
    _run(umoci, "repack", *rootless, "--image", f"{oci}:layered", str(tmp / "b2"))
    _run(umoci, "gc", "--layout", str(oci))
    out = {
        "oci": f"oci:{oci}:layered",
        "docker-archive": f"docker-archive:{tmp / 'img.docker.tar'}",
        "oci-archive": f"oci-archive:{tmp / 'img.oci.tar'}",
        "oci-zstd": f"oci:{tmp / 'oci-zstd'}:layered",
        "oci-copy": f"oci:{tmp / 'oci-copy'}:layered",
    }
    src = f"oci:{oci}:layered"
    _run(skopeo, "copy", src, f"docker-archive:{tmp / 'img.docker.tar'}:test/layered:1.0")
    _run(skopeo, "copy", src, f"oci-archive:{tmp / 'img.oci.tar'}:layered")
    _run(skopeo, "copy", "--dest-compress-format", "zstd", "--dest-compress", src, f"oci:{tmp / 'oci-zstd'}:layered")
    # round trip: docker-archive back into a fresh OCI layout
    _run(skopeo, "copy", f"docker-archive:{tmp / 'img.docker.tar'}", f"oci:{tmp / 'oci-copy'}:layered")
    index = json.loads((oci / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "layered")
    manifest = json.loads((oci / "blobs/sha256" / entry["digest"].split(":")[1]).read_text())
    config = json.loads((oci / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_text())
    return out, config


def _view(target: str):
    from hullscan.image.target import open_image
    from hullscan.walk.walker import walk_tar_layer

    image = open_image(target)
    try:
        walked = []
        for lay in image.layers:
            lf, runs, warnings = walk_tar_layer(lay, [Recorder()])
            walked.append((lf.written, sorted(lf.deleted), sorted(lf.opaque), runs["test-recorder"].facts, warnings))
        return image, walked
    finally:
        image.close()


def test_every_format_reads_the_same(images):
    targets, config = images
    diff_ids = config["rootfs"]["diff_ids"]
    assert len(diff_ids) == 2
    views = {}
    for kind, target in targets.items():
        image, walked = _view(target)
        assert [lay.diff_id for lay in image.layers] == diff_ids, kind
        views[kind] = walked
    first = views["oci"]
    # layer 0: every non-directory of the rootfs, plus nothing else
    expected0 = {"/" + p for p in (*ROOT_FILES, *LINKS, *HARD)}
    assert first[0][0] == expected0
    # layer 1: umoci wrote the changed/new files and whiteouts for the deleted ones
    assert {"/app/main.py", "/app/new.txt"} <= first[1][0]
    assert "/app/old.txt" in first[1][1] and ("/usr/share/doc/pkg" in first[1][1] or "/usr/share/doc" in first[1][2])
    assert first[0][3]["/app/main.py"] == "print('hi')\n"
    assert first[0][3]["/app/main-hard.py"] == "print('hi')\n"  # hard link read through its target
    assert first[1][3]["/app/main.py"] == "print('v2')\n"
    for kind, walked in views.items():
        assert walked == first, kind


def test_reports_agree(images):
    from imagehelp import scan_json

    targets, config = images
    reports = {}
    for kind, target in targets.items():
        run = scan_json(target)
        assert run.code == 0, (kind, run.stderr)
        reports[kind] = run.report
    for kind, rep in reports.items():
        assert [ln["diff_id"] for ln in rep["layers"]] == config["rootfs"]["diff_ids"], kind
        assert rep["os"]["version"] == "12" and rep["architecture"] == "amd64"
        assert rep["config"]["cmd"] == ["/bin/tool"]
        assert rep["warnings"] == [], (kind, rep["warnings"])
    assert reports["docker-archive"]["target"]["repo_tags"] and "test/layered:1.0" in reports["docker-archive"]["target"]["repo_tags"][0]
    zstd_types = {ln["media_type"] for ln in reports["oci-zstd"]["layers"]}
    assert zstd_types == {"application/vnd.oci.image.layer.v1.tar+zstd"}
