"""OSV range evaluation on hand-worked cases (expected values worked out from the OSV schema's
evaluation pseudo-code by hand, not by running this code)."""

from __future__ import annotations

import pytest

from hullscan.versions import get_scheme, scheme_for_ecosystem
from hullscan.versions.osv import affected


def eco(*events: dict, type_: str = "ECOSYSTEM") -> list[dict]:
    return [{"type": type_, "events": list(events)}]


DEB = scheme_for_ecosystem("Debian:12")
PYPI = scheme_for_ecosystem("PyPI")

TWO_PAIRS = eco({"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3"})


@pytest.mark.parametrize(
    "version, want",
    [("0.9", False), ("1.0", True), ("1.4.9", True), ("1.5", False), ("1.9", False),
     ("2.0", True), ("2.2.post1", True), ("2.3", False), ("3.0", False), ("2.3rc1", True)],
)
def test_two_introduced_fixed_pairs(version, want):
    assert affected(version, TWO_PAIRS, [], PYPI) is want


def test_events_given_out_of_order():
    ranges = eco({"fixed": "2.3"}, {"introduced": "2.0"}, {"fixed": "1.5"}, {"introduced": "1.0"})
    assert affected("1.2", ranges, [], PYPI) is True
    assert affected("1.7", ranges, [], PYPI) is False
    assert affected("2.1", ranges, [], PYPI) is True


def test_introduced_zero_and_deb_fixed():
    ranges = eco({"introduced": "0"}, {"fixed": "1:2.4.1-1+deb12u1"})
    assert affected("2.4.1-1", ranges, [], DEB) is True          # no epoch < epoch 1
    assert affected("1:2.4.1-1", ranges, [], DEB) is True
    assert affected("1:2.4.1-1+deb12u1", ranges, [], DEB) is False
    assert affected("1:2.4.1-1+deb12u1~1", ranges, [], DEB) is True  # ~ sorts before
    assert affected("1:2.4.2-1", ranges, [], DEB) is False


def test_last_affected_is_inclusive():
    ranges = eco({"introduced": "1.0.0"}, {"last_affected": "1.2.0"})
    semver = get_scheme("semver")
    assert affected("1.2.0", ranges, [], semver) is True
    assert affected("1.2.1-rc.1", ranges, [], semver) is False
    assert affected("1.2.1", ranges, [], semver) is False
    assert affected("0.9.9", ranges, [], semver) is False


def test_limit_events():
    ranges = eco({"introduced": "0"}, {"limit": "2.0.0"})
    npm = get_scheme("npm")
    assert affected("1.9.9", ranges, [], npm) is True
    assert affected("2.0.0", ranges, [], npm) is False
    star = eco({"introduced": "1.0.0"}, {"limit": "*"})
    assert affected("9.9.9", star, [], npm) is True
    assert affected("0.1.0", star, [], npm) is False


def test_unfixed_and_empty_ranges():
    assert affected("99.0", eco({"introduced": "0"}), [], PYPI) is True
    assert affected("1.0", [], [], PYPI) is False
    assert affected("1.0", eco(), [], PYPI) is False


def test_explicit_versions_list():
    assert affected("1.0", [], ["0.9", "1.0"], PYPI) is True
    assert affected("1.0.0", [], ["1.0"], PYPI) is True  # PEP 440: 1.0 == 1.0.0
    assert affected("1.0.1", [], ["1.0"], PYPI) is False


def test_git_ranges_are_ignored():
    ranges = [{"type": "GIT", "repo": "https://example.invalid/x.git",
               "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]
    assert affected("1.0", ranges, [], PYPI) is False


def test_semver_range_in_go_with_prefixes():
    go = scheme_for_ecosystem("Go")
    ranges = eco({"introduced": "0"}, {"fixed": "1.21.5"}, type_="SEMVER")
    assert affected("v1.21.4", ranges, [], go) is True
    assert affected("go1.21.5", ranges, [], go) is False
    assert affected("v0.0.0-20230101000000-abcdefabcdef", ranges, [], go) is True
    rc = eco({"introduced": "1.21.0-rc.3"}, {"fixed": "1.21.5"}, type_="SEMVER")
    assert affected("go1.21rc2", rc, [], go) is False  # go1.21rc2 is v1.21.0-rc.2
    assert affected("go1.21rc4", rc, [], go) is True


def test_alpine_and_rpm_ranges():
    apk = scheme_for_ecosystem("Alpine:v3.19")
    ranges = eco({"introduced": "0"}, {"fixed": "1.2.4-r2"})
    assert affected("1.2.4-r1", ranges, [], apk) is True
    assert affected("1.2.4_p1-r0", ranges, [], apk) is False  # _p sorts after the release
    rpm = scheme_for_ecosystem("Rocky Linux:9")
    ranges = eco({"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"})
    assert affected("1:3.0.7-24.el9", ranges, [], rpm) is True
    assert affected("1:3.0.7-25.el9_3", ranges, [], rpm) is False


def test_scheme_by_name():
    assert affected("2.0", TWO_PAIRS, [], "pep440") is True
