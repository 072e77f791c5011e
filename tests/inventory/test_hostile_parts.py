"""Hostile files cost only themselves, and a bad *part* of a file never loses the rest (issue 20).

Every reproduction of the issue, through the real CLI over a `dir:` tree and a real image: the scan
exits 0 with no traceback, each hostile file is named by a warning, and every other package is still
found. Where a format lists many packages (lockfiles, archives with several members) only the bad
entry is left out; where the whole file is unreadable (JSON nested 100,000 deep, an XML encoding
Python does not know) that file alone is. The hostile files are built here, by hand; the expected
packages and warnings are read off them by hand (comments say which entry gives what).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from hullscan.inventory.applier import analyze_files
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import d, docker_archive, f, layer  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
SURROGATE = "\\udc80"  # a JSON escape of a lone surrogate: valid JSON, no valid Unicode text
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than any recursive reader goes
NAN_XML = '<?xml version="1.0" encoding="utf-NaN"?>\n'


def _jar_with_a_corrupt_member() -> bytes:
    """A jar whose MANIFEST and two pom.properties are sound and whose third pom.properties member has
    a deflate stream that cannot be inflated (0xFF: a block of the reserved type 3)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: bundle\n"
                   "Implementation-Version: 9.9\nImplementation-Vendor-Id: org.bundle\n\n")
        z.writestr("META-INF/maven/org.good/good/pom.properties", "groupId=org.good\nartifactId=good\nversion=1.0\n")
        z.writestr("META-INF/maven/org.bad/bad/pom.properties", "groupId=org.bad\nartifactId=bad\nversion=2.0\n")
        z.writestr("META-INF/maven/org.other/other/pom.properties", "groupId=org.other\nartifactId=other\nversion=3.0\n")
    data = bytearray(buf.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("META-INF/maven/org.bad/bad/pom.properties")
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + info.compress_size] = b"\xff" * info.compress_size
    return bytes(data)


