"""A real docker-archive, three layers, read through the image walker: the rpmdb of layer 0 (Rocky 8,
13 packages), replaced in layer 1 by one where gamma was upgraded and meta erased (`rpm -U/-e --justdb`),
and a layer 2 that does not touch it. Layers and history are checked against rpm's own listings."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

from hullscan.image.target import open_image
from hullscan.inventory.applier import apply_layers
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.inventory.rpm.analyzer import RpmAnalyzer
from hullscan.walk.layers import collect_facts
from testsupport import require_tool

sys.path.insert(0, str(Path(__file__).parent))
import _rpmdb_build  # noqa: E402

ROCKY = b'NAME="Rocky Linux"\nVERSION="8.9 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n' \
        b'VERSION_ID="8.9"\nPRETTY_NAME="Rocky Linux 8.9 (Green Obsidian)"\n'


def _layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for path, data in files.items():
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _docker_archive(path: Path, layers: list[bytes]) -> None:
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }).encode()
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    names = [f"{d[7:]}/layer.tar" for d in diff_ids]
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["test/rpm:1"], "Layers": names}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in [(cfg_name, config), ("manifest.json", manifest), *zip(names, layers, strict=False)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _qa(path: Path) -> dict[str, str]:
    """name → [epoch:]version-release from rpm's listing."""
    out = {}
    for line in path.read_text().splitlines():
        name, epoch, version, release = line.split("\t")[:4]
        out[name] = f"{epoch + ':' if epoch else ''}{version}-{release}"
    return out


def test_layers_and_history_through_the_walker(tmp_path: Path) -> None:
    for tool in ("rpm", "rpmbuild", "db5.3_load"):
        require_tool(tool)
    built = _rpmdb_build.built_db()
    archive = tmp_path / "image.tar"
    _docker_archive(archive, [
        _layer({"etc/os-release": ROCKY, "var/lib/rpm/Packages": (built / "bdb-le" / "Packages").read_bytes()}),
        _layer({"var/lib/rpm/Packages": (built / "updated" / "Packages").read_bytes()}),
        _layer({"usr/share/doc/notes.txt": b"unrelated\n"}),
    ])
    analyzers = [OSReleaseAnalyzer(), RpmAnalyzer()]
    facts, _stats = collect_facts(open_image(f"docker-archive:{archive}"), analyzers, None)
    inv = apply_layers(analyzers, facts)
    assert inv.warnings == []
    before, after = _qa(built / "bdb-le" / "qa.txt"), _qa(built / "updated" / "qa.txt")
    assert {p.name: p.version for p in inv.packages} == after
    layer_of = {p.name: p.layer.index for p in inv.packages}
    assert layer_of == {n: (0 if before.get(n) == v else 1) for n, v in after.items()}
    assert layer_of["gamma"] == 1 and layer_of["alpha"] == 0
    history = sorted((h.package.name, h.package.version, h.removed_in.index, h.replaced_by) for h in inv.history)
    assert history == [("gamma", before["gamma"], 1, after["gamma"]), ("meta", before["meta"], 1, "")]
    rocky = {p.name: p for p in inv.packages}["beta"]
    assert rocky.purl == "pkg:rpm/rocky/beta@3.4.5-7.el9?arch=x86_64&distro=rocky-8&epoch=2"
    assert rocky.ecosystem == "Rocky Linux:8"
