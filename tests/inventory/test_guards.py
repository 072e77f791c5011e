"""A parser that raises, or an `assemble` that raises, costs one warning and that analyzer's own
results, never the scan nor the other analyzers' packages: real layers (tests/image/builders.py),
walked by the real walker, merged by the applier."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hullscan.image.target import SourceOptions, open_image
from hullscan.inventory.apk import ApkAnalyzer
from hullscan.inventory.applier import analyze_files, apply_layers
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn
from hullscan.walk.layers import collect_facts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import d, docker_archive, f, layer  # noqa: E402

APK_DB = "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\nP:zlib\nV:1.3.1-r0\nA:x86_64\no:zlib\nL:Zlib\n\n"
OS_RELEASE = 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'


def _explode(path: str, data: bytes, warn: WarnFn) -> Any:
    raise KeyError("no such field")


class ParserBug(Analyzer):
    """Reads the apk database too, and its parser raises on it."""

    name = "parser-bug"
    version = 1
    files = (FileRule(paths=("/lib/apk/db/installed",), parse=_explode),)

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled()


class AssembleBug(Analyzer):
    """Parses the app's files fine; its `assemble` raises."""

    name = "assemble-bug"
    version = 1
    files = (FileRule(prefixes=("/app/",), parse=lambda path, data, warn: len(data)),)

    def assemble(self, view: AnalyzerView) -> Assembled:
        if view.files:
            raise ZeroDivisionError("division by zero")
        return Assembled()


ANALYZERS: list[Analyzer] = [OSReleaseAnalyzer(), ParserBug(), ApkAnalyzer(), AssembleBug()]


def _check(inv: Any) -> None:
    assert inv.os is not None and inv.os.family == "alpine"
    assert sorted((p.name, p.version, p.layer.index) for p in inv.packages) == [("musl", "1.2.4-r2", 0), ("zlib", "1.3.1-r0", 0)]
    parser = [w for w in inv.warnings if w.message.startswith("parser-bug:")]
    assert [(w.path, w.layer, w.message) for w in parser] == [
        ("/lib/apk/db/installed", 0, "parser-bug: cannot parse: KeyError: 'no such field'")
    ]
    assembled = [w for w in inv.warnings if w.message.startswith("assemble-bug:")]
    assert [w.message for w in assembled] == [
        "assemble-bug: assemble failed: ZeroDivisionError: division by zero; its results are left out"
    ]
    assert len(inv.warnings) == 2, inv.warnings


def test_a_raising_parser_and_a_raising_assemble_cost_one_warning_each(tmp_path: Path) -> None:
    base = layer([d("etc"), f("etc/os-release", OS_RELEASE), f("etc/alpine-release", "3.19.1\n"),
                  d("lib"), d("lib/apk"), d("lib/apk/db"), f("lib/apk/db/installed", APK_DB)], compression="")
    app = layer([d("app"), f("app/main.py", "print('hi')\n")], compression="")
    image = open_image(f"docker-archive:{docker_archive(tmp_path / 'image.tar', [base, app])}", SourceOptions())
    try:
        facts, counts = collect_facts(image, ANALYZERS, None)
    finally:
        image.close()
    assert counts == {"walked": 2, "cached": 0}
    _check(apply_layers(ANALYZERS, facts))


def test_the_in_memory_path_runs_the_same_guards() -> None:
    _check(analyze_files(ANALYZERS, [
        {"/etc/os-release": OS_RELEASE.encode(), "/lib/apk/db/installed": APK_DB.encode()},
        {"/app/main.py": b"print('hi')\n"},
    ]))
