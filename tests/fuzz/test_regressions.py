"""Every crash the fuzz targets found, with the exact input, and what the right answer is (worked out by
hand from each ecosystem's rules, not by the code under test).

Found by tests/fuzz (hypothesis, `ci` profile) and bench/fuzz.py on 2026-12-07; fixed in versions/."""

from __future__ import annotations

import sys

import pytest

from hullscan.versions import get_scheme
from hullscan.versions._base import incr, num

HUGE = "9" * 5000  # past int()'s 4300-digit limit (sys.int_info.str_digits_check_threshold)


@pytest.fixture
def unlimited_ints():
    """Python's own int conversion without the digit limit: the oracle for num() and incr()."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(old)


@pytest.mark.parametrize("digits", ["0", "7", "0042", "1299", "9" * 4000, "9" * 4001, HUGE, "1" + "0" * 9000, "12" * 4500])
def test_num_and_incr_have_no_digit_limit(digits: str, unlimited_ints: None) -> None:
    assert num(digits) == int(digits)
    assert incr(digits) == str(int(digits) + 1)


# ValueError "Exceeds the limit (4300 digits)" from int() in each scheme's key; a number with more
# digits is the larger one in every scheme below.
@pytest.mark.parametrize(("scheme", "bigger", "smaller"), [
    ("deb", "1." + HUGE, "1.10"),
    ("deb", HUGE + ":1.0", "5:1.0"),  # the epoch
    ("rpm", "1." + HUGE + "-1", "1.10-1"),
    ("apk", "1." + HUGE, "1.10"),
    ("apk", "1.0-r" + HUGE, "1.0-r1"),
    ("semver", "1." + HUGE + ".0", "1.10.0"),
    ("semver", "1.0.0-" + HUGE, "1.0.0-1"),  # numeric pre-release identifiers compare as numbers
    ("cargo", "1." + HUGE + ".0", "1.10.0"),
    ("npm", "1." + HUGE + ".0", "1.10.0"),
    ("golang", "v1." + HUGE + ".0", "v1.10.0"),
    ("maven", "1." + HUGE, "1.10"),
    ("gem", "1." + HUGE, "1.10"),
    ("nuget", "1." + HUGE, "1.10"),
    ("composer", "1." + HUGE, "1.10"),
    ("cran", "1." + HUGE, "1.10"),
    ("hackage", "1." + HUGE, "1.10"),
    ("pub", "1." + HUGE + ".0", "1.10.0"),
    ("pacman", "1." + HUGE, "1.10"),
    ("portage", "1." + HUGE, "1.10"),
    ("bitnami", "1." + HUGE + ".0", "1.10.0"),
    ("fuzzy", "1." + HUGE, "1.10"),
])
def test_huge_numbers_compare_as_numbers(scheme: str, bigger: str, smaller: str) -> None:
    s = get_scheme(scheme)
    assert s.compare(bigger, smaller) == 1
    assert s.compare(smaller, bigger) == -1
    assert s.compare(bigger, bigger) == 0


def test_pep440_number_past_the_limit_is_no_pep440_version() -> None:
    # packaging.Version raised ValueError (not InvalidVersion); pip cannot read such a version either,
    # so it is a legacy string, and legacy strings sort before every PEP 440 version (docs/versions.md)
    pep440 = get_scheme("pep440")
    assert not pep440.valid("1." + HUGE)
    assert pep440.compare("1." + HUGE, "0.1") == -1


def test_npm_caret_and_tilde_bounds_of_huge_majors() -> None:
    # node-semver: ^X.0.0 is >=X.0.0 <(X+1).0.0-0 and ~X the same range, so X.5.0 is in and 1.0.0 is not
    npm = get_scheme("npm")
    assert npm.satisfies(HUGE + ".5.0", "^" + HUGE + ".0.0", "native")
    assert npm.satisfies(HUGE + ".5.0", "~" + HUGE, "native")
    assert not npm.satisfies("1.0.0", "^" + HUGE + ".0.0", "native")


@pytest.mark.parametrize("scheme", ["hackage", "cran", "gem", "composer", "nuget", "semver", "apk", "deb"])
def test_non_ascii_digits_are_no_numbers(scheme: str) -> None:
    # "²".isdigit() is true but int("²") raises: a superscript is text, and text sorts before numbers
    # in hackage's and cran's integer lists (−1), so only reflexivity and antisymmetry are pinned here
    s = get_scheme(scheme)
    assert s.compare("1.²", "1.²") == 0
    assert s.compare("1.²", "1.0") == -s.compare("1.0", "1.²")


def test_hackage_superscript_sorts_first() -> None:
    assert get_scheme("hackage").compare("1.²", "1.0") == -1


def test_maven_thousands_of_hyphens() -> None:
    # RecursionError in _freeze: every "-" opens a sub-list. ComparableVersion compares item by item:
    # the first items are 1 and 2, so 1-1-1-… < 2, and the version equals itself.
    maven = get_scheme("maven")
    deep = "1" + "-1" * 3000
    assert maven.compare(deep, "2") == -1
    assert maven.compare(deep, deep) == 0
    assert maven.satisfies(deep, "< 2")


# ---------------------------------------------------------------- found in other owners' areas, fixed there

XML_UNKNOWN_ENCODING = (
    b'<?xml version="1.0" encoding="utf-NaN"?>\n'
    b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"/>\n'
)
"""bench/fuzz.py, target sbom:cyclonedx-xml (seeds 74, 170, 211, 231, 298 of the first run, each a mutated
osv-scanner alpine.cdx.xml with the token `encoding="utf-NaN"`); this is the smallest form of the same input.
expat raises LookupError for an unknown encoding, which parse_sbom does not catch."""


def test_sbom_xml_with_unknown_encoding_is_an_input_error(tmp_path) -> None:
    from hullscan.errors import InputError
    from hullscan.sbom_in import load_sbom

    path = tmp_path / "bom.xml"
    path.write_bytes(XML_UNKNOWN_ENCODING)
    with pytest.raises(InputError):
        load_sbom(path)


COMPOSER_BLANK_NAME = b'{"packages": [{"name": " ", "version": "1.8.3"}]}'
"""bench/fuzz.py, target analyzer:composer:/srv/vendor/composer/installed.json, seed 3839 (a mutated
trivy composer-vendor installed.json whose first package name became " "); this is the smallest form.
composer_purl → packageurl's to_string raises TypeError (a None name part) inside assemble, which
would drop every Composer package of the image."""


def test_composer_installed_json_blank_name_does_not_break_assemble() -> None:
    from fuzz_targets import all_targets

    target = next(t for t in all_targets() if t.name == "analyzer:composer:/srv/vendor/composer/installed.json")
    target.run(COMPOSER_BLANK_NAME)  # parse (guarded) then assemble: nothing may escape


SECRET_CONFIG_HUGE_REPEAT = b"""rules:
  - id: rule1
    category: general
    title: Generic Rule
    severity: HIGH
    regex: (?i)credentials:\\s*\\{\\s*user:\\s*['"](?P<secret>[0-9a-zA-Z\\-_=]{07777777777778,64})['"]\\s*\
password:\\s*['"](?P<secret>[0-9a-zA-Z\\-_=]{8,64})['"]\\s*\\}
    secret-group-name: secret
disable-allow-rules:
  - tests"""
"""bench/fuzz.py, target config:secret-config, seed 346 (trivy's config-happy-keywords-style sample with a
digit run inserted into a repetition count), the exact input. re.compile raises OverflowError ("the
repetition number is too large"), not re.error, and it escapes the config loader."""


def test_secret_config_with_huge_repetition_is_an_input_error(tmp_path) -> None:
    from hullscan.errors import HullscanError
    from hullscan.secrets.rules import build_ruleset, load_config

    path = tmp_path / "secret.yaml"
    path.write_bytes(SECRET_CONFIG_HUGE_REPEAT)
    with pytest.raises(HullscanError):
        build_ruleset(load_config(path))
