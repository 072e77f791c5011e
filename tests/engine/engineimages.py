"""The images the engine tests build (tests/image/builders.py) and load: imported by name (not from a
conftest, several directories have one)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))

import builders as b  # noqa: E402

DPKG = HERE.parent / "inventory" / "testdata" / "dpkg" / "debian-12-osrelease__syft-image-dpkg"
"""syft's image-dpkg test data (tests/inventory/testdata/PROVENANCE.md): Debian 12's os-release and a
dpkg status holding one installed package, libpam-runtime 1.1.8-3.6 (all)."""
TAG = "hullscan-test/engine:1"


@dataclass(frozen=True)
class Built:
    tag: str
    archive: Path


def app_layers(marker: str = "") -> list[b.Layer]:
    """Three layers, the third the first again (`docker save` writes it as a symlink):
    0: /usr/lib/os-release with /etc/os-release a hard link to it (fed from the bytes kept of its target), the dpkg status;
    1: an application file (and `marker`, to make an image of its own)."""
    base = b.layer([
        b.d("etc"), b.d("usr"), b.d("usr/lib"), b.d("var"), b.d("var/lib"), b.d("var/lib/dpkg"),
        b.f("usr/lib/os-release", (DPKG / "etc/os-release").read_bytes()),
        b.hard("etc/os-release", "usr/lib/os-release"),
        b.f("var/lib/dpkg/status", (DPKG / "var/lib/dpkg/status").read_bytes()),
    ], compression="", created_by="ADD base /")
    app = b.layer([b.d("app"), b.f("app/main.sh", "#!/bin/sh\necho hello\n" + marker, mode=0o755)],
                  compression="", created_by="COPY app /app")
    return [base, app, base]


def build(out: Path, tag: str, marker: str = "") -> Built:
    return Built(tag, b.docker_archive(out, app_layers(marker), tags=(tag,)))
