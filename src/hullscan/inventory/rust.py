"""Rust crates: cargo-auditable dependency lists in binaries, and Cargo.lock (declared).

`cargo auditable build` embeds the resolved dependency tree as zlib-compressed JSON in a section
named `.dep-v0` (ELF, PE) or `__dep_v0` (Mach-O). Plain Rust binaries carry no such list: nothing
reliable can be said about them, so they give no packages.
"""

from __future__ import annotations

from typing import Any

from hullscan.inventory.binfmt import BinaryFormatError, is_executable, open_executable
from hullscan.inventory.golang import BINARY_MAX_SIZE, binary_rules
from hullscan.inventory.lockfiles.cargo import flag_cargo_graph, parse_auditable, parse_cargo_lock, parse_cargo_toml
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

ECOSYSTEM = "crates.io"


def cargo_purl(name: str, version: str) -> str:
    return purl("cargo", name, version)


def _package(rec: dict[str, Any], path: str, analyzer: str, kind: str) -> Package:
    extra: dict[str, Any] = {"source": rec["source"]}
    if rec.get("root"):
        extra["root"] = True
    if rec.get("kind") == "build":
        extra["build_only"] = True  # compiled and run at build time, not linked into the binary
    return Package("cargo", rec["name"], rec["version"], ECOSYSTEM, cargo_purl(rec["name"], rec["version"]),
                   analyzer, (path,), kind=kind, dev=bool(rec.get("dev")) or rec.get("kind") == "build",
                   indirect=bool(rec.get("indirect")), extra=extra)


def _parse_binary(path: str, data: bytes, warn: WarnFn) -> Any:
    if not is_executable(data) or (b".dep-v0" not in data and b"__dep_v0" not in data):
        return None  # the section name is in the file of every cargo-auditable binary
    try:
        exe = open_executable(data)
        section = exe.section(".dep-v0", "__dep_v0") if exe is not None else None
    except BinaryFormatError as exc:
        warn(f"unreadable executable: {exc}")
        return None
    if section is None:
        return None
    try:
        return {"crates": parse_auditable(section)}
    except ValueError as exc:
        warn(str(exc))
        return None


class RustBinaryAnalyzer(Analyzer):
    """Crates listed by cargo-auditable in Rust executables (installed packages)."""

    name = "rust-binary"
    version = 1
    files = binary_rules(_parse_binary)
    max_size = BINARY_MAX_SIZE

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs = [_package(rec, path, self.name, "installed")
                for path, ff in sorted(view.files.items()) for rec in ff.fact["crates"]]
        return Assembled(packages=pkgs)


def _parse_lock(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"crates": parse_cargo_lock(data, warn)}


def _parse_manifest(path: str, data: bytes, warn: WarnFn) -> Any:
    manifest = parse_cargo_toml(data, warn)
    return {"manifest": manifest} if manifest else None


# Crates unpacked in a cargo registry cache ship their own manifests: not the image's dependencies.
_NOT_PROJECTS = ("**/registry/src/**",)


class CargoLockAnalyzer(Analyzer):
    """Crates declared by Cargo.lock (dev-only ones flagged from the sibling Cargo.toml)."""

    name = "cargo-lock"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(names=("Cargo.lock",), exclude=_NOT_PROJECTS, parse=_parse_lock),
        FileRule(names=("Cargo.toml",), exclude=_NOT_PROJECTS, parse=_parse_manifest),
    )
    max_size = 32 * MiB

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        for path, ff in sorted(view.files.items()):
            if "crates" not in ff.fact:
                continue
            records = [dict(r) for r in ff.fact["crates"]]
            sibling = view.files.get(path[: -len("Cargo.lock")] + "Cargo.toml")
            flag_cargo_graph(records, sibling.fact.get("manifest") if sibling is not None else None)
            pkgs.extend(_package(rec, path, self.name, "declared") for rec in records)
        return Assembled(packages=pkgs)
