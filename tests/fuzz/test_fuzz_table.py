"""The fuzz table covers every entry point: a new analyzer rule, feed format or version scheme without a
target fails here, not silently."""

from __future__ import annotations

from fuzz_targets import SCHEMES, all_targets, example_path

from hullscan.inventory.registry import all_analyzers
from hullscan.versions import _SCHEMES
from hullscan.vulndb.feeds import FORMATS


def names() -> set[str]:
    return {t.name for t in all_targets()}


def test_every_analyzer_rule_has_a_target() -> None:
    for an in all_analyzers():
        for rule in an.files:
            path, mode = example_path(rule)
            assert an.rule_for(path, max(rule.min_size, 1), mode) is rule, (an.name, path)
            assert f"analyzer:{an.name}:{path}" in names()


def test_every_feed_format_and_version_scheme_has_a_target() -> None:
    assert {f"feed:{f}" for f in FORMATS} | {f"feed:{f}:detect" for f in FORMATS} <= names()
    assert set(SCHEMES) == set(_SCHEMES)
    assert {f"version:{s}" for s in _SCHEMES} <= names()


def test_every_stage_has_targets_and_most_have_real_samples() -> None:
    targets = all_targets()
    assert {t.stage for t in targets} == {"analyzers", "tar", "image", "sbom", "config", "feeds", "versions"}
    seeded = [t for t in targets if t.seeds]
    assert len(seeded) >= len(targets) - 3, sorted(t.name for t in targets if not t.seeds)
