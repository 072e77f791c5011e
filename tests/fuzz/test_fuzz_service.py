"""The service's small parsers on hypothesis-generated values (service/): an Accept header, Harbor's
registry URL and Basic authorization, a page cursor, token scopes — each gives an answer or its documented
error (a usage error, an API 400), never a traceback."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("fastapi")  # the service extra (installed by scripts/test)

from hullscan.errors import UsageError  # noqa: E402
from hullscan.service import harbor  # noqa: E402
from hullscan.service.api_common import ApiError, PageParams, cursor_at  # noqa: E402
from hullscan.service.auth import SCOPES, parse_scopes  # noqa: E402
from hullscan.service.submit import credentials, registry_host  # noqa: E402

TYPES = st.sampled_from([*harbor.REPORT_TYPES, "*/*", "application/json", "text/html", "application/*"])
ACCEPT = st.one_of(st.text(max_size=80), st.lists(st.builds(lambda t, q: t + q, TYPES, st.sampled_from(["", ";q=0.5", " ; q=1"])),
                                                 min_size=1, max_size=3).map(", ".join))


@given(ACCEPT)
def test_negotiate_answers_a_type_we_produce_or_none(accept: str) -> None:
    got = harbor.negotiate(accept)
    assert got is None or got in harbor.REPORT_TYPES


def test_negotiate_by_hand() -> None:
    # Harbor writes the parameters with and without spaces; `*/*` and no header mean Harbor's own type
    assert harbor.negotiate("application/vnd.security.vulnerability.report;version=1.1") == harbor.VULN_SECURITY
    assert harbor.negotiate(None) == harbor.negotiate("*/*") == harbor.VULN_HARBOR
    assert harbor.negotiate("text/html, application/vnd.scanner.adapter.vuln.report.raw") == harbor.VULN_RAW
    assert harbor.negotiate("text/html") is None


@given(st.one_of(st.text(max_size=60), st.builds(lambda s, h, p: f"{s}://{h}{p}", st.sampled_from(["http", "https", "ftp"]),
                                                  st.text(max_size=20), st.text(max_size=10))))
def test_registry_host_never_raises(url: str) -> None:
    host, insecure = registry_host(url)
    assert isinstance(host, str) and isinstance(insecure, bool)
    assert "/" not in host and "@" not in host.partition("]")[2]


def test_registry_host_by_hand() -> None:
    assert registry_host("https://core.harbor.domain") == ("core.harbor.domain", False)
    assert registry_host("http://127.0.0.1:5000/") == ("127.0.0.1:5000", True)
    assert registry_host("ftp://x") == ("", False)


@given(st.one_of(st.none(), st.text(max_size=40),
                 st.binary(max_size=30).map(lambda b: "Basic " + base64.b64encode(b).decode())))
def test_credentials_decode_or_refuse(header: str | None) -> None:
    try:
        user, password = credentials(header)
    except UsageError:
        return
    assert isinstance(user, str) and isinstance(password, str)


def test_credentials_by_hand() -> None:
    assert credentials("Basic " + base64.b64encode(b"robot$x:p:w").decode()) == ("robot$x", "p:w")
    assert credentials(None) == ("", "")
    with pytest.raises(UsageError):
        credentials("Bearer abc")


@given(st.one_of(st.text(max_size=30), st.integers(min_value=0, max_value=10**9).map(cursor_at)))
def test_cursor_decodes_or_is_a_400(cursor: str) -> None:
    try:
        offset = PageParams(cursor, 10).offset
    except ApiError as err:
        assert err.status == 400
        return
    assert offset >= 0


@given(st.lists(st.text(max_size=10), max_size=4))
def test_scopes_parse_or_refuse(words: list[str]) -> None:
    try:
        got = parse_scopes(words)
    except UsageError:
        return
    assert got and set(got) <= set(SCOPES)
