"""dpkg analyzer: the testdata/dpkg fixtures against dpkg-query's lists and hand-read expectations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.dpkg import DpkgAnalyzer, parse_copyright
from hullscan.inventory.os_release import OSReleaseAnalyzer
from testsupport import read_tree

HERE = Path(__file__).parent / "fixtures" / "os"
DPKG = Path(__file__).parent / "testdata" / "dpkg"
ANALYZERS = [OSReleaseAnalyzer(), DpkgAnalyzer()]


def _tsv(path: Path) -> list[list[str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return [ln.split("\t") for ln in lines[1:]]


def _status_cases() -> list[str]:
    return sorted(p.parent.parent.parent.parent.name for p in DPKG.glob("*/var/lib/dpkg/status.expected.tsv"))


@pytest.mark.parametrize("case", _status_cases())
def test_reproduces_dpkg_query(case: str) -> None:
    """Every installed row of dpkg-query's list, exactly; the `rc` (config-files) rows are not packages."""
    root = DPKG / case
    rows = _tsv(root / "var/lib/dpkg/status.expected.tsv")
    installed = {tuple(r[:5]) for r in rows if r[5].strip() == "ii"}
    removed = {r[0] for r in rows if r[5].strip() != "ii"}
    inv = analyze_files(ANALYZERS, [read_tree(root)])
    got = {(p.name, p.version, p.arch, p.source_name, p.source_version) for p in inv.packages}
    assert got == installed
    assert not removed & {p.name for p in inv.packages}
    assert all(p.type == "deb" and p.paths == ("/var/lib/dpkg/status",) for p in inv.packages)


def test_status_cases_found() -> None:
    assert len(_status_cases()) == 8


def test_distroless_status_d() -> None:
    rows = _tsv(HERE / "dpkg-distroless-expected.tsv")
    for case in sorted({r[0] for r in rows}):
        inv = analyze_files(ANALYZERS, [read_tree(DPKG / case)])
        want = {tuple(r[1:6]) for r in rows if r[0] == case}
        got = {(p.name, p.version, p.arch, p.source_name, p.source_version) for p in inv.packages}
        assert got == want, case
        # dpkg-query's view of the same entries: what it lists as not installed is not ours either
        dq = _tsv(DPKG / case / "var/lib/dpkg/status.d.expected.tsv")
        assert not {r[0] for r in dq} & {p.name for p in inv.packages}
        for p in inv.packages:
            assert p.paths == (f"/var/lib/dpkg/status.d/{p.name}",) and p.extra.get("distroless")


def test_distroless_ownership_from_md5sums() -> None:
    inv = analyze_files(ANALYZERS, [read_tree(DPKG / "distroless__scalibr")])
    (foo,) = inv.packages
    assert foo.files == ("/usr/lib/os-release", "/usr/share/base-files/dot.bashrc",
                         "/usr/share/base-files/dot.profile", "/usr/share/base-files/dot.profile.md5sums",
                         "/usr/share/base-files/info.dir", "/usr/share/base-files/motd")


def test_ownership_from_info_md5sums_and_list() -> None:
    inv = analyze_files(ANALYZERS, [read_tree(DPKG / "ubuntu__trivy-md5sums")])
    (tar,) = inv.packages
    assert tar.files[:3] == ("/usr/bin/tar", "/usr/lib/mime/packages/tar", "/usr/sbin/rmt-tar")
    # a .list file wins over .md5sums (it also lists directories and conffiles), and `name:arch.list` is found
    layer = read_tree(DPKG / "ubuntu__trivy-md5sums")
    layer["/var/lib/dpkg/info/tar:amd64.list"] = b"/.\n/bin\n/bin/tar\n/etc/rmt\n"
    (tar,) = analyze_files(ANALYZERS, [layer]).packages
    assert tar.files == ("/bin", "/bin/tar", "/etc/rmt")


@pytest.mark.parametrize("row", _tsv(HERE / "dpkg-edge-expected.tsv"), ids=lambda r: r[0])
def test_corrupt_and_edge_cases_warn_with_line(row: list[str]) -> None:
    case, names, lines = (row + ["", ""])[:3]
    inv = analyze_files(ANALYZERS, [{"/var/lib/dpkg/status": (DPKG / case).read_bytes()}])
    assert sorted(p.name for p in inv.packages) == sorted(n for n in names.split(",") if n)
    warned = {int(m.group(1)) for w in inv.warnings if w.path == "/var/lib/dpkg/status"
              for m in [re.match(r"dpkg: line (\d+):", w.message)] if m}
    want = {int(x) for x in lines.split(",") if x}
    assert want <= warned, inv.warnings
    if not want:
        assert not inv.warnings


def test_only_status_is_the_database() -> None:
    """`available` and `status-old` list packages that are not installed."""
    layer = read_tree(DPKG / "ubuntu-18.04-mixed__trivy-digest")
    assert "/var/lib/dpkg/available" in layer
    layer["/var/lib/dpkg/status-old"] = (DPKG / "ubuntu-18.04__trivy-valid/var/lib/dpkg/status").read_bytes()
    inv = analyze_files(ANALYZERS, [layer])
    assert sorted(p.name for p in inv.packages) == ["sed", "tar"]


