"""Each matcher's three steps alone (handles, queries, vulnerable), on hand-built packages and records;
then the generic loop over an in-memory advisory store. Versions and advisories are real ones (named
beside each case); the expected orderings are the distros' documented rules (an rpm/deb epoch outranks
everything after it)."""

from __future__ import annotations

import pytest

from hullscan.match.apk import ApkMatcher
from hullscan.match.dpkg import DpkgMatcher
from hullscan.match.gostdlib import GoStdlibMatcher
from hullscan.match.language import LanguageMatcher
from hullscan.match.loop import match_inventory
from hullscan.match.matcher import CannotEvaluate, Matcher
from hullscan.match.options import MatchOptions
from hullscan.match.registry import MATCHERS
from hullscan.match.rpm import RpmMatcher
from hullscan.model.inventory import Inventory, Package
from hullscan.vulndb.feeds._requirements import to_range
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, AffectedRecord, FeedBatch


def pkg(type_: str, name: str, version: str, ecosystem: str, source_name: str = "", source_version: str = "") -> Package:
    return Package(type=type_, name=name, version=version, ecosystem=ecosystem, purl=f"pkg:{type_}/{name}@{version}",
                   analyzer="test", source_name=source_name, source_version=source_version)


def fixed_below(ecosystem: str, package: str, fix: str, *, advisory: str = "ADV-1", feed: str = "test",
                rtype: str = "ECOSYSTEM") -> AffectedRecord:
    """A record affecting every version below `fix`, as the distro feeds are imported."""
    return AffectedRecord(advisory, ecosystem, package, [{"type": rtype, "events": [{"introduced": "0"}, {"fixed": fix}]}],
                          [], "fixed", [fix], None, feed)


# --------------------------------------------------------------------------------------------- dpkg

# libgcc1 1:8.3.0-6 is built from gcc-8 8.3.0-6 (Debian 10: the binary carries an epoch its source lacks)
LIBGCC1 = pkg("deb", "libgcc1", "1:8.3.0-6", "Debian:10", "gcc-8", "8.3.0-6")


def test_dpkg_asks_the_source_package_of_its_release():
    assert DpkgMatcher().handles(LIBGCC1) and not DpkgMatcher().handles(pkg("rpm", "bash", "1", "Red Hat:9"))
    assert DpkgMatcher().queries(LIBGCC1) == [("Debian:10", "gcc-8", "source")]
    # without a Source: field the package is its own source
    assert DpkgMatcher().queries(pkg("deb", "bash", "5.0-4", "Debian:10")) == [("Debian:10", "bash", "source")]
    # a release the inventory could not tell, or no version: nothing to ask without guessing
    assert DpkgMatcher().queries(pkg("deb", "bash", "5.0-4", "Debian")) == []
    assert DpkgMatcher().queries(pkg("deb", "bash", "", "Debian:10")) == []


def test_dpkg_compares_the_source_version():
    query = ("Debian:10", "gcc-8", "source")
    # by its binary version 1:8.3.0-6 the package would be above a fix in 8.3.0-7; its source 8.3.0-6 is below
    d = DpkgMatcher().vulnerable(LIBGCC1, fixed_below("Debian:10", "gcc-8", "8.3.0-7", feed="debian"), query)
    assert d is not None
    assert (d.matcher, d.feed, d.ecosystem, d.package, d.identity, d.version, d.scheme, d.constraint, d.status) == (
        "dpkg", "debian", "Debian:10", "gcc-8", "source", "8.3.0-6", "deb", ">=0, <8.3.0-7", "fixed")
    assert DpkgMatcher().vulnerable(LIBGCC1, fixed_below("Debian:10", "gcc-8", "8.3.0-6"), query) is None


