"""Benchmark: what the Python/Node/Java language analyzers add to reading an image's layers.

Image: a docker-archive with two uncompressed layers built from the slow tests' cached trees
(tests/inventory/lang/_lang_real.py): a Python site-packages (the pinned old set, plus the 30-package
`pypi-top30-site` tree when another test has cached it) and an `npm install`ed app (88 packages,
package-lock.json). Two walks of every layer through the real walker (`collect_facts`, no cache):

- baseline: one analyzer with an empty file table — the cost of reading the layers (tar parsing, digest);
- language: python-dist, python-lock, node-package, node-lock, java-archive, java-declared.

It also counts the files and bytes handed to the parsers against everything in the layers, to show
that only the files the tables name are read into memory. Target: language ≤ 1.30 × baseline.

    .venv/bin/python bench/lang_bench.py
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "inventory" / "lang"))
sys.path.insert(0, str(REPO / "tests"))  # testsupport, for _lang_real

import _lang_real  # noqa: E402

from hullscan.image.target import SourceOptions, open_image  # noqa: E402
from hullscan.inventory.java_archive import JavaArchiveAnalyzer  # noqa: E402
from hullscan.inventory.java_declared import JavaDeclaredAnalyzer  # noqa: E402
from hullscan.inventory.node_lock import NodeLockAnalyzer  # noqa: E402
from hullscan.inventory.node_package import NodePackageAnalyzer  # noqa: E402
from hullscan.inventory.python_dist import PythonDistAnalyzer  # noqa: E402
from hullscan.inventory.python_lock import PythonLockAnalyzer  # noqa: E402
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, Parser, WarnFn  # noqa: E402
from hullscan.walk.layers import PARALLEL_ENV, collect_facts  # noqa: E402


class Nothing(Analyzer):
    """An empty file table: the walker reads no file for it."""

    name, version, files = "nothing", 1, ()

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled()


class Counting(Analyzer):
    """Wraps an analyzer, counting the files and bytes its parsers are handed."""

    def __init__(self, inner: Analyzer, tally: dict[str, int]) -> None:
        self.inner, self.tally = inner, tally
        self.name, self.version, self.max_size = inner.name, inner.version, inner.max_size
        self.files = tuple(replace(rule, parse=self._counted(rule.parse)) for rule in inner.files)

    def _counted(self, parse: Parser) -> Parser:
        def counted(path: str, data: bytes, warn: WarnFn) -> Any:
            self.tally["files"] += 1
            self.tally["bytes"] += len(data)
            return parse(path, data, warn)

        return counted

    def assemble(self, view: AnalyzerView) -> Assembled:
        return self.inner.assemble(view)


def _layer(root: Path, prefix: str = "") -> tuple[bytes, int, int]:
    buf = io.BytesIO()
    files = size = 0
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for path in sorted(root.rglob("*")):
            if path.name in (".done",) or "__pycache__" in path.parts:
                continue
            info = tf.gettarinfo(str(path), arcname=prefix + path.relative_to(root).as_posix())
            info.mtime = 0
            if info.isreg():
                files += 1
                size += info.size
                with open(path, "rb") as fh:
                    tf.addfile(info, fh)
            else:
                tf.addfile(info)
    return buf.getvalue(), files, size


def build_image() -> tuple[Path, int, int]:
    trees = [(_lang_real.python_tree(), ""), (_lang_real.node_tree(), "")]
    top30 = _lang_real.CACHE.parent / "pypi-top30-site"
    if (top30 / ".done").exists() or top30.is_dir():
        trees.insert(1, (top30, "opt/venv/lib/python3.11/site-packages/"))
    layers = [_layer(t, p) for t, p in trees]
    out = _lang_real.CACHE / "bench-image.tar"
    from builders import Layer, docker_archive  # tests/image/builders.py (on sys.path through _lang_real)

    docker_archive(out, [Layer(b, "") for b, _, _ in layers], tags=())
    return out, sum(f for _, f, _ in layers), sum(s for _, _, s in layers)


def walk(path: Path, analyzers: list[Analyzer]) -> float:
    image = open_image(f"docker-archive:{path}", SourceOptions())
    try:
        t = time.perf_counter()
        collect_facts(image, analyzers, None)
        return time.perf_counter() - t
    finally:
        image.close()


def main() -> None:
    path, files, size = build_image()
    lang = [PythonDistAnalyzer(), PythonLockAnalyzer(), NodePackageAnalyzer(), NodeLockAnalyzer(),
            JavaArchiveAnalyzer(), JavaDeclaredAnalyzer()]
    tally = {"files": 0, "bytes": 0}
    os.environ[PARALLEL_ENV] = "1"  # counted in this process: forked walkers' counts would be lost
    walk(path, [Counting(a, tally) for a in lang])
    del os.environ[PARALLEL_ENV]
    base_runs, full_runs = [], []
    for _ in range(5):  # interleaved: a change in the machine's load hits both alike
        base_runs.append(walk(path, [Nothing()]))
        full_runs.append(walk(path, lang))
    base, full = min(base_runs), min(full_runs)
    print(f"image: {path.stat().st_size / 2**20:.1f} MiB, {files} regular files, {size / 2**20:.1f} MiB of file data")
    print(f"handed to the parsers: {tally['files']} files, {tally['bytes'] / 2**20:.2f} MiB "
          f"({100 * tally['files'] / files:.1f}% of files, {100 * tally['bytes'] / size:.2f}% of bytes)")
    print(f"read layers only: {base * 1000:.0f} ms; with language analyzers: {full * 1000:.0f} ms "
          f"(+{100 * (full - base) / base:.0f}%, target ≤ +30%)")


if __name__ == "__main__":
    main()