def test_purl_and_ecosystem_follow_the_os() -> None:
    layer = read_tree(DPKG / "ubuntu-18.04__trivy-valid")
    layer["/etc/os-release"] = b'ID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\n'
    inv = analyze_files(ANALYZERS, [layer])
    bsdutils = next(p for p in inv.packages if p.name == "bsdutils")
    assert bsdutils.purl == "pkg:deb/ubuntu/bsdutils@1:2.31.1-0.4ubuntu3.1?arch=amd64&distro=ubuntu-18.04"
    assert bsdutils.ecosystem == "Ubuntu:18.04"
    assert bsdutils.extra["maintainer"] == "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>"

    layer = read_tree(DPKG / "debian-12-osrelease__syft-image-dpkg")
    inv = analyze_files(ANALYZERS, [layer])
    assert inv.os is not None and inv.os.ecosystem == "Debian:12"
    for p in inv.packages:
        assert p.ecosystem == "Debian:12"
        assert p.purl == f"pkg:deb/debian/{p.name}@{p.version}?arch={p.arch}&distro=debian-12"


def test_license_from_copyright() -> None:
    inv = analyze_files(ANALYZERS, [read_tree(DPKG / "distroless-deb__syft")])
    (sqlite,) = inv.packages
    assert sqlite.licenses == ("LicenseRef-public-domain", "GPL-2.0-or-later")
    assert sqlite.extra["declared_licenses"] == ["public-domain", "GPL-2+"]
    assert sqlite.extra["license_refs"] == {"LicenseRef-public-domain": "public-domain"}


def test_copyright_samples() -> None:
    """Hand-read: DEP-5 `License:` values in order as SPDX (`A or B` stays one expression; names SPDX
    lacks become LicenseRefs), else common-licenses refs."""
    samples = DPKG / "copyright-samples"
    assert parse_copyright((samples / "libc6.copyright").read_text()) == ["LGPL-2.1-only", "GPL-2.0-only"]
    assert parse_copyright((samples / "trilicense.copyright").read_text()) == [
        "MPL-1.1 OR GPL-2.0-only OR LGPL-2.1-only", "MPL-1.1", "GPL-2.0-only", "LGPL-2.1-only"]
    assert parse_copyright((samples / "liblzma5.copyright").read_text()) == [
        "LicenseRef-PD", "LicenseRef-probably-PD", "GPL-2.0-or-later", "LGPL-2.1-or-later",
        "LicenseRef-permissive-fsf", "LicenseRef-Autoconf", "GPL-2.0-only", "LicenseRef-permissive-nowarranty",
        "LicenseRef-config-h", "LicenseRef-noderivs", "LicenseRef-PD-debian"]


def _status(*pkgs: tuple[str, str]) -> bytes:
    return "".join(
        f"Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\n\n" for n, v in pkgs
    ).encode()


def test_layers_history_and_distroless_merge() -> None:
    """Removed and upgraded packages go to history with both layers; status.d entries join status ones."""
    base = {"/var/lib/dpkg/status": _status(("a", "1.0"), ("b", "1.0"), ("c", "1.0"))}
    app = {"/var/lib/dpkg/status": _status(("a", "1.0"), ("c", "2.0"))}
    extra = {"/var/lib/dpkg/status.d/d": b"Package: d\nVersion: 3\nArchitecture: all\n"}
    inv = analyze_files(ANALYZERS, [base, app, extra])
    layers = {p.name: (p.version, p.layer.index if p.layer else None) for p in inv.packages}
    assert layers == {"a": ("1.0", 0), "c": ("2.0", 1), "d": ("3", 2)}
    hist = {(h.package.name, h.package.version, h.package.layer.index if h.package.layer else None,
             h.removed_in.index, h.replaced_by) for h in inv.history}
    assert hist == {("b", "1.0", 0, 1, ""), ("c", "1.0", 0, 1, "2.0")}


def test_whiteout_removes_the_database() -> None:
    inv = analyze_files(ANALYZERS, [{"/var/lib/dpkg/status": _status(("a", "1"))}, {"/var/lib/dpkg": None}])
    assert inv.packages == [] and [h.package.name for h in inv.history] == ["a"]


def test_crlf_and_binary_garbage_do_not_raise() -> None:
    data = b"Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n\xff\xfe\x00garbage\n\nPackage: b\n"
    inv = analyze_files(ANALYZERS, [{"/var/lib/dpkg/status": data}])
    assert [p.name for p in inv.packages] == ["a"]
    assert inv.warnings


def test_python_package_installed_by_dpkg_is_owned() -> None:
    """Debian's python3-yaml owns the PyYAML dist-info: the PyPI package gets `owned_by` (not matched twice)."""
    from hullscan.inventory.python_dist import PythonDistAnalyzer

    dist = "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info"
    layer = {
        "/var/lib/dpkg/status": b"Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\n"
                                b"Source: pyyaml\nVersion: 6.0-3+b2\n",
        "/var/lib/dpkg/info/python3-yaml.list": f"/.\n/usr\n{dist}\n{dist}/METADATA\n".encode(),
        f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n",
        "/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
    }
    inv = analyze_files([*ANALYZERS, PythonDistAnalyzer()], [layer])
    owners = {p.name: p.owned_by for p in inv.packages if p.type == "pypi"}
    assert owners == {"pyyaml": "python3-yaml", "requests": ""}


def test_mangled_databases_never_raise() -> None:
    """Real status files cut, shuffled and sprinkled with bytes (fixed seed): warnings, never exceptions."""
    import random

    rnd = random.Random(1234)
    real = (DPKG / "ubuntu-18.04__trivy-valid/var/lib/dpkg/status").read_bytes()
    for _ in range(60):
        data = bytearray(real[: rnd.randrange(len(real))])
        for _ in range(rnd.randrange(20)):
            data[rnd.randrange(len(data) or 1):0] = rnd.choice([b"\n", b"\n\n", b":", b" ", b"\xff\xfe", b"\r", b"\x00"])
        for path in ("/var/lib/dpkg/status", "/var/lib/dpkg/status.d/x", "/var/lib/dpkg/info/x.list",
                     "/usr/share/doc/x/copyright"):
            analyze_files(ANALYZERS, [{path: bytes(data)}])