def test_a_vendor_status_without_a_range_speaks_for_every_version():
    query = ("Debian:10", "bash", "source")
    bash = pkg("deb", "bash", "5.0-4", "Debian:10")
    # CVE-2019-18276: the tracker says <no-dsa> for buster (affected, no fixed version)
    for status in ("affected", "will_not_fix", "fix_deferred", "end_of_life", "under_investigation"):
        rec = AffectedRecord("CVE-2019-18276", "Debian:10", "bash", [], [], status, [], None, "debian")
        d = DpkgMatcher().vulnerable(bash, rec, query)
        assert d is not None and (d.constraint, d.status) == (f"{status}, no range", status)
    for status in ("fixed", "not_affected"):
        rec = AffectedRecord("CVE-2019-18276", "Debian:10", "bash", [], [], status, [], None, "debian")
        assert DpkgMatcher().vulnerable(bash, rec, query) is None


# ---------------------------------------------------------------------------------------------- rpm

# openssl-libs 1:3.0.7-24.el9 (RHEL 9), built from openssl; RHSA-2024:2447 fixed it in 1:3.0.7-27.el9
OPENSSL_LIBS = pkg("rpm", "openssl-libs", "1:3.0.7-24.el9", "Red Hat:9", "openssl", "1:3.0.7-24.el9")


# Red Hat's main streams per major, as OSV's `Red Hat` ecosystem spells them (osv.dev records; RHEL 5-7 by
# variant, RHEL 8/9 by repository, RHEL 10 by minor), preceded by the release-only spelling of converted data
RHEL9 = ["Red Hat:9", *(f"Red Hat:enterprise_linux:9::{c}" for c in
                        ("baseos", "appstream", "crb", "codeready_builder", "highavailability", "supplementary")),
         "Red Hat:enterprise_linux:9"]
RHEL7 = ["Red Hat:7", *(f"Red Hat:enterprise_linux:7::{c}" for c in ("server", "workstation", "client", "computenode")),
         "Red Hat:enterprise_linux:7"]


def test_rpm_asks_source_and_binary_names():
    assert RpmMatcher().queries(OPENSSL_LIBS) == [(s, n, i) for s in RHEL9
                                                 for n, i in (("openssl", "source"), ("openssl-libs", "binary"))]
    # built from a source of its own name: asked once per stream
    assert RpmMatcher().queries(pkg("rpm", "bash", "4.2.46-33.el7", "Red Hat:7", "bash")) == [
        (s, "bash", "source") for s in RHEL7]


def test_a_rebuild_also_asks_the_release_it_rebuilds():
    glibc_common = pkg("rpm", "glibc-common", "2.12-1.212.el6", "CentOS:6", "glibc")
    rhel6 = ["Red Hat:6", *(f"Red Hat:enterprise_linux:6::{c}" for c in ("server", "workstation", "client", "computenode")),
             "Red Hat:enterprise_linux:6"]
    assert RpmMatcher().queries(glibc_common) == [
        ("CentOS:6", "glibc", "source"), ("CentOS:6", "glibc-common", "binary"),
        *((s, n, "upstream") for s in rhel6 for n in ("glibc", "glibc-common"))]


def test_rpm_compares_with_the_epoch_and_shows_fixes_without_epoch_0():
    rec = fixed_below("Red Hat:9", "openssl-libs", "1:3.0.7-27.el9", advisory="RHSA-2024:2447", feed="redhat")
    d = RpmMatcher().vulnerable(OPENSSL_LIBS, rec, ("Red Hat:9", "openssl-libs", "binary"))
    assert d is not None
    assert (d.identity, d.version, d.scheme, d.constraint) == ("binary", "1:3.0.7-24.el9", "rpm", ">=0, <1:3.0.7-27.el9")
    # a fix without an epoch is epoch 0: below the installed epoch 1
    rec0 = fixed_below("Red Hat:9", "openssl-libs", "3.0.7-27.el9")
    assert RpmMatcher().vulnerable(OPENSSL_LIBS, rec0, ("Red Hat:9", "openssl-libs", "binary")) is None
    assert RpmMatcher().shown_fix("0:1.0.1e-58.el6_10") == "1.0.1e-58.el6_10"
    assert RpmMatcher().shown_fix("1:3.0.7-27.el9") == "1:3.0.7-27.el9"


# ---------------------------------------------------------------------------------------------- apk


