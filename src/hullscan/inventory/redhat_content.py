"""Red Hat content sets: the RPM repositories a Red Hat image's content came from, which name the product
streams (main, EUS, AUS…) whose advisories apply to it.

Red Hat images carry them in `/root/buildinfo/content_manifests/*.json` (one per build layer) and, since
2025, in `/usr/share/buildinfo/content-sets.json`; both hold `{"content_sets": ["rhel-9-for-x86_64-baseos-rpms",
…]}`. This analyzer runs right after OS detection (`detects_os`) and adds the union of the sets to the
OS it found (`OSInfo.content_sets`); the rpm matcher maps them to CPE streams with Red Hat's
repository-to-CPE table (match/rpm.py). A manifest that is not such JSON is a warning and adds nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hullscan.record import replace
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

MANIFESTS = "/root/buildinfo/content_manifests/"
CONTENT_SETS = "/usr/share/buildinfo/content-sets.json"
#: a repository label (`rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2`)
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]{0,199}$")


def parse_content_sets(path: str, data: bytes, warn: WarnFn) -> Any:
    """A manifest's content sets (a sorted list; [] for a manifest without any), None when unreadable."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as err:
        warn(f"not a content manifest: {str(err)[:80]}")
        return None
    sets = doc.get("content_sets") if isinstance(doc, dict) else None
    if sets is None:
        return []
    if not isinstance(sets, list):
        warn("`content_sets` is not a list")
        return None
    bad = [s for s in sets if not isinstance(s, str) or not _LABEL.match(s)]
    if bad:
        warn(f"{len(bad)} malformed content set(s) left out")
    return sorted({s for s in sets if isinstance(s, str) and _LABEL.match(s)})


class RedHatContentAnalyzer(Analyzer):
    name = "redhat-content-sets"
    version = 1
    files = (FileRule(paths=(CONTENT_SETS,), globs=(f"{MANIFESTS}*.json",), parse=parse_content_sets),)
    max_size = 1024 * 1024
    detects_os = True  # refines the OS the os-release analyzer found (registered after it)
    scanners = frozenset({"vuln"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        os = view.os
        if os is None or os.family != "rhel":
            return Assembled()
        sets = sorted({s for ff in view.files.values() for s in ff.fact or ()})
        return Assembled(os=replace(os, content_sets=tuple(sets))) if sets else Assembled()
