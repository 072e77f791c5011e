"""Installed Python distributions from the testdata/python dist-info / egg-info fixtures (expectations read
by hand from each METADATA / PKG-INFO), zipped eggs, vendored copies and OS ownership."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.python_dist import PythonDistAnalyzer
from hullscan.model.inventory import Package

PY = Path(__file__).resolve().parent / "testdata" / "python"  # PROVENANCE.md there
SP = "/usr/local/lib/python3.11/site-packages"

# fixture file → (where it goes in the image, expected name, version, licenses)
SINGLE = {
    "dist-info/trivy-parser/asyncssh-2.14.2.METADATA": ("asyncssh-2.14.2.dist-info/METADATA", "asyncssh", "2.14.2", ("EPL-2.0",)),
    "dist-info/trivy-parser/distlib-0.3.1.METADATA": ("distlib-0.3.1.dist-info/METADATA", "distlib", "0.3.1", ("PSF-2.0",)),
    "dist-info/trivy-parser/iniconfig-2.0.0.METADATA": ("iniconfig-2.0.0.dist-info/METADATA", "iniconfig", "2.0.0", ("MIT",)),
    # "BSD License" says no version
    "dist-info/trivy-parser/networkx-3.0.METADATA": ("networkx-3.0.dist-info/METADATA", "networkx", "3.0", ()),
    "dist-info/trivy-parser/pyphen-0.14.0.METADATA": ("pyphen-0.14.0.dist-info/METADATA", "pyphen", "0.14.0",
                                                      ("GPL-2.0-or-later", "LGPL-2.0-or-later", "MPL-1.1")),
    "dist-info/trivy-parser/zipp-3.12.1.METADATA": ("zipp-3.12.1.dist-info/METADATA", "zipp", "3.12.1", ("MIT",)),
    "dist-info/trivy-parser/simple-0.1.0.METADATA": ("simple-0.1.0.dist-info/METADATA", "simple", "0.1.0", ()),
    # License: UNKNOWN, but a Classifier after the multi-line Description says MIT
    "egg-info/trivy-parser/setuptools-51.3.3-py3.8.egg-info.PKG-INFO": ("setuptools-51.3.3-py3.8.egg-info/PKG-INFO", "setuptools",
                                                                        "51.3.3", ("MIT",)),
    "egg-info/trivy-parser/unidecode-egg-info.PKG-INFO": ("Unidecode-0.4.1.egg-info/PKG-INFO", "unidecode", "0.4.1", ()),
    "egg-info/trivy-parser/distlib-0.3.1-py3.9.egg-info": ("distlib-0.3.1-py3.9.egg-info", "distlib", "0.3.1", ("PSF-2.0",)),
    "egg-info/syft/Python-2.7.egg-info": ("Python-2.7.egg-info", "python", "2.7.13", ("PSF-2.0",)),
}


def test_metadata_fixtures() -> None:
    for rel, (where, name, version, licenses) in SINGLE.items():
        path = f"{SP}/{where}"
        inv = analyze_files([PythonDistAnalyzer()], [{path: (PY / rel).read_bytes()}])
        assert not inv.warnings
        assert [(p.name, p.version, p.licenses) for p in inv.packages] == [(name, version, licenses)], rel
        p = inv.packages[0]
        home = path.removesuffix("/METADATA").removesuffix("/PKG-INFO")
        assert p.paths[0] == home and p.kind == "installed" and p.ecosystem == "PyPI"
        assert p.purl == f"pkg:pypi/{name}@{version}"


def test_dist_info_directories() -> None:
    layer = {}
    for d in ("dist-info/syft/with-license-file-declared.dist-info", "dist-info/syft/uppercase-DIST-INFO",
              "egg-info/syft/egg-name.egg-info"):
        src = PY / d
        target = d.rsplit("/", 1)[-1].replace("uppercase-DIST-INFO", "Uppercase-1.0.dist-info")
        for f in src.iterdir():
            layer[f"{SP}/{target}/{f.name}"] = f.read_bytes()
    inv = analyze_files([PythonDistAnalyzer()], [layer])
    got = {p.paths[0].rsplit("/", 1)[-1]: p for p in inv.packages}
    # hand-checked: Pygments 2.6.1 (License: BSD License → not a version), requests 2.22.0 (Apache 2.0)
    assert (got["with-license-file-declared.dist-info"].name, got["with-license-file-declared.dist-info"].version) == ("pygments", "2.6.1")
    assert got["with-license-file-declared.dist-info"].paths[1:] == (
        f"{SP}/with-license-file-declared.dist-info/METADATA", f"{SP}/with-license-file-declared.dist-info/RECORD")
    assert (got["egg-name.egg-info"].name, got["egg-name.egg-info"].version, got["egg-name.egg-info"].licenses) == (
        "requests", "2.22.0", ("Apache-2.0",))
    assert "Uppercase-1.0.dist-info" in got


def test_zipped_egg_vendored_and_owned() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: Old_Thing\nVersion: 0.9\nLicense: MIT\n")
    vendored = f"{SP}/setuptools/_vendor/packaging-24.2.dist-info/METADATA"
    owned = "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO"
    inv = analyze_files([PythonDistAnalyzer()], [{
        f"{SP}/Old_Thing-0.9-py3.11.egg": buf.getvalue(),
        vendored: b"Metadata-Version: 2.1\nName: packaging\nVersion: 24.2\nLicense-Expression: Apache-2.0 OR BSD-2-Clause\n",
        owned: b"Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n",
        f"{SP}/broken.egg": b"not a zip",
    }])
    by = {p.name: p for p in inv.packages}
    assert (by["old-thing"].version, by["old-thing"].licenses) == ("0.9", ("MIT",))
    assert by["packaging"].licenses == ("Apache-2.0 OR BSD-2-Clause",)
    assert by["packaging"].extra["vendored_in"] == f"{SP}/setuptools"
    assert [w.path for w in inv.warnings] == [f"{SP}/broken.egg"]
    # The applier marks a language package owned when an OS package lists one of its paths.
    from hullscan.inventory.applier import _mark_owned
    from hullscan.model.inventory import Inventory

    deb = Package(type="deb", name="python3-six", version="1.16.0-4", ecosystem="Debian:12", purl="pkg:deb/debian/python3-six@1.16.0-4",
                  analyzer="dpkg", files=("/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",))
    merged = Inventory(packages=[deb, *inv.packages])
    _mark_owned(merged)
    assert {p.name: p.owned_by for p in merged.packages if p.type == "pypi"}["six"] == "python3-six"


def test_layers_upgrade_leaves_history() -> None:
    meta = lambda v: f"Metadata-Version: 2.1\nName: requests\nVersion: {v}\n".encode()  # noqa: E731
    base = {f"{SP}/requests-2.19.1.dist-info/METADATA": meta("2.19.1"),
            f"{SP}/six-1.11.0.dist-info/METADATA": b"Name: six\nVersion: 1.11.0\n"}
    # pip upgrade: the old dist-info directory is deleted (whiteout) and a new one written
    upgrade = {f"{SP}/requests-2.19.1.dist-info": None, f"{SP}/requests-2.20.0.dist-info/METADATA": meta("2.20.0")}
    inv = analyze_files([PythonDistAnalyzer()], [base, upgrade])
    assert sorted((p.name, p.version, p.layer.index) for p in inv.packages) == [("requests", "2.20.0", 1), ("six", "1.11.0", 0)]
    assert [(h.package.name, h.package.version, h.package.layer.index, h.removed_in.index) for h in inv.history] == [
        ("requests", "2.19.1", 0, 1)]
