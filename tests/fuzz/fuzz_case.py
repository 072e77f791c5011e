"""The one parametrized fuzz test each stage module instantiates: `fuzz_stage("feeds")`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fuzz_strategies import inputs
from fuzz_targets import Target, by_stage
from hypothesis import given
from hypothesis import strategies as st


def params(stage: str) -> list[object]:
    """The stage's targets; a known crash in another owner's area is xfail (not strict) until fixed."""
    return [
        pytest.param(t, id=t.name, marks=[pytest.mark.xfail(strict=False, reason=t.known)] if t.known else [])
        for t in by_stage(stage)
    ]


def fuzz_stage(stage: str) -> Callable[..., None]:
    @pytest.mark.parametrize("target", params(stage))
    @given(data=st.data())
    def test(target: Target, data: st.DataObject) -> None:
        target.run(data.draw(inputs(target), label="input"))

    test.__name__ = f"test_fuzz_{stage}"
    return test
