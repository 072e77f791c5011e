"""Each analyzer's PathHints are a necessary condition of its `wants` (the walker asks `wants` only
about files the hints match), and the walker's index of the hints picks exactly the analyzers whose
hints match. Checked over every file of the repository's test data (each `tests/**/testdata/` tree, its
paths taken as image paths) and of a real Debian root filesystem, plus the places each analyzer's tests
and docs name."""

from __future__ import annotations

import os

import pytest

from hullscan.inventory.registry import all_analyzers
from hullscan.walk.analyzer import PathHints
from hullscan.walk.walker import _Dispatcher
from testsupport import REPO, debian_rootfs, require_tool

KNOWN = [  # files the analyzers exist for, as images hold them
    "/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/debian_version", "/etc/redhat-release",
    "/etc/system-release-cpe", "/etc/lsb-release", "/var/lib/ubuntu-advantage/status.json",
    "/var/lib/dpkg/status.d/base", "/var/lib/dpkg/status", "/var/lib/dpkg/info/libc6:amd64.list",
    "/var/lib/dpkg/info/zlib1g.md5sums", "/usr/share/doc/zlib1g/copyright", "/lib/apk/db/installed",
    "/var/lib/rpm/Packages", "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpmmanifest/container-manifest-2", "/app/lib/app.jar", "/APP/LIB/APP.JAR", "/srv/x.war",
    "/usr/share/maven-repo/org/x/y/1.0/y-1.0.pom", "/app/META-INF/maven/org.x/y/pom.properties",
    "/src/pom.xml", "/src/gradle.lockfile", "/src/gradle/dependency-locks/compileClasspath.lockfile",
    "/app/package-lock.json", "/app/npm-shrinkwrap.json", "/app/yarn.lock", "/app/pnpm-lock.yaml", "/app/bun.lock",
    "/app/package.json", "/app/node_modules/lodash/package.json", "/app/node_modules/@s/n/package.json",
    "/usr/share/nodejs/acorn/package.json",
    "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
    "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD", "/usr/lib/python3/dist-packages/x.egg-info/PKG-INFO",
    "/usr/lib/python3/dist-packages/x.egg-info/installed-files.txt", "/usr/lib/python3/dist-packages/x-1.0.egg-info",
    "/usr/lib/python3/site-packages/x-1.0-py3.11.egg", "/usr/lib/python3/site-packages/x.egg/EGG-INFO/PKG-INFO",
    "/app/Pipfile.lock", "/app/poetry.lock", "/app/uv.lock", "/app/pdm.lock", "/app/pylock.toml",
    "/app/pylock.dev.toml", "/app/requirements.txt", "/app/requirements-dev.txt", "/app/dev-requirements.txt",
    "/usr/local/bin/app", "/app/server", "/opt/tool/run", "/src/go.mod", "/src/go.sum", "/src/Cargo.lock",
    "/src/Cargo.toml", "/usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
    "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", "/app/Gemfile.lock", "/app/gems.locked",
    "/app/vendor/composer/installed.json", "/app/composer.lock", "/app/composer.json", "/app/App.deps.json",
    "/app/packages.lock.json", "/app/packages.config", "/src/Directory.Packages.props",
]
MODES = (0o644, 0o755)


def _corpus() -> list[str]:
    paths = list(KNOWN)
    trees = sorted(p for pattern in ("tests/*/testdata", "tests/*/*/testdata") for p in REPO.glob(pattern)
                   if p.is_dir() and "node_modules" not in p.relative_to(REPO).parts)
    assert REPO / "tests/inventory/testdata" in trees and REPO / "tests/inventory/lang/testdata" in trees, trees
    for root, prefix in [*((t, "/") for t in trees), (debian_rootfs(), "/")]:
        for dirpath, _dirs, files in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            for name in files:
                paths.append(prefix + (name if rel == "." else f"{rel}/{name}"))
    return paths


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    require_tool("debootstrap")
    return _corpus()


@pytest.mark.parametrize("analyzer", [an for an in all_analyzers() if an.hints is not None], ids=lambda an: an.name)
def test_hints_are_a_necessary_condition_of_wants(analyzer, corpus):
    wanted = [(p, m) for p in corpus for m in MODES if analyzer.wants(p, 100, m)]
    assert wanted, f"no file of the corpus is one {analyzer.name} wants: the check would prove nothing"
    missed = [(p, oct(m)) for p, m in wanted if not analyzer.hints.matches(p, m)]
    assert not missed, missed[:20]


def test_the_walkers_index_picks_exactly_the_matching_analyzers(corpus):
    analyzers = all_analyzers()
    d = _Dispatcher(analyzers, "test")
    for path in corpus:
        for mode in MODES:
            expected = [i for i, an in enumerate(analyzers) if an.hints is None or an.hints.matches(path, mode)]
            assert d.candidates(path, mode) == expected, (path, oct(mode))


def test_a_file_no_hint_names_goes_only_to_analyzers_without_hints():
    analyzers = all_analyzers()
    d = _Dispatcher(analyzers, "test")
    assert [analyzers[i].name for i in d.candidates("/usr/share/icons/hicolor/index.theme", 0o644)] == ["secret"]
    assert PathHints(extensions=frozenset({"jar"})).matches("/x/LIB.JAR", 0o644)
    assert not PathHints(names=frozenset({"go.mod"})).matches("/x/go.mod.bak", 0o755)
