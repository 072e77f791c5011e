"""`gradle.lockfile` (Gradle dependency locking): `group:artifact:version=conf1,conf2` per line.

A dependency locked only in test configurations (`testCompileClasspath`, `testRuntimeClasspath`…) is
dev. Gradle locks the whole resolved graph and does not say which entries are direct."""

from __future__ import annotations

from typing import Any

from hullscan.inventory.lockfiles.declared import record
from hullscan.walk.analyzer import WarnFn


def parse(data: bytes, warn: WarnFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lineno, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coords, _, confs = line.partition("=")
        parts = coords.split(":")
        if len(parts) != 3 or not all(parts):
            warn(f"gradle.lockfile line {lineno}: not group:artifact:version")
            continue
        configurations = [c.strip() for c in confs.split(",") if c.strip()]
        dev = bool(configurations) and all(c.lower().startswith("test") for c in configurations)
        out.append(record(f"{parts[0]}:{parts[1]}", parts[2], dev=dev))
    return out