def test_apk_asks_the_origin():
    libcrypto = pkg("apk", "libcrypto1.1", "1.1.1c-r0", "Alpine:v3.10", "openssl")
    assert ApkMatcher().queries(libcrypto) == [("Alpine:v3.10", "openssl", "source")]
    # Wolfi is rolling: its ecosystem has no release, and needs none
    assert ApkMatcher().queries(pkg("apk", "glibc", "2.38-r1", "Wolfi", "glibc")) == [("Wolfi", "glibc", "source")]
    assert ApkMatcher().queries(pkg("apk", "musl", "1.2.4-r2", "Alpine")) == []
    d = ApkMatcher().vulnerable(libcrypto, fixed_below("Alpine:v3.10", "openssl", "1.1.1d-r0"),
                                ("Alpine:v3.10", "openssl", "source"))
    assert d is not None and (d.version, d.scheme) == ("1.1.1c-r0", "apk")


# ----------------------------------------------------------------------------------------- language


def test_language_packages_ask_their_name():
    lang = LanguageMatcher()
    django = pkg("pypi", "django", "2.2", "PyPI")
    assert lang.handles(django) and not lang.handles(LIBGCC1)
    assert lang.queries(django) == [("PyPI", "django", "name")]
    # NuGet ids are case-insensitive; feeds spell them either way
    assert lang.queries(pkg("nuget", "Newtonsoft.Json", "12.0.3", "NuGet")) == [
        ("NuGet", "Newtonsoft.Json", "name"), ("NuGet", "newtonsoft.json", "name")]
    assert lang.queries(pkg("golang", "example.com/app", "(devel)", "Go")) == []
    assert lang.queries(pkg("npm", "left-pad", "1.3.0", "")) == []


def test_listed_versions_say_which_one_matched():
    # PYSEC records list every affected version; without a range the listed one is what matched
    rec = AffectedRecord("PYSEC-2019-79", "PyPI", "django", [], ["2.1", "2.2", "2.2.1"], "fixed", [], None, "osv")
    d = LanguageMatcher().vulnerable(pkg("pypi", "django", "2.2", "PyPI"), rec, ("PyPI", "django", "name"))
    assert d is not None and (d.constraint, d.scheme) == ("=2.2", "pep440")


def test_a_range_of_several_intervals_names_the_one_that_holds_the_version():
    # RUSTSEC-2021-0124 (tokio): patched >= 1.8.4, < 1.9.0 and >= 1.13.1; unaffected < 0.1.14
    rng = to_range([">= 1.8.4, < 1.9.0", ">= 1.13.1"], ["< 0.1.14"], "semver", "SEMVER")
    rec = AffectedRecord("RUSTSEC-2021-0124", "crates.io", "tokio", [rng], [], "fixed", ["1.8.4", "1.13.1"], None, "rustsec")
    query = ("crates.io", "tokio", "name")
    assert LanguageMatcher().vulnerable(pkg("cargo", "tokio", "1.10.0", "crates.io"), rec, query).constraint == (
        ">=1.9.0, <1.13.1")
    assert LanguageMatcher().vulnerable(pkg("cargo", "tokio", "1.5.0", "crates.io"), rec, query).constraint == (
        ">=0.1.14, <1.8.4")
    assert LanguageMatcher().vulnerable(pkg("cargo", "tokio", "1.8.5", "crates.io"), rec, query) is None


# RUSTSEC-2020-0071 (time): patched >= 0.2.23, unaffected = 0.2.0 … = 0.2.6 (`=` is kept as requirement text)
TIME_REQS = to_range([">= 0.2.23"], ["= 0.2.0", "= 0.2.1", "= 0.2.2", "= 0.2.3", "= 0.2.4", "= 0.2.5", "= 0.2.6"],
                     "semver", "SEMVER")


