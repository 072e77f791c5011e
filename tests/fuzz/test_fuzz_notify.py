"""Notification inputs on hypothesis-generated values: a webhook URL is accepted or refused with a usage
error (exit 2), never a traceback, and its shown form never carries the query; pages split any list of
changes losslessly and stay JSON whose links count the pages."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hullscan.errors import UsageError
from hullscan.notify.endpoints import check_url, shown_url
from hullscan.notify.payload import CATEGORIES, cloudevent, pages

URLS = st.one_of(st.text(max_size=60), st.builds(lambda s, h, rest: f"{s}://{h}{rest}",
                                                 st.sampled_from(["http", "https", "ftp", ""]),
                                                 st.text(max_size=20), st.text(max_size=30)))


@given(URLS)
def test_check_url_accepts_or_refuses(url: str) -> None:
    try:
        check_url(url)
    except UsageError:
        pass
    shown = shown_url(url)
    assert isinstance(shown, str)
    query = urllib.parse.urlsplit(url).query if shown != "(an unreadable URL)" else ""
    if query:
        assert shown.endswith("?…")  # the query (a token, often) is never shown


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                       max_leaves=6)
CHANGES = st.lists(st.fixed_dictionaries({"category": st.sampled_from(CATEGORIES), "id": st.text(min_size=1, max_size=12)},
                                         optional={"extra": JSONISH}), max_size=12)


@given(CHANGES, st.integers(1, 5))
def test_pages_split_losslessly(changes: list[dict[str, Any]], size: int) -> None:
    bodies = pages("ab" * 32, image_digest="sha256:" + "0" * 64, image_names=["x:1"], change_id=3,
                   created_at="2027-01-15T08:00:00Z", changes=changes, verdict_change="none", page_size=size)
    docs = [json.loads(b) for b in bodies]
    assert sum((d["changes"] for d in docs), []) == changes
    assert [d["page"]["index"] for d in docs] == list(range(len(docs)))
    assert [d["page"]["next"] for d in docs] == [*range(1, len(docs)), None]
    assert all(len(d["changes"]) <= size for d in docs)
    for body in bodies:
        assert json.loads(cloudevent(body))["data"] == json.loads(body)


def test_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        pages("ab" * 32, image_digest="sha256:" + "0" * 64, image_names=[], change_id=1, created_at="x", changes=[],
              verdict_change="none", page_size=0)
