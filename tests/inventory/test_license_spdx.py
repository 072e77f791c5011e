"""OS-package licences as SPDX (inventory/spdx_license.py), and a policy deny written in SPDX matching them.

Inputs are real declared values: DEP-5 `License:` names from the copyright files in testdata/dpkg and
from Debian 12 minbase packages (named per row), Alpine `L:` values from testdata/apk, rpm License tags
from testdata/rpm (packages.csv of Amazon Linux 2023 and SLES 15.3). Each expected value was written
by hand from the SPDX licence list (ids, deprecated ids and exceptions) and the rules in the module's
docstring: DEP-5's `+` and trailing-zero rules, the short-name table, LicenseRef for the rest.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from license_expression import get_spdx_licensing

from hullscan.inventory.apk import split_licenses
from hullscan.inventory.spdx_license import license_ref, normalize, normalize_all

DEBIAN = [
    # testdata/dpkg/copyright-samples/liblzma5.copyright
    ("GPL-2+", "GPL-2.0-or-later"),
    ("GPL-2", "GPL-2.0-only"),
    ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("PD", "LicenseRef-PD"),
    ("probably-PD", "LicenseRef-probably-PD"),
    ("permissive-fsf", "LicenseRef-permissive-fsf"),
    ("Autoconf", "LicenseRef-Autoconf"),  # SPDX has Autoconf *exceptions*, no Autoconf licence
    ("none", ""),
    # testdata/dpkg/copyright-samples/trilicense.copyright
    ("MPL-1.1 or GPL-2 or LGPL-2.1", "MPL-1.1 OR GPL-2.0-only OR LGPL-2.1-only"),
    # testdata/dpkg/copyright-samples/libc6.copyright (a common-licenses file name)
    ("LGPL-2.1", "LGPL-2.1-only"),
    # testdata/dpkg/distroless-deb__syft (libsqlite3-0)
    ("public-domain", "LicenseRef-public-domain"),
    # testdata/dpkg/debian-12-minbase__licenses (zlib1g)
    ("Zlib", "Zlib"),
    # Debian 12 minbase copyright files (package in the comment)
    ("BSD-4-clause-UC", "BSD-4-Clause-UC"),  # bash, coreutils, sed
    ("GFDL-NIV-1.3", "GFDL-1.3-no-invariants-only"),  # bash, coreutils
    ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"),  # findutils, sed
    ("GFDL-1.3+-no-invariant", "GFDL-1.3-no-invariants-or-later"),  # gzip
    ("GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2"),  # bash, tar
    ("GPL-3+-WITH-BISON-EXCEPTION", "GPL-3.0-or-later WITH Bison-exception-2.2"),  # perl-base
    ("GPL-3+ with Autoconf exception", "GPL-3.0-or-later WITH Autoconf-exception-3.0"),  # libnettle8
    ("GPL-2+ with Texinfo exception", "GPL-2.0-or-later WITH Texinfo-exception"),  # e2fsprogs
    ("GPL-2 with Linux-syscall-note exception", "GPL-2.0-only WITH Linux-syscall-note"),  # libsystemd0
    ("GPL-2+ with distribution exception", "LicenseRef-GPL-2-plus-with-distribution-exception"),  # libunistring2
    ("GPL-1+ or Artistic, and Expat", "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND MIT"),  # perl-base
    ("REGCOMP, and GPL-1+ or Artistic", "LicenseRef-REGCOMP AND (GPL-1.0-or-later OR Artistic-1.0-Perl)"),
    ("ISC and/or LGPL-2.1+", "ISC OR LGPL-2.1-or-later"),  # findutils
    ("LGPLv3+_or_GPLv2+", "LGPL-3.0-or-later OR GPL-2.0-or-later"),  # libgnutls30
    ("GPLv3+", "GPL-3.0-or-later"),  # libgnutls30
    ("CC0 license", "CC0-1.0"),  # libgnutls30
    ("Apache-2", "Apache-2.0"),  # e2fsprogs (DEP-5: trailing zeroes are not significant)
    ("BSL-1", "BSL-1.0"),  # sed
    ("Expat", "MIT"),  # many
    ("Artistic", "Artistic-1.0-Perl"),  # gcc-12-base, libdb5.3 (Debian's common-licenses/Artistic)
    ("BSD-2-clause-NetBSD", "BSD-2-Clause"),  # libmd0; SPDX deprecated the NetBSD id for BSD-2-Clause
    ("Ms-PL", "MS-PL"),  # libdb5.3
    ("GPL", "GPL-1.0-or-later"),  # libffi8; the index's alias (a GPL work naming no version: any)
    ("LGPL", "LicenseRef-LGPL"),  # util-linux; no version, no alias: no SPDX id
    ("MIT/X11", "LicenseRef-MIT-X11"),  # ncurses-base: MIT or X11 is not said
    ("BSD-variant", "LicenseRef-BSD-variant"),  # libbz2-1.0
    ("ISC+IBM", "LicenseRef-ISC-plus-IBM"),  # libp11-kit0
]

ALPINE = [  # testdata/apk (L: values)
    ("GPL-2.0-only", "GPL-2.0-only"),
    ("GPL2", "GPL-2.0-only"),
    ("GPL2+", "GPL-2.0-or-later"),
    ("GPL-2.0", "GPL-2.0-only"),  # deprecated id
    ("openssl", "OpenSSL"),
    ("zlib", "Zlib"),
    ("GPL", "GPL-1.0-or-later"),
    ("BSD", "LicenseRef-BSD"),
    ("Public-Domain", "LicenseRef-Public-Domain"),
    ("custom", "LicenseRef-custom"),
    ("( Apache-2.0 OR MIT ) AND MPL-2.0", "(Apache-2.0 OR MIT) AND MPL-2.0"),
    ("MIT AND BSD-2-Clause AND GPL-2.0-or-later", "MIT AND BSD-2-Clause AND GPL-2.0-or-later"),
]

RPM = [  # testdata/rpm: amazonlinux-2023__packages.csv (Fedora legacy names), sles-15.3-bci__packages.csv
    ("GPLv2", "GPL-2.0-only"),
    ("LGPLv2+", "LGPL-2.0-or-later"),
    ("ASL 2.0", "Apache-2.0"),
    ("MIT and (BSD or ASL 2.0)", "MIT AND (LicenseRef-BSD OR Apache-2.0)"),
    ("zlib and Boost", "Zlib AND BSL-1.0"),
    ("BSD and GPLv2", "LicenseRef-BSD AND GPL-2.0-only"),
    ("LGPLv3+ or GPLv2+", "LGPL-3.0-or-later OR GPL-2.0-or-later"),
    ("Public Domain", "LicenseRef-Public-Domain"),
    ("LGPLv2+ and LGPLv2+ with exceptions and GPLv2+ and GPLv2+ with exceptions and BSD and Inner-Net and ISC "
     "and Public Domain and GFDL",
     "LGPL-2.0-or-later AND LicenseRef-LGPLv2-plus-with-exceptions AND GPL-2.0-or-later AND "
     "LicenseRef-GPLv2-plus-with-exceptions AND LicenseRef-BSD AND LicenseRef-Inner-Net AND ISC AND "
     "LicenseRef-Public-Domain AND LicenseRef-GFDL"),
    ("GPL-2.0+ and LGPL-2.1+", "GPL-2.0-or-later AND LGPL-2.1-or-later"),
    ("Artistic-1.0 or GPL-2.0+", "Artistic-1.0 OR GPL-2.0-or-later"),
    ("BSD-3-Clause or GPL-2.0", "BSD-3-Clause OR GPL-2.0-only"),
    ("GPL-3.0-or-later WITH GCC-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1"),
    ("LGPL-2.1-or-later AND BSD-2-Clause AND BSD-3-Clause AND SUSE-Public-Domain",
     "LGPL-2.1-or-later AND BSD-2-Clause AND BSD-3-Clause AND LicenseRef-SUSE-Public-Domain"),
]

TABLE = DEBIAN + ALPINE + RPM
_IDSTRING = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")


@lru_cache(maxsize=1)
def _licensing() -> Any:
    return get_spdx_licensing()


def _assert_spdx(expression: str) -> None:
    """Parses as an SPDX expression whose only ids outside the licence list are well-formed LicenseRefs."""
    lic = _licensing()
    parsed = lic.parse(expression, validate=False)
    assert parsed is not None
    for key in lic.unknown_license_keys(parsed):
        assert _IDSTRING.match(key), (expression, key)


@pytest.mark.parametrize("declared,expected", TABLE)
def test_real_declared_values(declared: str, expected: str) -> None:
    got = normalize(declared)
    assert got.expression == expected
    if expected:
        _assert_spdx(got.expression)


def test_every_licence_ref_keeps_the_declared_text() -> None:
    got = normalize("GPL-1+ or Artistic, and BSD-4-clause-POWERDOG")  # perl-base
    assert got.expression == "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND LicenseRef-BSD-4-clause-POWERDOG"
    assert got.refs == {"LicenseRef-BSD-4-clause-POWERDOG": "BSD-4-clause-POWERDOG"}
    whole = normalize("GPL-2+ with Autoconf-data exception")  # findutils: the exception has no SPDX id
    assert whole.refs == {"LicenseRef-GPL-2-plus-with-Autoconf-data-exception": "GPL-2+ with Autoconf-data exception"}
    assert normalize("GPL-2.0-only").refs == {}


def test_unparseable_text_is_one_licence_ref() -> None:
    got = normalize("(MIT or")
    assert got.expression == "LicenseRef-MIT-or" and got.refs == {"LicenseRef-MIT-or": "(MIT or"}


def test_long_text_gets_a_short_distinct_ref() -> None:
    text = "The main library is licensed under GNU Lesser General Public License version 2.1 or later"
    ref = normalize(text).expression
    assert ref.startswith("LicenseRef-The-main-library-is-licensed-under") and len(ref) <= 11 + 64
    assert ref == license_ref(text) != license_ref(text + " (x)")


def test_apk_space_separated_list() -> None:
    # testdata/apk alpine-3.10: an older L: lists names with spaces; each is a licence of its own
    assert normalize_all(split_licenses("MIT BSD GPL2+")) == (
        ("MIT", "LicenseRef-BSD", "GPL-2.0-or-later"), {"LicenseRef-BSD": "BSD"})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("GPLMITBSD-+.0123 ()orandwith,_/ex")), max_size=40))
def test_any_text_gives_a_valid_expression(text: str) -> None:
    got = normalize(text)
    if got.expression:
        _assert_spdx(got.expression)
    for ref, original in got.refs.items():
        assert _IDSTRING.match(ref) and original


DATA = Path(__file__).parent / "testdata" / "dpkg" / "debian-12-minbase__licenses"


def test_policy_deny_in_spdx_matches_debian_packages(tmp_path: Path) -> None:
    """hostname's copyright says `License: GPL-2`, sed's names `BSD-4-clause-UC` among others: a deny
    of GPL-2.0-only and BSD-4-Clause-UC catches both and nothing else (usr-is-merged is GPL-2+, i.e.
    GPL-2.0-or-later, a different licence; zlib1g is Zlib)."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  licenses:\n    deny: [GPL-2.0-only, BSD-4-Clause-UC]\n")
    out = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "hullscan", "image", f"dir:{DATA}", "--scanners", "license",
                          "--policy", str(policy), "--format", "json", "-o", str(out),
                          "--cache-dir", str(tmp_path / "cache")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    report = json.loads(out.read_text())
    licences = {p["name"]: p["licenses"] for p in report["packages"]}
    assert licences == {
        "hostname": ["GPL-2.0-only"],
        # sed's License: fields in file order (hand-read): GPL-3+, X11, GFDL-NIV-1.3+, GPL-3+ and ISC, ISC,
        # BSD-4-clause-UC, BSL-1, pcre
        "sed": ["GPL-3.0-or-later", "X11", "GFDL-1.3-no-invariants-or-later", "GPL-3.0-or-later AND ISC", "ISC",
                "BSD-4-Clause-UC", "BSL-1.0", "LicenseRef-pcre"],
        "usr-is-merged": ["GPL-2.0-or-later"],
        "zlib1g": ["Zlib"],
    }
    extra = {p["name"]: p["extra"] for p in report["packages"]}
    assert extra["hostname"]["declared_licenses"] == ["GPL-2"] and "license_refs" not in extra["hostname"]
    assert extra["sed"]["license_refs"] == {"LicenseRef-pcre": "pcre"}
    failed = {r["rule"]: r["findings"] for r in report["verdict"]["failed_rules"]}
    assert list(failed) == ["fail_on.licenses"]
    named = sorted(f.split()[0] for f in failed["fail_on.licenses"])
    assert named == ["hostname", "sed"], failed
