"""The image's symbolic links (path → target as stored), for resolving paths inside the image after
the walk (hullscan.reach: the entrypoint along PATH, `DT_NEEDED` libraries, `/lib → usr/lib`) — the
walker records them (`FileRule.symlinks`); nothing is ever resolved on the host."""

from __future__ import annotations

from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn


def _no_file(path: str, data: bytes, warn: WarnFn) -> None:
    return None  # links only: a symlinks rule never sees a regular file


class SymlinkAnalyzer(Analyzer):
    name = "symlinks"
    version = 1
    files = (FileRule(globs=("**",), symlinks=True, parse=_no_file),)
    scanners = frozenset({"vuln"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(facts={path: ff.fact["link"] for path, ff in view.files.items()
                                if isinstance(ff.fact, dict) and isinstance(ff.fact.get("link"), str)})