def test_requirement_strings_show_the_safe_requirements_not_met():
    assert "requirements" in TIME_REQS
    rec = AffectedRecord("RUSTSEC-2020-0071", "crates.io", "time", [TIME_REQS], [], "fixed", [], None, "rustsec")
    query = ("crates.io", "time", "name")
    d = LanguageMatcher().vulnerable(pkg("cargo", "time", "0.1.43", "crates.io"), rec, query)
    assert d is not None and d.scheme == "cargo"
    assert d.constraint == ("not patched by >= 0.2.23; not unaffected by = 0.2.0 or = 0.2.1 or = 0.2.2 or = 0.2.3 "
                            "or = 0.2.4 or = 0.2.5 or = 0.2.6")
    assert LanguageMatcher().vulnerable(pkg("cargo", "time", "0.2.3", "crates.io"), rec, query) is None
    assert LanguageMatcher().vulnerable(pkg("cargo", "time", "0.2.23", "crates.io"), rec, query) is None


def test_a_record_that_cannot_be_read_is_reported_not_guessed():
    # `!1.2.0` is no RubyGems requirement
    rec = AffectedRecord("GHSA-test", "RubyGems", "rack", [
        {"type": "ECOSYSTEM", "requirements": {"patched": ["!1.2.0"], "unaffected": []}, "dialect": "gem"}],
        [], "fixed", [], None, "ghsa")
    with pytest.raises(CannotEvaluate, match="not a gem requirement"):
        LanguageMatcher().vulnerable(pkg("gem", "rack", "2.2.3", "RubyGems"), rec, ("RubyGems", "rack", "name"))
    unknown = AffectedRecord("X-1", "Nowhere", "thing", [], ["1.0"], "affected", [], None, "osv")
    with pytest.raises(CannotEvaluate, match="no version scheme for ecosystem Nowhere"):
        LanguageMatcher().vulnerable(pkg("x", "thing", "1.0", "Nowhere"), unknown, ("Nowhere", "thing", "name"))


# ------------------------------------------------------------------------------------------ go stdlib


def test_go_stdlib_compares_the_toolchain_version_without_go():
    stdlib = pkg("golang", "stdlib", "go1.22.1", "Go")
    assert next(m for m in MATCHERS if m.handles(stdlib)).name == "go-stdlib"  # before the language matcher
    assert GoStdlibMatcher().queries(stdlib) == [("Go", "stdlib", "name")]
    # GO-2024-2887 (CVE-2024-24790, tests/vulndb/testdata/osv-go/sample): fixed in 1.21.11 and 1.22.4
    rec = AffectedRecord("GO-2024-2887", "Go", "stdlib", [{"type": "SEMVER", "events": [
        {"introduced": "0"}, {"fixed": "1.21.11"}, {"introduced": "1.22.0-0"}, {"fixed": "1.22.4"}]}], [], "fixed",
        ["1.21.11", "1.22.4"], None, "osv")
    d = GoStdlibMatcher().vulnerable(stdlib, rec, ("Go", "stdlib", "name"))
    assert d is not None
    assert (d.matcher, d.version, d.scheme, d.constraint) == ("go-stdlib", "1.22.1", "golang", ">=1.22.0-0, <1.22.4")
    assert GoStdlibMatcher().vulnerable(pkg("golang", "stdlib", "go1.22.4", "Go"), rec, ("Go", "stdlib", "name")) is None


def test_every_package_type_has_one_matcher():
    kinds = [LIBGCC1, OPENSSL_LIBS, pkg("apk", "musl", "1", "Alpine:v3.19"), pkg("golang", "stdlib", "go1.22.0", "Go"),
             pkg("golang", "golang.org/x/net", "v0.17.0", "Go"), pkg("npm", "lodash", "4.17.4", "npm")]
    assert [next(m for m in MATCHERS if m.handles(p)).name for p in kinds] == [
        "dpkg", "rpm", "apk", "go-stdlib", "language", "language"]


# --------------------------------------------------------------------------------------------- loop


def batch(feed: str, *advisories: AdvisoryIn) -> FeedBatch:
    b = FeedBatch(feed)
    for a in advisories:
        b.put(a)
    return b


def below(ecosystem: str, package: str, fix: str) -> AffectedIn:
    return AffectedIn(ecosystem, package, [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fix}]}],
                      status="fixed")