# path under the root → content. Each hostile entry sits beside a sound one in the same file where the
# format has entries, so losing the file would show.
TREE: dict[str, str | bytes] = {
    # installed npm packages: "fo/" leaves the purl without a name; a surrogate cannot be percent-encoded
    "app/node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.3.0"}',
    "app/node_modules/fo/package.json": '{"name": "fo/", "version": "1.0.0"}',
    "app/node_modules/sur/package.json": '{"name": "sur", "version": "1.0.' + SURROGATE + '"}',
    # the same through package-lock.json (v3: name from the install path) ...
    "app/lock/package-lock.json": json.dumps({
        "name": "lockapp", "lockfileVersion": 3,
        "packages": {"": {"name": "lockapp", "dependencies": {"is-odd": "^3.0.1"}},
                     "node_modules/is-odd": {"version": "3.0.1"},
                     "node_modules/fo/": {"version": "1.0.0"},
                     "node_modules/sur": {"version": "2.0.X"}},
    }).replace("2.0.X", "2.0." + SURROGATE),
    # ... and yarn.lock: classic carries "fo/"; berry's YAML refuses a surrogate escape (the file is unreadable)
    "app/yarn/yarn.lock": '# yarn lockfile v1\n\n\nfo/@^1.0.0:\n  version "1.0.0"\n\nis-even@^1.0.0:\n  version "1.0.0"\n',
    "app/yarn-berry/yarn.lock": '__metadata:\n  version: 6\n\n"sur@npm:^1.0.0":\n  version: "1.0.' + SURROGATE
                                + '"\n  resolution: "sur@npm:1.0.0"\n',
    # composer.lock: "a/" has no project name
    "app/php/composer.lock": json.dumps({"packages": [{"name": "a/", "version": "1.0.0"},
                                                      {"name": "monolog/monolog", "version": "2.9.1"}],
                                         "packages-dev": []}),
    # a surrogate in a .deps.json library version
    "app/dotnet/app.deps.json": json.dumps({
        "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"},
        "targets": {".NETCoreApp,Version=v8.0": {
            "Newtonsoft.Json/13.0.1": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {}}},
            "Bad/1.0.X": {"runtime": {"lib/net6.0/Bad.dll": {}}}}},
        "libraries": {"Newtonsoft.Json/13.0.1": {"type": "package"}, "Bad/1.0.X": {"type": "package"}},
    }).replace("1.0.X", "1.0." + SURROGATE),
    # go.mod: github.com/a/ has no module name
    "app/go/go.mod": "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/ v1.0.0\n\tgithub.com/pkg/errors v0.9.1\n)\n",
    # Cargo.lock: the [[package]] at line 8 holds a 5,000-digit integer (over CPython's 4,300-digit limit)
    "app/rust/Cargo.lock": (
        'version = 3\n\n[[package]]\nname = "cfg-if"\nversion = "1.0.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n\n'
        '[[package]]\nname = "evil"\nversion = "6.6.6"\nchecksum = ' + "1" * 5000 + "\n\n"
        '[[package]]\nname = "libc"\nversion = "0.2.150"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
    ),
    # poetry.lock: the [[package]] at line 5 nests an array 100,000 deep
    "app/py/poetry.lock": ('[[package]]\nname = "requests"\nversion = "2.31.0"\n\n'
                           '[[package]]\nname = "evil"\nversion = "1.0"\nextra = ' + DEEP + "\n\n"
                           '[[package]]\nname = "idna"\nversion = "3.6"\n\n[metadata]\nlock-version = "2.0"\n'),
    # JSON documents nested 100,000 deep: unreadable as a whole
    "app/php-deep/composer.lock": '{"packages": [{"name": "psr/log", "version": "3.0.0"}], "x": ' + DEEP + "}",
    "app/dotnet-deep/packages.lock.json": ('{"version": 1, "dependencies": {"net8.0": {"Serilog": '
                                           '{"type": "Direct", "resolved": "3.1.1"}, "x": ' + DEEP + "}}}"),
    "app/lock-deep/package-lock.json": ('{"lockfileVersion": 3, "packages": {"node_modules/chalk": {"version": "5.3.0"}, '
                                        '"node_modules/x": ' + DEEP + "}}"),
    # XML in an encoding no Python codec knows: unreadable as a whole
    "app/java/pom.xml": NAN_XML + "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>"
                        "<dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId>"
                        "<version>4.13.2</version></dependency></dependencies></project>",
    "app/dotnet-xml/packages.config": NAN_XML + '<packages><package id="NUnit" version="3.14.0"/></packages>',
    "app/dotnet-xml/Directory.Packages.props": NAN_XML + '<Project><ItemGroup><PackageVersion Include="Moq" '
                                               'Version="4.20.70"/></ItemGroup></Project>',
    # a jar with one corrupt deflate member: the MANIFEST and the other pom.properties still count
    "app/java/lib/bundle.jar": _jar_with_a_corrupt_member(),
}

# Read off TREE by hand: every sound entry, and nothing of the hostile ones.
EXPECTED_PACKAGES = {
    ("npm", "left-pad", "1.3.0", "/app/node_modules/left-pad/package.json"),
    ("npm", "is-odd", "3.0.1", "/app/lock/package-lock.json"),
    ("npm", "is-even", "1.0.0", "/app/yarn/yarn.lock"),
    ("composer", "monolog/monolog", "2.9.1", "/app/php/composer.lock"),
    ("nuget", "Newtonsoft.Json", "13.0.1", "/app/dotnet/app.deps.json"),
    ("golang", "github.com/pkg/errors", "v0.9.1", "/app/go/go.mod"),
    ("cargo", "cfg-if", "1.0.0", "/app/rust/Cargo.lock"),
    ("cargo", "libc", "0.2.150", "/app/rust/Cargo.lock"),
    ("pypi", "requests", "2.31.0", "/app/py/poetry.lock"),
    ("pypi", "idna", "3.6", "/app/py/poetry.lock"),
    ("maven", "org.good:good", "1.0", "/app/java/lib/bundle.jar"),
    ("maven", "org.other:other", "3.0", "/app/java/lib/bundle.jar"),
    ("maven", "org.bundle:bundle", "9.9", "/app/java/lib/bundle.jar"),  # from the MANIFEST
}

