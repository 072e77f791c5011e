"""A real Debian root filesystem (debootstrap, cached) plus a layer that purges a package, against dpkg-query.

Layer 0 is `debootstrap --variant=minbase bookworm`; layer 1 is what `chroot ROOT dpkg --purge libgmp10`
changed under /var/lib/dpkg and /usr/share/doc (changed files, deletions as whiteouts). hullscan's dpkg
inventory of the two layers must equal `dpkg-query --admindir=<purged>/var/lib/dpkg -W` field by field, and
the purged package must appear only in `history`, removed in layer 1.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.dpkg import DpkgAnalyzer
from hullscan.inventory.os_release import OSReleaseAnalyzer
from testsupport import CACHE, cached_build, debian_rootfs, require_tool

PURGED = "libgmp10"  # epoch 2:, source gmp: both differ from the binary's own
FIELDS = "${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\t${Maintainer}\n"

pytestmark = pytest.mark.slow


def purged_rootfs(base: Path) -> Path:
    """A copy of the rootfs where dpkg itself purged PURGED (inside a chroot: its scripts never touch the host)."""
    def make(tmp: Path) -> None:
        subprocess.run(["cp", "-a", str(base), str(tmp)], check=True)
        (tmp / ".hullscan-complete").unlink(missing_ok=True)
        subprocess.run(["chroot", str(tmp), "dpkg", "--purge", "--force-depends", PURGED],
                       check=True, capture_output=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return cached_build(f"debian-bookworm-minbase-purged-{PURGED}", make)


def _wanted(root: Path) -> dict[str, bytes]:
    """The files the OS and dpkg analyzers read (reading the whole 200 MB tree would only be slower)."""
    out: dict[str, bytes] = {}
    for rel in ("var/lib/dpkg/status", "var/lib/dpkg/available", "var/lib/dpkg/status-old",
                "usr/lib/os-release", "etc/debian_version"):
        if (root / rel).is_file():
            out["/" + rel] = (root / rel).read_bytes()
    for p in (root / "var/lib/dpkg/info").iterdir():
        if p.is_file():
            out[f"/var/lib/dpkg/info/{p.name}"] = p.read_bytes()
    for p in (root / "usr/share/doc").glob("*/copyright"):
        if p.is_file() and not p.is_symlink():
            out[f"/usr/share/doc/{p.parent.name}/copyright"] = p.read_bytes()
    return out


def _diff_layer(lower: dict[str, bytes], upper: dict[str, bytes]) -> dict[str, bytes | None]:
    """What a layer holding upper's changes over lower contains: changed files, whiteouts for deletions."""
    layer: dict[str, bytes | None] = {p: d for p, d in upper.items() if lower.get(p) != d}
    layer.update({p: None for p in lower if p not in upper})
    return layer


def _dpkg_query(root: Path) -> list[list[str]]:
    out = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", FIELDS],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


@pytest.fixture(scope="module")
def trees() -> tuple[Path, Path]:
    for tool in ("debootstrap", "dpkg-query", "chroot"):
        require_tool(tool)
    if os.geteuid() != 0 and not (CACHE / f"debian-bookworm-minbase-purged-{PURGED}/.hullscan-complete").exists():
        pytest.skip("debootstrap and chroot need root to build the cached trees")
    base = debian_rootfs()
    return base, purged_rootfs(base)


def test_two_layers_match_dpkg_query(trees: tuple[Path, Path]) -> None:
    base, purged = trees
    lower, upper = _wanted(base), _wanted(purged)
    layer1 = _diff_layer(lower, upper)
    assert layer1["/var/lib/dpkg/info/libgmp10:amd64.list"] is None  # the purge really happened
    inv = analyze_files([OSReleaseAnalyzer(), DpkgAnalyzer()], [lower, layer1])
    assert not inv.warnings, inv.warnings
    assert inv.os is not None and (inv.os.family, inv.os.release, inv.os.codename) == ("debian", "12", "bookworm")

    rows = _dpkg_query(purged)
    want = {(r[0], r[1], r[2], r[3], r[4], r[6]) for r in rows if r[5].strip() == "ii"}
    got = {(p.name, p.version, p.arch, p.source_name, p.source_version, p.extra.get("maintainer", ""))
           for p in inv.packages}
    assert len(want) > 80
    assert got == want
    assert all(p.layer is not None and p.layer.index == 0 for p in inv.packages)
    assert all(p.ecosystem == "Debian:12" and p.purl.endswith("&distro=debian-12") for p in inv.packages)

    (gone,) = inv.history
    assert (gone.package.name, gone.removed_in.index, gone.replaced_by) == (PURGED, 1, "")
    assert gone.package.layer is not None and gone.package.layer.index == 0
    before = {r[0]: r for r in _dpkg_query(base)}
    assert (gone.package.version, gone.package.source_name) == (before[PURGED][1], before[PURGED][3])
    assert PURGED not in {p.name for p in inv.packages}


def test_owned_files_match_dpkg_listfiles(trees: tuple[Path, Path]) -> None:
    base, _ = trees
    inv = analyze_files([OSReleaseAnalyzer(), DpkgAnalyzer()], [_wanted(base)])
    for pkg in inv.packages:
        listed = subprocess.run(["dpkg-query", f"--admindir={base}/var/lib/dpkg", "-L", f"{pkg.name}:{pkg.arch}"],
                                check=True, capture_output=True, text=True).stdout.splitlines()
        # -L also prints diversion notes ("diverted by …"); the files are the absolute paths
        want = {line for line in listed if line.startswith("/") and line != "/."}
        assert set(pkg.files) == want, pkg.name
    bash = next(p for p in inv.packages if p.name == "bash")
    assert "/usr/bin/bash" in bash.files or "/bin/bash" in bash.files
    assert bash.licenses  # bash's copyright names GPL-3+ (DEP-5 or common-licenses reference)
