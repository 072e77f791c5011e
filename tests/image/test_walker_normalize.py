"""walker.normalize: the fast path for ordinary member names gives what folding part by part gives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hullscan.walk.walker import _normalize_parts, normalize


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("usr/lib/", "/usr/lib"),
        ("/etc/passwd", "/etc/passwd"),
        ("./etc/os-release", "/etc/os-release"),
        ("a//b", "/a/b"),
        ("a/./b", "/a/b"),
        ("a/../b", "/b"),
        ("a\\b", "/a/b"),
        ("home/.bashrc", "/home/.bashrc"),
        ("a/...", "/a/..."),
        ("../etc/passwd", None),
        ("a/../../b", None),
    ],
)
def test_examples(name: str, expected: str | None) -> None:
    assert normalize(name) == expected


@given(st.text(alphabet="ab./\\", max_size=24))
def test_fast_path_agrees_with_folding(name: str) -> None:
    assert normalize(name) == _normalize_parts(name)