# path → what its warning says (a distinctive part of it); one warning per hostile entry.
EXPECTED_WARNINGS = [
    ("/app/node_modules/fo/package.json", "node-package: package 'fo/' '1.0.0' left out"),
    ("/app/node_modules/sur/package.json", "node-package: package 'sur' '1.0.\\udc80' left out"),
    ("/app/lock/package-lock.json", "node-lock: package 'fo/' '1.0.0' left out"),
    ("/app/lock/package-lock.json", "node-lock: package 'sur' '2.0.\\udc80' left out"),
    ("/app/yarn/yarn.lock", "node-lock: package 'fo/' '1.0.0' left out"),
    ("/app/yarn-berry/yarn.lock", "node-lock: malformed yarn.lock (berry YAML)"),
    ("/app/php/composer.lock", "composer: package 'a/' '1.0.0' left out"),
    ("/app/dotnet/app.deps.json", "dotnet: package 'Bad' '1.0.\\udc80' left out"),
    ("/app/go/go.mod", "gomod: package 'github.com/a/' 'v1.0.0' left out"),
    ("/app/rust/Cargo.lock", "cargo-lock: malformed Cargo.lock: the entry at line 8 is left out: Exceeds the limit"),
    ("/app/py/poetry.lock", "python-lock: malformed poetry.lock TOML: the entry at line 5 is left out: nested too deeply"),
    ("/app/php-deep/composer.lock", "composer: malformed composer.lock: nested too deeply to read"),
    ("/app/dotnet-deep/packages.lock.json", "dotnet: malformed packages.lock.json: nested too deeply to read"),
    ("/app/lock-deep/package-lock.json", "node-lock: malformed package-lock JSON: nested too deeply to read"),
    ("/app/java/pom.xml", "java-declared: malformed pom XML: unknown encoding: utf-NaN"),
    ("/app/dotnet-xml/packages.config", "dotnet: unreadable packages.config: unknown encoding: utf-NaN"),
    ("/app/dotnet-xml/Directory.Packages.props", "dotnet: unreadable Directory.Packages.props: unknown encoding: utf-NaN"),
    ("/app/java/lib/bundle.jar", "java-archive: unreadable member /app/java/lib/bundle.jar:"
                                 "META-INF/maven/org.bad/bad/pom.properties: Error -3 while decompressing data"),
]


