"""The analyzers' file tables and the walker's path index built from them.

The index's answer for a file must be, per analyzer, the first of its rules that covers the file
(`FileRule.covers`, rule by rule): checked for every kind of selector and exclusion on small tables,
and for the real analyzers over a fixed corpus of image paths against what each analyzer's own
`wants()` said before the file tables replaced it (testdata/file-rules/: produced once at commit
e14b42f by `before.py` there, which says how)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from hullscan.inventory.registry import all_analyzers
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn
from hullscan.walk.globs import anchor, glob_regex, path_test
from hullscan.walk.index import PathIndex

BEFORE = Path(__file__).parent / "testdata" / "file-rules"
MiB = 1024 * 1024


def _nothing(path: str, data: bytes, warn: WarnFn) -> Any:
    return None


class Table(Analyzer):
    """An analyzer that is only its file table."""

    version = 1

    def __init__(self, name: str, *rules: FileRule) -> None:
        self.name = name  # type: ignore[misc]  # a ClassVar elsewhere; one class, several names here
        self.files = rules

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled()


def rule(**kw: Any) -> FileRule:
    return FileRule(parse=_nothing, **kw)


def picked(analyzers: list[Analyzer], path: str, size: int = 100, mode: int = 0o644) -> list[tuple[str, int]]:
    """(analyzer name, position of the rule) the index picks — checked against `covers`, rule by rule."""
    got = [(an.name, an.files.index(r)) for an, r in PathIndex(analyzers).match(path, size, mode)]
    one_by_one = [(an.name, an.files.index(r)) for an in analyzers if (r := an.rule_for(path, size, mode))]
    assert got == one_by_one, (path, size, oct(mode))
    return got


@pytest.mark.parametrize("glob,yes,no", [
    ("/etc/os-release", ["/etc/os-release"], ["/x/etc/os-release", "/etc/os-release.bak"]),
    ("/usr/share/doc/*/copyright", ["/usr/share/doc/zlib1g/copyright"],
     ["/usr/share/doc/copyright", "/usr/share/doc/a/b/copyright"]),  # `*` is one segment, never `/`
    ("**/go.mod", ["/go.mod", "/src/app/go.mod"], ["/src/app/go.mod.bak", "/src/xgo.mod"]),
    ("**/*.egg", ["/a.egg", "/x/y/.egg"], ["/x/a.EGG", "/x/a.egg/PKG-INFO"]),  # case-sensitive
    ("**/site-packages/**", ["/usr/lib/site-packages/x", "/site-packages/a/b"],
     ["/usr/lib/site-packages", "/usr/lib/site-packagesx/y"]),  # trailing `**`: strictly under
    ("/a/**/b", ["/a/b", "/a/x/b", "/a/x/y/b"], ["/a/xb", "/b", "/a/b/c"]),  # `**` may be no segment at all
    ("**/META-INF/**/pom.properties", ["/META-INF/pom.properties", "/x/META-INF/maven/g/a/pom.properties"],
     ["/x/META-INF.pom.properties", "/x/META-INFO/pom.properties"]),
    ("**/node_modules/@*/*/package.json", ["/node_modules/@s/n/package.json"],
     ["/node_modules/s/n/package.json", "/node_modules/@s/package.json"]),
    ("**/pylock.?*.toml", ["/app/pylock.dev.toml"], ["/app/pylock..toml", "/app/pylock.toml"]),  # `?`: one character
    ("**/*.so.*", ["/lib/libz.so.1", "/lib/.so."], ["/lib/libz.so", "/lib/x.so.d/y"]),
    ("**/gems/*/gems/**", ["/g/gems/3.1/gems/x/Gemfile.lock"], ["/g/gems/3.1/Gemfile.lock"]),
    ("/usr/share/maven-repo/**", ["/usr/share/maven-repo/a.pom"], ["/usr/share/maven-repo", "/usr/share/maven-repox/a"]),
    ("**", ["/a", "/a/b/c"], []),
])
def test_glob_depth_and_the_fast_tests_agree_with_the_regular_expression(glob: str, yes: list[str], no: list[str]) -> None:
    test, regex = path_test([glob]), glob_regex(glob)
    assert test is not None
    for path in yes:
        assert test(path) and regex.fullmatch(path), (glob, path)
    for path in no:
        assert not test(path) and not regex.fullmatch(path), (glob, path)


@pytest.mark.parametrize("glob", ["etc/os-release", "/a/**b/c", "/a//b", "/a/"])
def test_a_malformed_glob_is_refused(glob: str) -> None:
    with pytest.raises(ValueError, match="glob"):
        glob_regex(glob)


def test_anchors_say_what_every_match_has() -> None:
    assert anchor("/usr/share/doc/*/copyright") == ("name", "copyright")
    assert anchor("/var/lib/dpkg/status.d/*") == ("prefix", "/var/lib/dpkg/status.d/")
    assert anchor("**/*requirements*.TXT") == ("ext", "txt")
    assert anchor("**/*.so.*") == ("always", "")
    assert anchor("**") == ("always", "")


def test_a_rule_must_select_something_and_spell_extensions_plainly() -> None:
    with pytest.raises(ValueError, match="selects no file"):
        rule(exclude=("**/x/**",))
    with pytest.raises(ValueError, match="lowercase"):
        rule(extensions=(".jar",))
    with pytest.raises(ValueError, match="directories"):
        rule(prefixes=("/usr/bin",))


def test_every_selector_kind() -> None:
    analyzers: list[Analyzer] = [
        Table("paths", rule(paths=("/lib/apk/db/installed",))),
        Table("names", rule(names=("go.mod",))),
        Table("exts", rule(extensions=("jar", "war"))),
        Table("prefixes", rule(prefixes=("/usr/bin/",))),
        Table("globs", rule(globs=("/usr/share/doc/*/copyright", "**/*.deps.json"))),
    ]
    assert picked(analyzers, "/lib/apk/db/installed") == [("paths", 0)]
    assert picked(analyzers, "/x/lib/apk/db/installed") == []
    assert picked(analyzers, "/src/go.mod") == [("names", 0)]
    assert picked(analyzers, "/src/go.mod.bak") == []
    assert picked(analyzers, "/APP/LIB/APP.JAR") == [("exts", 0)]  # extensions: case-insensitive
    assert picked(analyzers, "/srv/x.war") == [("exts", 0)]
    assert picked(analyzers, "/srv/jar") == []
    assert picked(analyzers, "/usr/bin/tool") == [("prefixes", 0)]
    assert picked(analyzers, "/usr/bin/sub/tool") == [("prefixes", 0)]  # a prefix is any depth
    assert picked(analyzers, "/usr/binx/tool") == []
    assert picked(analyzers, "/usr/share/doc/zlib1g/copyright") == [("globs", 0)]
    assert picked(analyzers, "/usr/share/doc/zlib1g/x/copyright") == []
    assert picked(analyzers, "/app/App.deps.json") == [("globs", 0)]
    assert picked(analyzers, "/usr/bin/x.jar") == [("exts", 0), ("prefixes", 0)]  # in the analyzers' order


def test_executables_need_the_x_bit_and_the_minimum_size() -> None:
    binaries: list[Analyzer] = [Table("bin", rule(executable=True, min_size=64, exclude=("**/*.sh",)))]
    assert picked(binaries, "/srv/tool", 64, 0o755) == [("bin", 0)]
    assert picked(binaries, "/srv/tool", 64, 0o100) == [("bin", 0)]  # any x bit
    assert picked(binaries, "/srv/tool", 63, 0o755) == []
    assert picked(binaries, "/srv/tool", 64, 0o644) == []
    assert picked(binaries, "/srv/run.sh", 1000, 0o755) == []


def test_exclusions_and_size_bounds() -> None:
    analyzers: list[Analyzer] = [
        Table("lock", rule(names=("requirements.txt",), exclude=("**/site-packages/**", "**/node_modules/**"))),
        Table("text", rule(globs=("**",), min_size=1, max_size=10 * MiB, exclude_extensions=("png", "gz"),
                           skip=lambda path: "/docs/" in path)),
        Table("small", rule(names=("package.json",), max_size=4 * MiB)),
    ]
    assert picked(analyzers, "/app/requirements.txt") == [("lock", 0), ("text", 0)]
    assert picked(analyzers, "/usr/lib/python3/site-packages/x/requirements.txt") == [("text", 0)]
    assert picked(analyzers, "/app/node_modules/x/requirements.txt") == [("text", 0)]
    assert picked(analyzers, "/app/logo.PNG") == []  # excluded extensions: case-insensitive too
    assert picked(analyzers, "/app/docs/a.md") == []
    assert picked(analyzers, "/app/empty", size=0) == []
    assert picked(analyzers, "/app/big", size=10 * MiB + 1) == []
    assert picked(analyzers, "/app/package.json", size=4 * MiB) == [("text", 0), ("small", 0)]
    assert picked(analyzers, "/app/package.json", size=4 * MiB + 1) == [("text", 0)]  # bounds are inclusive


def test_the_first_rule_that_covers_a_file_parses_it() -> None:
    an = Table("fmt", rule(names=("poetry.lock",), exclude=("**/vendor/**",)), rule(globs=("**/*.lock",)),
               rule(names=("poetry.lock",)))
    assert picked([an], "/app/poetry.lock") == [("fmt", 0)]
    assert picked([an], "/app/vendor/poetry.lock") == [("fmt", 1)]  # the first rule excludes it: the next takes it
    assert picked([an], "/app/yarn.lock") == [("fmt", 1)]


def test_the_index_agrees_with_the_rules_one_by_one_over_mixed_tables() -> None:
    analyzers: list[Analyzer] = [
        Table("a", rule(globs=("/var/lib/dpkg/info/*.list", "**/specifications/?*.gemspec"), exclude=("**/x/**",)),
              rule(prefixes=("/var/lib/",), extensions=("md5sums",), max_size=500)),
        Table("b", rule(executable=True, prefixes=("/usr/bin/", "/opt/"), min_size=64, exclude=("**/*.py",))),
        Table("c", rule(globs=("**",), exclude_extensions=("gz",), exclude=("**/.git/objects/**",))),
        Table("d", rule(paths=("/etc/os-release",), names=("Cargo.lock",), globs=("**/node_modules/*/package.json",))),
    ]
    paths = ["/var/lib/dpkg/info/a.list", "/var/lib/dpkg/info/x/a.list", "/var/lib/x/a.md5sums", "/var/lib/a.MD5SUMS",
             "/g/specifications/rake.gemspec", "/g/specifications/.gemspec", "/x/specifications/a.gemspec",
             "/usr/bin/tool", "/usr/bin/tool.py", "/opt/a/b", "/srv/a.gz", "/srv/.git/objects/ab/cd", "/etc/os-release",
             "/src/Cargo.lock", "/app/node_modules/x/package.json", "/app/node_modules/@s/x/package.json", "/a"]
    for path in paths:
        for size in (0, 63, 64, 500, 501):
            for mode in (0o644, 0o755):
                picked(analyzers, path, size, mode)


def _before(lines: list[str]) -> tuple[list[tuple[int, int]], list[tuple[str, dict[str, str]]]]:
    """The points (size, mode) of a before-table, and per path: analyzer name → bit per point."""
    points = [(int(size), int(mode, 8)) for size, mode in (p.split(":") for p in lines[0].split(": ", 1)[1].split())]
    rows = []
    for line in lines[1:]:
        path, *cells = line.rstrip("\n").split("\t")
        rows.append((path, dict(cell.split("=", 1) for cell in cells)))
    return points, rows


def _changed_since(analyzer: str, path: str) -> bool:
    """What an analyzer reads differently on purpose since e14b42f: the secret scanner skips type
    declaration files (`.d.ts`, `.d.mts`, `.d.cts`, `.pyi`: types and doc comments only; its
    `declarations` allow rule, docs/secrets.md); os-release also reads apt's sources (an Ubuntu image's
    ESM repositories, docs/os-packages.md)."""
    if analyzer == "os-release" and (path == "/etc/apt/sources.list" or
                                     (path.startswith("/etc/apt/sources.list.d/") and path.count("/") == 4)):
        return True
    return analyzer == "secret" and path.endswith((".d.ts", ".d.mts", ".d.cts", ".pyi"))


#: Analyzers added since e14b42f (their tables are checked by the rule tests above and their own tests).
ADDED_SINCE = frozenset({"redhat-content-sets", "symlinks", "elf", "go-symbols", "python-imports", "node-imports"})


@pytest.mark.parametrize("table", ["wanted-before.tsv.gz", "sweep-before.tsv"])
def test_each_analyzer_gets_exactly_the_files_it_got_before(table: str) -> None:
    """Every path of the corpus (21,165 from the test data, a debootstrap root filesystem and the real
    language trees; 215 chosen corner cases at every size a rule distinguishes), at each (size, mode)
    point: the analyzers the index picks are those whose `wants()` said yes at e14b42f."""
    path = BEFORE / table
    text = gzip.decompress(path.read_bytes()).decode() if table.endswith(".gz") else path.read_text()
    points, rows = _before(text.splitlines())
    assert len(rows) > (20_000 if table.endswith(".gz") else 200)
    index = PathIndex(all_analyzers())
    wrong = []
    for p, wanted in rows:
        for i, (size, mode) in enumerate(points):
            got = [an.name for an, _rule in index.match(p, size, mode)
                   if an.name not in ADDED_SINCE and not _changed_since(an.name, p)]
            expected = sorted(name for name, bits in wanted.items() if bits[i] == "1" and not _changed_since(name, p))
            if sorted(got) != expected:
                wrong.append((p, size, oct(mode), got, expected))
    assert not wrong, wrong[:20]
    if table == "sweep-before.tsv":  # the corner cases reach every analyzer
        assert {name for _, wanted in rows for name in wanted} == {an.name for an in all_analyzers()} - ADDED_SINCE
