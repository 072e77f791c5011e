"""The public API: scheme lookup, ecosystem mapping, keys, validity and native constraint
syntaxes, on hand-checked cases."""

from __future__ import annotations

import random

import pytest

from hullscan.versions import get_scheme, scheme_for_ecosystem


@pytest.mark.parametrize(
    "ecosystem, scheme",
    [("PyPI", "pep440"), ("npm", "npm"), ("Go", "golang"), ("Maven", "maven"),
     ("Maven:https://maven.google.com", "maven"), ("RubyGems", "gem"), ("NuGet", "nuget"),
     ("Packagist", "composer"), ("crates.io", "cargo"), ("Hex", "semver"), ("Pub", "pub"),
     ("CRAN", "cran"), ("Debian", "deb"), ("Debian:12", "deb"), ("Ubuntu:22.04", "deb"),
     ("Ubuntu:Pro:18.04:LTS", "deb"), ("Alpine:v3.19", "apk"), ("Wolfi", "apk"),
     ("Chainguard", "apk"), ("Red Hat", "rpm"), ("Red Hat:rhel_aus:8.4::appstream", "rpm"),
     ("Rocky Linux:9", "rpm"), ("AlmaLinux", "rpm"), ("openSUSE", "rpm"), ("SUSE", "rpm"),
     ("Photon OS", "rpm"), ("Mariner", "rpm"), ("Amazon Linux", "rpm"), ("Oracle Linux", "rpm"),
     ("Root:Alpine:3.18", "apk"), ("Root:PyPI", "pep440")],
)
def test_scheme_for_ecosystem(ecosystem, scheme):
    found = scheme_for_ecosystem(ecosystem)
    assert found is not None and found.name == scheme


def test_unknown_ecosystem_and_scheme():
    assert scheme_for_ecosystem("Android") is None
    with pytest.raises(KeyError):
        get_scheme("nonsense")


def test_sorting_with_keys_matches_pairwise_compare():
    rng = random.Random(3)
    deb = get_scheme("deb")
    versions = ["1.0", "1.0~rc1", "1:0.9", "1.0-1", "1.0+b1", "1.0-1~deb9u1", "0.9", "1.0a", "1.0.0"]
    rng.shuffle(versions)
    ordered = sorted(versions, key=deb.key)
    assert ordered[0] == "1.0~rc1" or ordered[0] == "0.9"
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert deb.compare(a, b) <= 0


@pytest.mark.parametrize(
    "scheme, version, constraint, dialect, want",
    [
        ("gem", "1.5.7", "~> 1.5.5", "native", True),
        ("gem", "1.6.0", "~> 1.5.5", "native", False),
        ("gem", "2.9", "~> 2.2", "native", True),
        ("gem", "3.0", "~> 2.2", "native", False),
        ("gem", "1.6.0.rc1", ">= 1.5, < 1.6", "native", True),
        ("gem", "1.9.25-x86-mingw32", ">= 1.9.24", "native", True),
        ("maven", "1.2.3", "[1.0,2.0)", "native", True),
        ("maven", "2.0", "[1.0,2.0)", "native", False),
        ("maven", "1.2.3", "(,1.2.3]", "native", True),
        ("maven", "1.2.4", "(,1.0],[1.2,)", "native", True),
        ("maven", "1.1", "(,1.0],[1.2,)", "native", False),
        ("maven", "1.5", "[1.5]", "native", True),
        ("nuget", "1.0.0-beta", "[1.0.0-alpha,1.0.0)", "native", True),
        ("pep440", "1.4.1", "~=1.4, !=1.4.2", "pep440", True),
        ("pep440", "1.4.2", "~=1.4, !=1.4.2", "pep440", False),
        ("pep440", "2.0", "~=1.4", "pep440", False),
        ("npm", "1.9.0", "^1.2.3", "native", True),
        ("npm", "0.3.0", "^0.2.3", "native", False),
        ("npm", "1.2.9", "~1.2.3", "native", True),
        ("npm", "2.0.0-rc.1", "<2.0.0", "native", True),
        ("deb", "1.5", ">= 1.0, < 2.0 || > 3", "cmp", True),
        ("deb", "2.5", ">= 1.0, < 2.0 || > 3", "cmp", False),
        ("deb", "4", ">= 1.0, < 2.0 || > 3", "cmp", True),
        ("rpm", "1.0", "'1.0' || '2.0'", "cmp", True),
        ("apk", "1.0", "", "cmp", True),
        ("cargo", "1.2.5", "1.2.3", "native", True),   # bare = caret in Cargo
        ("cargo", "2.0.0", "1.2.3", "native", False),
        ("cargo", "1.2.4", "=1.2.3", "native", False),
        ("cargo", "0.5.9", ">= 0.5.2, < 0.6", "native", True),
        ("cargo", "0.3.0", "0.2.3", "native", False),
        ("composer", "1.9.9", "^1.2.3", "native", True),
        ("composer", "2.0.0-beta1", "^1.2.3", "native", False),
        ("composer", "1.9", "~1.2", "native", True),
        ("composer", "2.0", "~1.2", "native", False),
        ("composer", "1.3.0", "~1.2.3", "native", False),
        ("composer", "1.3", "1.2.*", "native", False),
        ("composer", "2.0.5", "1.0 - 2.0", "native", True),
        ("composer", "2.1.0", "1.0 - 2.0", "native", False),
        ("composer", "v1.5.0", "^1.0@stable", "native", True),
        ("composer", "2.1", ">=1.0 <2.0 || >=2.1", "native", True),
    ],
)
def test_constraints(scheme, version, constraint, dialect, want):
    assert get_scheme(scheme).satisfies(version, constraint, dialect) is want


@pytest.mark.parametrize(
    "scheme, good, bad",
    [("deb", "1:2.3-1ubuntu1", "a:b c"), ("apk", "1.2.3_rc1-r0", "1.2.3-foo"),
     ("pep440", "1.0.post1", "1.0-r0-x"), ("semver", "1.2.3-rc.1+b", "1.2"),
     ("portage", "1.2.3_p1-r1", "1.2.3-foo"), ("nuget", "1.0.0.1-beta", "1.0.0.0.0")],
)
def test_valid(scheme, good, bad):
    s = get_scheme(scheme)
    assert s.valid(good) and not s.valid(bad)