def _write_tree(root: Path) -> Path:
    for rel, content in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _scan(target: str, cwd: Path, *options: str) -> tuple[dict[str, Any], str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "xdg-cache"), "XDG_DATA_HOME": str(cwd / "xdg-data")}
    run = subprocess.run([*HULLSCAN, "image", target, "--format", "json", "--scanners", "license", *options],
                         capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return json.loads(run.stdout), run.stderr


def _packages(report: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(p["type"], p["name"], p["version"], p["paths"][0]) for p in report["packages"]}


def _check_warnings(report: dict[str, Any], stderr: str) -> None:
    warnings = [(w["path"], w["message"]) for w in report["warnings"]]
    assert len(warnings) == len(EXPECTED_WARNINGS), json.dumps(warnings, indent=1)
    for path, part in EXPECTED_WARNINGS:
        assert any(p == path and part in m for p, m in warnings), (path, part, warnings)
        # stderr says it too, on one line naming the file
        assert any(path in line and part in line for line in stderr.splitlines()), (path, part, stderr)


def test_hostile_files_and_parts_in_a_directory_cost_only_themselves(tmp_path: Path) -> None:
    root = _write_tree(tmp_path / "tree")
    report, stderr = _scan(f"dir:{root}", tmp_path, "--no-cache")
    assert _packages(report) == EXPECTED_PACKAGES
    _check_warnings(report, stderr)
    assert all(w["layer"] == 0 for w in report["warnings"])


def test_hostile_files_in_an_image_warn_once_and_cache_their_facts(tmp_path: Path) -> None:
    """Through a real image whose hostile files sit in the lower layer and whose upper layer changes
    every analyzer's facts (each assembles both states): each warning is said once, naming the
    layer of its file; the second scan reads the facts (surrogates included) from the layer cache."""
    lower = [d("app")]
    for rel, content in TREE.items():
        parts = rel.split("/")
        lower += [d("/".join(parts[:i])) for i in range(2, len(parts))]
        lower.append(f(rel, content))
    lower = list({e.name: e for e in lower}.values())  # each directory once
    upper = [d("app"), d("app/node_modules"), d("app/node_modules/kleur"),
             f("app/node_modules/kleur/package.json", '{"name": "kleur", "version": "4.1.5"}'),
             d("app/up"), f("app/up/Cargo.lock", '[[package]]\nname = "memchr"\nversion = "2.7.4"\n'),
             f("app/up/composer.lock", '{"packages": [{"name": "psr/log", "version": "3.0.0"}]}'),
             f("app/up/packages.config", '<packages><package id="NUnit" version="3.14.0"/></packages>'),
             f("app/up/go.mod", "module example.com/up\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n"),
             f("app/up/poetry.lock", '[[package]]\nname = "six"\nversion = "1.16.0"\n'),
             f("app/up/package-lock.json", '{"lockfileVersion": 3, "packages": {"node_modules/ms": {"version": "2.1.3"}}}'),
             d("app/up/META-INF"), d("app/up/META-INF/maven"), d("app/up/META-INF/maven/g"), d("app/up/META-INF/maven/g/up"),
             f("app/up/META-INF/maven/g/up/pom.properties", "groupId=g\nartifactId=up\nversion=7\n"),
             f("app/up/pom.xml", "<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version></project>")]
    image = docker_archive(tmp_path / "image.tar", [layer(lower, compression=""), layer(upper, compression="")])
    added = {
        ("npm", "kleur", "4.1.5", "/app/node_modules/kleur/package.json"),
        ("cargo", "memchr", "2.7.4", "/app/up/Cargo.lock"),
        ("composer", "psr/log", "3.0.0", "/app/up/composer.lock"),
        ("nuget", "NUnit", "3.14.0", "/app/up/packages.config"),
        ("golang", "golang.org/x/text", "v0.14.0", "/app/up/go.mod"),
        ("pypi", "six", "1.16.0", "/app/up/poetry.lock"),
        ("npm", "ms", "2.1.3", "/app/up/package-lock.json"),
        ("maven", "g:up", "7", "/app/up/META-INF/maven/g/up/pom.properties"),
        ("maven", "g:p", "1", "/app/up/pom.xml"),
    }
    for run in ("cold", "warm"):
        report, stderr = _scan(f"docker-archive:{image}", tmp_path, "--cache-dir", str(tmp_path / "cache"))
        assert _packages(report) == EXPECTED_PACKAGES | added, run
        _check_warnings(report, stderr)
        assert all(w["layer"] == 0 for w in report["warnings"]), run


# -- the applier's guard, in memory: an assemble that raises on one file's facts loses that file only --

def _parse_number(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"n": data.decode()}


class Fragile(Analyzer):
    """A package per file; its assemble raises on a file whose content is not a number (a bug that
    hostile content reaches, as a KeyError or a ValueError in a real analyzer)."""

    name = "fragile"
    version = 1
    files = (FileRule(prefixes=("/n/",), parse=_parse_number),)

    def assemble(self, view: AnalyzerView) -> Assembled:
        packages = []
        for path, ff in sorted(view.files.items()):
            name, version = path.rsplit("/", 1)[1], str(int(ff.fact["n"]))
            packages.append(Package("npm", name, version, "npm", f"pkg:npm/{name}@{version}", self.name, (path,)))
        return Assembled(packages=packages)


def test_an_assemble_that_raises_on_one_file_loses_that_file_only() -> None:
    inv = analyze_files([Fragile()], [
        {"/n/one": b"1", "/n/bad": b"x"},
        {"/n/two": b"2"},  # assembled again: the bad file is not tried, nor warned about, twice
    ])
    assert sorted((p.name, p.version, p.layer.index if p.layer else None) for p in inv.packages) == [
        ("one", "1", 0), ("two", "2", 1)]
    assert [(w.path, w.layer, w.message) for w in inv.warnings] == [
        ("/n/bad", 0, "fragile: left out, assemble failed on it: ValueError: invalid literal for int() with base 10: 'x'")]


def test_a_bad_file_replaced_by_a_sound_one_counts_again() -> None:
    inv = analyze_files([Fragile()], [{"/n/one": b"1", "/n/bad": b"x"}, {"/n/bad": b"3"}])
    assert sorted((p.name, p.version, p.layer.index if p.layer else None) for p in inv.packages) == [
        ("bad", "3", 1), ("one", "1", 0)]
    assert [(w.path, w.layer) for w in inv.warnings] == [("/n/bad", 0)]


# -- fields of the wrong type inside one entry: that entry's field (or the entry) goes, never the file --

WRONG_TYPES = [
    # (path, content, packages expected from it, whether a warning names it)
    ("/app/a/package-lock.json",  # `dependencies` a number: the entry keeps its package, loses its edges
     '{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "dependencies": 5},'
     ' "node_modules/b": {"version": "2.0.0"}}}', {("a", "1.0.0"), ("b", "2.0.0")}, False),
    ("/app/b/package-lock.json",  # a lockfileVersion that is no number: read as v1
     '{"lockfileVersion": "x", "dependencies": {"a": {"version": "1.0.0", "requires": 5}}}', {("a", "1.0.0")}, False),
    ("/app/c/yarn.lock",
     '__metadata:\n  version: 6\n\n"a@npm:^1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n'
     '  dependencies: str\n\n"b@npm:^2.0.0":\n  version: 2.0.0\n  resolution: "b@npm:2.0.0"\n',
     {("a", "1.0.0"), ("b", "2.0.0")}, False),
    ("/app/d/pnpm-lock.yaml",
     "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: str\npackages:\n  a@1.0.0: {}\n"
     "  b@2.0.0:\n    dependencies: 5\n", {("a", "1.0.0"), ("b", "2.0.0")}, False),
    ("/app/e/composer.lock",
     '{"packages": [{"name": "a/b", "version": "1.0", "license": 5}, {"name": "c/d", "version": "2.0"}]}',
     {("a/b", "1.0"), ("c/d", "2.0")}, False),
    ("/app/f/app.deps.json", '{"targets": "x", "libraries": {"A/1.0.0": {"type": "package"}}}', {("A", "1.0.0")}, False),
    ("/app/g/poetry.lock",  # a number for a name: the entry is left out
     '[[package]]\nname = 5\nversion = "1"\n\n[[package]]\nname = "ok"\nversion = "2"\n', {("ok", "2")}, True),
    ("/app/h/uv.lock", '[[package]]\nname = 5\nversion = "1"\n\n[[package]]\nname = "ok"\nversion = "2"\n',
     {("ok", "2")}, True),
    ("/app/i/pdm.lock", '[[package]]\nname = "a"\nversion = "1"\ndependencies = [[1]]\n\n'
     '[[package]]\nname = "ok"\nversion = "2"\n', {("a", "1"), ("ok", "2")}, False),
    ("/app/j/Cargo.lock", '[[package]]\nname = "a"\nversion = 1\n\n[[package]]\nname = "b"\nversion = "2.0.0"\n'
     'dependencies = 5\n', {("b", "2.0.0")}, True),
]


def test_fields_of_the_wrong_type_cost_their_entry_at_most() -> None:
    from hullscan.inventory.registry import all_analyzers

    inv = analyze_files(all_analyzers(), [{path: content.encode() for path, content, _, _ in WRONG_TYPES}])
    for path, _, expected, warned in WRONG_TYPES:
        assert {(p.name, p.version) for p in inv.packages if p.paths[0] == path} == expected, path
        named = [w.message for w in inv.warnings if w.path == path]
        assert bool(named) == warned and all("left out" in m for m in named), (path, named)
    assert not [w for w in inv.warnings if "cannot parse" in w.message or "assemble failed" in w.message], inv.warnings
