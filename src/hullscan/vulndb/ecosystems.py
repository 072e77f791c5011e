"""OSV ecosystem names and package-name normalization used on both the write and the read side.

Stored names: PyPI names are PEP 503 normalized (`Foo_Bar` -> `foo-bar`); every other ecosystem keeps
the name as the feed spells it (Maven `group:artifact`, Go module path, npm `@scope/name`, distro
SOURCE package). Ecosystems are OSV's, with the distro release after a colon (`Debian:10`, `Alpine:v3.10`).
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

#: Every ecosystem of the OSV schema's ecosystems.json (a copy: tests/vulndb/testdata/osv-ecosystems.json) (the OSV schema's list).
OSV_ECOSYSTEMS = (
    "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers",
    "Bioconductor", "Bitnami", "Chainguard", "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian",
    "Docker Hardened Images", "Echo", "FreeBSD", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia",
    "Kubernetes", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE",
    "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems",
    "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi",
    # older spellings still found in records
    "Amazon Linux", "Mariner", "Oracle Linux",
)
_CANON = {e.lower(): e for e in OSV_ECOSYSTEMS}


def canonical_ecosystem(ecosystem: str) -> str:
    """`pypi` -> `PyPI`, `debian:10` -> `Debian:10`; the release part is kept as given."""
    base, sep, release = ecosystem.strip().partition(":")
    canon = _CANON.get(base.strip().lower(), base.strip())
    return f"{canon}{sep}{release.strip()}" if sep else canon


def base_ecosystem(ecosystem: str) -> str:
    """`Debian:10` -> `Debian`."""
    return ecosystem.partition(":")[0]


def normalize_name(ecosystem: str, name: str) -> str:
    """The stored form of a package name (see module docstring)."""
    if base_ecosystem(ecosystem) == "PyPI":
        return canonicalize_name(name)
    return name.strip()


def lookup_variants(ecosystem: str) -> list[str]:
    """Stored ecosystems a query for `ecosystem` should read (canonical first): OSV spells some
    distro releases differently from os-release, so `Ubuntu:22.04` also reads `Ubuntu:22.04:LTS`,
    `Alpine:3.19` / `Alpine:v3.19.1` read `Alpine:v3.19`, `Debian:12.4` reads `Debian:12`.

    Streams: an Ubuntu Pro image (`Ubuntu:Pro:18.04:LTS`) reads the ESM stream and the standard one
    (`Ubuntu:18.04:LTS`: ESM packages are the standard ones plus later fixes); a plain image reads only
    the standard stream (ESM fixes are not installable there). `Azure Linux:2.0` (CBL-Mariner 2) also
    reads the major-only `Azure Linux:2` and the older `Mariner:2.0`; a SUSE product also reads its
    `-LTSS` (long-term support) product."""
    eco = canonical_ecosystem(ecosystem)
    base, sep, release = eco.partition(":")
    out = [eco]
    if not sep or not release:
        return out
    if base == "Ubuntu":
        m = re.fullmatch(r"(Pro:)?(\d+\.\d+)(:LTS)?", release)
        if m and m.group(1):
            out += [f"Ubuntu:Pro:{m.group(2)}:LTS", f"Ubuntu:{m.group(2)}:LTS", f"Ubuntu:{m.group(2)}"]
        elif m:
            out += [f"Ubuntu:{m.group(2)}:LTS", f"Ubuntu:{m.group(2)}"]
    elif base in ("Azure Linux", "Mariner"):
        m = re.fullmatch(r"(\d+)(?:\.0)?", release)
        if m:
            out += [f"{b}:{r}" for b in ("Azure Linux", "Mariner") for r in (f"{m.group(1)}.0", m.group(1))]
    elif base == "SUSE" and not release.endswith("-LTSS"):
        out.append(f"{eco}-LTSS")
    elif base == "Alpine":
        m = re.match(r"^v?(\d+)\.(\d+)", release)
        if m:
            out.append(f"Alpine:v{m.group(1)}.{m.group(2)}")
    elif base == "Debian":
        m = re.match(r"^(\d+)\.\d+$", release)
        if m and int(m.group(1)) >= 4:  # 3.0 / 3.1 are real releases; 12.4 is a point release of 12
            out.append(f"Debian:{m.group(1)}")
    return list(dict.fromkeys(out))
