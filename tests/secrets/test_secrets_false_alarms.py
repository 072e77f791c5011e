"""False alarms on real trees: a debootstrapped Debian bookworm (minbase) root filesystem plus the
installed files of 30 popular PyPI packages at pinned versions (secret_trees.py builds both once,
cached under ~/.cache/hullscan-tests/). Target: at most 1 finding per 10,000 files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from secret_trees import debian_rootfs, pypi_site

from hullscan.secrets.analyzer import SecretAnalyzer
from testsupport import require_tool


def _walk(root: Path, prefix: str):
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file() or name.startswith(".hullscan-"):
                continue
            yield prefix + p.relative_to(root).as_posix(), p


@pytest.mark.slow
def test_false_alarm_rate_debian_and_pypi() -> None:
    require_tool("debootstrap")
    trees = [(debian_rootfs(), "/"), (pypi_site(), "/usr/local/lib/python3.11/site-packages/")]
    an = SecretAnalyzer()
    files = 0
    findings: list[dict] = []
    for root, prefix in trees:
        for path, p in _walk(root, prefix):
            files += 1
            st = p.stat()
            rule = an.rule_for(path, st.st_size, st.st_mode & 0o7777)
            if rule is None:
                continue
            fact = rule.parse(path, p.read_bytes(), lambda m: None)
            findings += fact or []
    assert files > 10_000
    allowed = files // 10_000
    assert len(findings) <= allowed, [(f["rule_id"], f["path"], f["line"], f["match"]) for f in findings]