@pytest.fixture
def db() -> MemoryReader:
    return MemoryReader([
        # DSA-5417-1 (openssl, bookworm) fixed three CVEs at once: an umbrella advisory
        batch("debian", AdvisoryIn("DSA-5417-1", aliases=["CVE-2023-0464", "CVE-2023-0465", "CVE-2023-0466"],
                                   affected=[below("Debian:12", "openssl", "3.0.9-1")], severity="high")),
        # Red Hat files its rows under binary names
        batch("redhat", AdvisoryIn("RHSA-2024:2447", aliases=["CVE-2023-5678"],
                                   affected=[below("Red Hat:9", "openssl-libs", "1:3.0.7-27.el9")])),
        batch("ghsa", AdvisoryIn("GHSA-test", affected=[AffectedIn("RubyGems", "rack", [
            {"type": "ECOSYSTEM", "requirements": {"patched": ["!1.2.0"], "unaffected": []}, "dialect": "gem"}])]),
            AdvisoryIn("GHSA-rack-2", aliases=["CVE-2022-30123"], affected=[below("RubyGems", "rack", "2.2.3.1")])),
    ])


LIBSSL3 = pkg("deb", "libssl3", "3.0.8-1", "Debian:12", "openssl", "3.0.8-1")
RACK = pkg("gem", "rack", "2.2.3", "RubyGems")


def test_the_loop_splits_an_umbrella_advisory_per_cve(db):
    result = match_inventory(Inventory(packages=[LIBSSL3]), db)
    assert [f.id for f in result.findings] == ["CVE-2023-0464", "CVE-2023-0465", "CVE-2023-0466"]
    for f in result.findings:
        assert f.aliases == ("DSA-5417-1",) and f.advisory_ids == ("DSA-5417-1",)
        assert (f.status, f.fixed_version, f.severity, f.severity_source) == ("fixed", "3.0.9-1", "HIGH", "debian")
        (d,) = f.details
        assert (d.advisory_id, d.package, d.identity, d.version) == ("DSA-5417-1", "openssl", "source", "3.0.8-1")
    assert result.warnings == [] and result.matched_packages == 1


def test_the_loop_matches_a_binary_named_record(db):
    (f,) = match_inventory(Inventory(packages=[OPENSSL_LIBS]), db).findings
    assert (f.id, f.aliases, f.fixed_version) == ("CVE-2023-5678", ("RHSA-2024:2447",), "1:3.0.7-27.el9")
    assert [(d.package, d.identity) for d in f.details] == [("openssl-libs", "binary")]


def test_a_record_that_cannot_be_evaluated_is_a_warning_and_the_others_still_match(db):
    result = match_inventory(Inventory(packages=[RACK]), db)
    assert [f.id for f in result.findings] == ["CVE-2022-30123"]
    assert result.warnings == ["GHSA-test: cannot evaluate for rack 2.2.3: not a gem requirement: '!1.2.0'"]


def test_anything_else_a_matcher_raises_propagates(db):
    class Broken(LanguageMatcher):
        def vulnerable(self, pkg, record, query):
            raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        match_inventory(Inventory(packages=[RACK]), db, matchers=(Broken(),))


def test_the_loop_asks_only_the_matchers_given_and_the_package_types_chosen(db):
    inv = Inventory(packages=[LIBSSL3, RACK])
    only_dpkg: tuple[Matcher, ...] = (DpkgMatcher(),)
    result = match_inventory(inv, db, matchers=only_dpkg)
    assert result.matched_packages == 1 and {f.package.name for f in result.findings} == {"libssl3"}
    result = match_inventory(inv, db, MatchOptions(pkg_types=frozenset({"library"})))
    assert result.matched_packages == 1 and {f.package.name for f in result.findings} == {"rack"}


def test_a_release_the_db_lacks_is_named(db):
    centos = pkg("rpm", "bash", "4.2.46-33.el7", "CentOS:7", "bash")
    result = match_inventory(Inventory(packages=[pkg("deb", "bash", "5.0-4", "Debian:10"), centos]), db)
    # a rebuild is covered by the release it rebuilds: that is the one missing
    assert result.warnings == [
        f"the vulnerability DB holds no advisories for {eco}: its packages were not matched "
        f"(import the feed that covers it)" for eco in ("Debian:10", "Red Hat:7")]
