"""How `wanted-before.tsv.gz` and `sweep-before.tsv` were made: each analyzer's own `wants()` at
commit e14b42f (before the file tables replaced it), asked about a fixed corpus of image paths.

Run once, against that commit's code, never by the tests (the `wants()` it calls no longer exists):

    mkdir -p /tmp/head && git archive e14b42f src | tar -x -C /tmp/head
    PYTHONPATH=/tmp/head/src .venv/bin/python tests/inventory/testdata/file-rules/before.py

The corpus: every file of the repository's test data trees as they stood when it ran (tests/**/testdata,
tests/inventory/fixtures), of the test cache's debootstrap bookworm minbase root filesystem and of
the slow language tests' real trees (tests/inventory/lang/_lang_real.py: pip/npm installs, Debian
jars, dpkg-installed node/python/java packages; the pypi-top30 site-packages), each as image paths,
plus the KNOWN and EDGE paths below. Every corpus path is asked at three (size, mode) points; the
KNOWN and EDGE paths also at every size each analyzer's rules distinguish.
"""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

from hullscan.inventory.registry import all_analyzers
from hullscan.walk import analyzer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
MiB = 1024 * 1024

KNOWN = [  # files the analyzers exist for, as images hold them (the old test_path_hints list)
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
EDGE = [  # the corners of each analyzer's `wants`: case, depth, exclusions, odd names
    "/x/LIB.Jar", "/x/.jar", "/x/lib.jar/pom.properties", "/x/lib.jar.txt", "/x/foo.EGG", "/x/foo.egg", "/x/.egg",
    "/x/.dist-info/METADATA", "/x/a.dist-info/sub/METADATA", "/x/a.dist-info/metadata", "/x/a.egg-info",
    "/x/a.EGG-INFO", "/x/a.egg/PKG-INFO", "/x/a.egg/EGG-INFO/sub/PKG-INFO",
    "/usr/share/maven-repo/a/b.POM", "/usr/share/maven-repo/a/b.pom", "/usr/share/maven-repo/b.pom",
    "/usr/share/maven-repo/META-INF/b.pom", "/opt/m2/a/b.pom", "/META-INF/x.pom",
    "/node_modules/node_modules/package.json", "/node_modules/package.json", "/a/node_modules/@s/package.json",
    "/a/node_modules/@s/node_modules/package.json", "/a/node_modules/.bin/package.json",
    "/a/node_modules/@s/.bin/package.json", "/a/node_modules/@s/x/y/package.json", "/a/node_modules/x/y/package.json",
    "/usr/share/nodejs/node_modules/package.json", "/usr/share/nodejs/.bin/package.json",
    "/usr/share/nodejs/@s/package.json", "/usr/share/nodejs/@s/x/package.json", "/usr/lib/nodejs/x/package.json",
    "/usr/share/nodejs/x/y/package.json", "/usr/share/nodejs/package.json", "/node_modules/x/package.json",
    "/a/node_modules/x/node_modules/y/package.json", "/usr/share/nodejs/x/node_modules/y/package.json",
    "/usr/local/share/nodejs/x/package.json", "/app/node_modules/x/package-lock.json",
    "/app/node_modules/.package-lock.json", "/app/sub/yarn.lock", "/yarn.lock", "/app/node_modules/package.json",
    "/var/lib/dpkg/status.d/x.md5sums", "/var/lib/dpkg/status.d/sub/x", "/var/lib/dpkg/info/x.list",
    "/var/lib/dpkg/info/sub/x.list", "/var/lib/dpkg/info/x.conffiles", "/var/lib/dpkg/statusx",
    "/var/lib/dpkg/status-old", "/var/lib/dpkg/available", "/usr/share/doc/x/y/copyright",
    "/usr/share/doc/copyright", "/usr/share/doc/x/copyright", "/usr/share/doc/x/copyright.gz",
    "/x/etc/os-release", "/etc/os-release.d/x", "/etc/system-release", "/etc/centos-release",
    "/var/lib/ubuntu-advantage/status.json.bak", "/x/lib/apk/db/installed", "/lib/apk/db/installed.bak",
    "/a/site-packages/x/requirements.txt", "/a/site-packages", "/a/dist-packages/r/requirements-dev.txt",
    "/a/node_modules/x/requirements.txt", "/app/pylock..toml", "/app/pylock.x.toml", "/app/pylock.a.b.toml",
    "/app/requirements.txt.bak", "/app/REQUIREMENTS.TXT", "/app/requirements.TXT", "/app/requirements",
    "/app/site-packages.txt", "/app/x/site-packages/poetry.lock", "/usr/bin/x.sh", "/usr/bin/x.SH",
    "/usr/bin/tool", "/srv/tool", "/opt/x/data.json", "/usr/bin/sub/tool", "/bin", "/usr/libexec/x/y",
    "/ko-app/app", "/go/bin/x", "/root/go/bin/x", "/app/x.pyc", "/app/x.jar",
    "/src/vendor/x/go.mod", "/go/pkg/mod/x/go.mod", "/go.mod", "/src/go.mod.bak", "/src/pkg/mod.go",
    "/src/pkg/modx/go.mod", "/root/.cargo/registry/src/x/Cargo.toml", "/x/registry/Cargo.lock", "/Cargo.lock",
    "/usr/lib/ruby/gems/3.1.0/gems/rack-2.2.3/Gemfile.lock", "/x/bundler/gems/y/Gemfile.lock",
    "/x/gems/gems/Gemfile.lock", "/g/specifications/.gemspec", "/g/specifications/default/x.gemspec",
    "/g/specifications/sub/x.gemspec", "/g/specifications/x.gemspec", "/g/x.gemspec", "/specifications/x.gemspec",
    "/b/vendor/monolog/monolog/composer.json", "/b/vendor/composer/installed.json", "/installed.json",
    "/vendor/composer/installed.json", "/b/vendor/x/composer.lock", "/b/composer.lock", "/composer.json",
    "/app/.deps.json", "/app/x.deps.json", "/app/x.DEPS.json", "/app/deps.json", "/app/packages.lock.json",
    "/app/x/packages.config", "/src/META-INF/pom.xml", "/src/x/pom.xml", "/pom.xml", "/x.pom", "/.pom",
    "/gradle/dependency-locks/x.lockfile", "/a/gradle/dependency-locks/b/c.lockfile", "/a/gradle.lockfile",
    "/a/x.lockfile", "/a/META-INF/gradle.lockfile", "/app/META-INF/maven/g/a/pom.properties",
    "/app/pom.properties", "/META-INF/pom.properties", "/app/.env", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    "/app/.git/objects/ab/cdef", "/app/.git/config", "/usr/share/doc/bash/README", "/app/x.PNG", "/app/x.png",
    "/app/config.yaml", "/app/noext", "/app/.hidden", "/x/var/lib/rpm/Packages", "/var/lib/rpm/Packages.bak",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages.db",
]
CORPUS_POINTS = [(100, 0o644), (100, 0o755), (0, 0o644)]
SIZES = [0, 1, 63, 64, 100, MiB - 1, MiB, MiB + 1, 4 * MiB, 4 * MiB + 1, 10 * MiB, 10 * MiB + 1]
SWEEP_POINTS = [(s, m) for s in SIZES for m in (0o644, 0o755)]


def _tree_paths(root: Path, prefix: str = "/") -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        out += [prefix + (name if rel == "." else f"{rel}/{name}") for name in files]
    return out


def corpus() -> list[str]:
    trees = [(t, "/") for pattern in ("tests/*/testdata", "tests/*/*/testdata", "tests/inventory/fixtures")
             for t in sorted(REPO.glob(pattern)) if t.is_dir()]
    trees.append((CACHE / "debian-bookworm-minbase", "/"))
    trees += [(CACHE / "lang-pnj-v1" / name, "/") for name in ("python", "node", "java", "owned")]
    trees.append((CACHE / "pypi-top30-site", "/opt/venv/lib/python3.11/site-packages/"))
    paths: set[str] = set()
    for root, prefix in trees:
        assert root.is_dir(), root
        paths.update(_tree_paths(root, prefix))
    return sorted(paths - set(KNOWN) - set(EDGE))


def table(paths: list[str], points: list[tuple[int, int]]) -> list[str]:
    """One line per path: the path, then `analyzer=bits` (bit i: wanted at points[i]) for each that wants it."""
    analyzers = all_analyzers()
    lines = []
    for path in paths:
        cells = []
        for an in analyzers:
            bits = "".join("1" if an.wants(path, size, mode) else "0" for size, mode in points)
            if "1" in bits:
                cells.append(f"{an.name}={bits}")
        lines.append("\t".join([path, *cells]))
    return lines


def header(points: list[tuple[int, int]]) -> str:
    return "# points (size, mode): " + " ".join(f"{s}:{m:o}" for s, m in points) + "\n"


def main() -> None:
    assert not hasattr(analyzer, "FileRule"), "run against e14b42f's code (see the docstring)"
    with gzip.open(HERE / "wanted-before.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(header(CORPUS_POINTS))
        f.writelines(line + "\n" for line in table(corpus(), CORPUS_POINTS))
    (HERE / "sweep-before.tsv").write_text(
        header(SWEEP_POINTS) + "".join(line + "\n" for line in table(sorted(set(KNOWN + EDGE)), SWEEP_POINTS))
    )
    print("written", file=sys.stderr)


if __name__ == "__main__":
    main()
