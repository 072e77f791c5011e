"""Native linkage level on a real Debian root (debootstrap minbase, copied): an entrypoint built with
gcc that links zlib (package zlib1g) and a library of its own found through RUNPATH `$ORIGIN` behind
a soname symlink — and not liblzma5 or libzstd1, which the root also holds. Expected levels follow
from how the test builds the program: zlib1g and libc6 (the loader, libc) supply the closure; liblzma5
and libzstd1 do not (not_loaded); a shell entrypoint leaves every package unknown."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hullscan.inventory.applier import apply_layers
from hullscan.inventory.dpkg import DpkgAnalyzer
from hullscan.inventory.elf_dynamic import ElfDynamicAnalyzer
from hullscan.inventory.symlinks import SymlinkAnalyzer
from hullscan.model.findings import Finding
from hullscan.model.image import ImageConfig
from hullscan.reach.assess import assess
from hullscan.walk.walker import walk_rootfs
from testsupport import debian_rootfs, require_tool

MAIN_C = r"""
#include <stdio.h>
#include <zlib.h>
const char *hello(void);
int main(void) { printf("%s %s\n", hello(), zlibVersion()); return 0; }
"""
LIB_C = r"""const char *hello(void) { return "hello"; }"""
ZLIB_H = "const char *zlibVersion(void);\n"  # the one declaration used (no zlib1g-dev needed)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = require_tool("gcc")
    require_tool("debootstrap")
    base = debian_rootfs()
    dest = tmp_path_factory.mktemp("reach-elf") / "root"
    shutil.copytree(base, dest, symlinks=True, ignore=shutil.ignore_patterns("proc", "sys", "dev"))
    src = dest.parent / "src"
    src.mkdir()
    (src / "main.c").write_text(MAIN_C)
    (src / "lib.c").write_text(LIB_C)
    (src / "zlib.h").write_text(ZLIB_H)
    app = dest / "opt" / "app"
    (app / "bin").mkdir(parents=True)
    (app / "lib").mkdir()
    # libhello.so.1.0 with soname libhello.so.1, reached through the symlink libhello.so.1 (ldconfig's)
    subprocess.run([gcc, "-shared", "-fPIC", "-Wl,-soname,libhello.so.1", "-o", str(app / "lib" / "libhello.so.1.0"),
                    str(src / "lib.c")], check=True)
    os.symlink("libhello.so.1.0", app / "lib" / "libhello.so.1")
    os.symlink("libhello.so.1.0", src / "libhello.so")
    shutil.copy(app / "lib" / "libhello.so.1.0", src / "libhello.so.1.0")
    # links the host's libz.so.1 by its soname (no dev package needed); DT_NEEDED libz.so.1 as in the root
    subprocess.run([gcc, "-o", str(app / "bin" / "app"), str(src / "main.c"), f"-I{src}", f"-L{src}", "-lhello",
                    "-l:libz.so.1", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"], check=True)
    os.symlink("/opt/app/bin/app", dest / "usr" / "local" / "bin" / "app")  # the entrypoint, through PATH
    (dest / "entrypoint.sh").write_text("#!/bin/sh\nexec app \"$@\"\n")
    (dest / "entrypoint.sh").chmod(0o755)
    return dest


def _inventory(root: Path):  # type: ignore[no-untyped-def]
    analyzers = [DpkgAnalyzer(), SymlinkAnalyzer(), ElfDynamicAnalyzer()]
    lf, _ = walk_rootfs(str(root), analyzers)
    return apply_layers(analyzers, [lf])


def _finding(pkg) -> Finding:  # type: ignore[no-untyped-def]
    return Finding(id=f"CVE-TEST-{pkg.name}", aliases=(), package=pkg, status="affected", fixed_version="",
                   severity="HIGH", severity_source="", cvss=None, epss=None, kev=None, title="", references=(),
                   data_source="debian", advisory_ids=(), published=None)


WANTED = ("zlib1g", "libc6", "liblzma5", "libzstd1", "bash")


def _levels(root: Path, config: ImageConfig) -> dict[str, tuple[str, tuple[str, ...]]]:
    inv = _inventory(root)
    findings = [_finding(p) for p in inv.packages if p.name in WANTED]
    assert sorted(f.package.name for f in findings) == sorted(WANTED)
    out, warnings = assess(config, inv.facts, inv.packages, findings)
    assert warnings == []
    return {f.package.name: (f.reachability.level, f.reachability.evidence) for f in out if f.reachability}


def test_the_entrypoints_closure_decides_the_os_packages(root: Path) -> None:
    config = ImageConfig(raw={}, entrypoint=("app",), env=("PATH=/usr/local/bin:/usr/bin:/bin",))
    levels = _levels(root, config)
    # app → libhello.so.1 (RUNPATH $ORIGIN/../lib, a symlink), libz.so.1 (zlib1g), libc.so.6 and the loader (libc6)
    assert levels["zlib1g"][0] == "reachable"
    assert any("libz.so.1" in e for e in levels["zlib1g"][1]), levels["zlib1g"]
    assert levels["libc6"][0] == "reachable"
    for name in ("liblzma5", "libzstd1", "bash"):
        assert levels[name][0] == "not_loaded", (name, levels[name])


def test_a_shell_entrypoint_leaves_unknown(root: Path) -> None:
    config = ImageConfig(raw={}, entrypoint=("/entrypoint.sh",), cmd=("serve",))
    levels = _levels(root, config)
    assert {lv for lv, _ in levels.values()} == {"unknown"}
    assert "script run by 'sh'" in levels["zlib1g"][1][0]


def test_a_missing_library_keeps_unknown(root: Path, tmp_path: Path) -> None:
    # the RUNPATH library gone: the closure is incomplete, so nothing may be called not_loaded
    copy = tmp_path / "root"
    shutil.copytree(root, copy, symlinks=True)
    (copy / "opt" / "app" / "lib" / "libhello.so.1.0").unlink()
    config = ImageConfig(raw={}, entrypoint=("/opt/app/bin/app",))
    levels = _levels(copy, config)
    assert levels["zlib1g"][0] == "reachable"
    assert levels["liblzma5"][0] == "unknown" and "libhello.so.1" in levels["liblzma5"][1][0]
