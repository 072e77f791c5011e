"""What the base catalog tests share with their fixtures (a module of its own: several test directories
have a conftest.py, so `from conftest import …` would name whichever loaded first)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import Layer  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]

OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')


def stanza(name: str, version: str, source: str = "") -> str:
    return (f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            + (f"Source: {source}\n" if source else "") + f"Version: {version}\n\n")


# (name, version, source) of the dpkg status each base's top layer writes: what the catalog must list
MINBASE_PKGS = [("zlib1g", "1:1.2.13.dfsg-1", "zlib"), ("libc6", "2.36-9+deb12u4", "glibc")]
PLUS_PKGS = [*MINBASE_PKGS, ("curl", "7.88.1-10+deb12u5", "")]


@dataclass
class Built:
    """What a test knows about an image from how it built it (never from hullscan)."""

    target: str
    manifest_digest: str
    config_digest: str
    diff_ids: list[str]


@dataclass
class Images:
    minbase: Built  # OCI layout, ref.name `debian:12`
    plus: Built  # docker save, RepoTags example/debian-plus:12 and :bookworm (minbase + one layer)
    app: Built  # OCI layout on plus, ref.name `latest` only (names no repository)
    other: Built  # OCI layout of an unrelated layer, ref.name `example/debian-plus:12` (the tag moves to it)
    layers: dict[str, Layer]
