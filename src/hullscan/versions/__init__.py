"""Version ordering and range evaluation for every ecosystem hullscan matches.

`get_scheme("deb")` returns a `Scheme` with `compare`, `key`, `satisfies` and `valid`;
`scheme_for_ecosystem("Debian:12")` picks the scheme for an OSV ecosystem name;
`hullscan.versions.osv.affected` evaluates OSV `affected[].ranges` and `versions`.
See docs/versions.md.
"""

from __future__ import annotations

import importlib

from hullscan.versions._base import Scheme

# scheme name -> (module, class); modules load lazily so importing one scheme stays cheap
_SCHEMES: dict[str, tuple[str, str]] = {
    "deb": ("deb", "Deb"),
    "rpm": ("rpm", "Rpm"),
    "apk": ("apk", "Apk"),
    "pep440": ("pep440", "Pep440"),
    "semver": ("semver", "SemVer"),
    "npm": ("npm", "Npm"),
    "golang": ("golang", "Golang"),
    "maven": ("maven", "Maven"),
    "gem": ("gem", "Gem"),
    "nuget": ("nuget", "NuGet"),
    "composer": ("composer", "Composer"),
    "cran": ("cran", "Cran"),
    "pacman": ("pacman", "Pacman"),
    "portage": ("portage", "Portage"),
    "jvm": ("jvm", "Jvm"),
    "bitnami": ("bitnami", "Bitnami"),
    "kb": ("kb", "Kb"),
    "fuzzy": ("fuzzy", "Fuzzy"),
    "pub": ("pub", "Pub"),
    "hackage": ("hackage", "Hackage"),
    "cargo": ("cargo", "Cargo"),
}
_ALIASES = {
    "dpkg": "deb", "debian": "deb", "apkg": "apk", "alpine": "apk", "pypi": "pep440",
    "python": "pep440", "go": "golang", "rubygems": "gem", "packagist": "composer",
    "crates.io": "cargo", "java": "maven",
}
_INSTANCES: dict[str, Scheme] = {}
#: Ecosystems whose `:suffix` names another ecosystem rather than a release.
_SUB_ECOSYSTEMS = frozenset({"Echo"})

# OSV ecosystem (without its ":release" suffix) -> scheme name
_ECOSYSTEMS: dict[str, str] = {
    "PyPI": "pep440", "npm": "npm", "Go": "golang", "Maven": "maven", "RubyGems": "gem",
    "NuGet": "nuget", "Packagist": "composer", "crates.io": "cargo", "Hex": "semver",
    "Pub": "pub", "CRAN": "cran", "Bioconductor": "cran", "Hackage": "hackage", "GHC": "hackage",
    "SwiftURL": "semver", "Bitnami": "bitnami", "Kubernetes": "golang", "GitHub Actions": "semver",
    "Julia": "semver", "VSCode": "semver", "opam": "deb",  # opam orders versions like dpkg
    "Debian": "deb", "Ubuntu": "deb", "Echo": "deb",
    "Alpine": "apk", "Wolfi": "apk", "Chainguard": "apk", "Alpaquita": "apk",
    "BellSoft Hardened Containers": "apk", "MinimOS": "apk",
    "Red Hat": "rpm", "Rocky Linux": "rpm", "AlmaLinux": "rpm", "openSUSE": "rpm", "SUSE": "rpm",
    "Photon OS": "rpm", "Mariner": "rpm", "Azure Linux": "rpm", "Amazon Linux": "rpm",
    "Oracle Linux": "rpm", "openEuler": "rpm", "Mageia": "rpm",
    "Arch Linux": "pacman", "Gentoo": "portage",
}


def get_scheme(name: str) -> Scheme:
    """The scheme called `name` ("deb", "rpm", "apk", "pep440", "semver", "npm", "golang",
    "maven", "gem", "nuget", "composer", "cran", "pacman", "portage", "jvm", "bitnami", "kb",
    "fuzzy", "pub", "hackage", "cargo"). Raises KeyError for an unknown name."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    inst = _INSTANCES.get(key)
    if inst is None:
        if key not in _SCHEMES:
            raise KeyError(f"unknown version scheme {name!r}")
        mod, cls = _SCHEMES[key]
        inst = getattr(importlib.import_module(f"hullscan.versions.{mod}"), cls)()
        _INSTANCES[key] = inst
    return inst


def scheme_for_ecosystem(ecosystem: str) -> Scheme | None:
    """The scheme for an OSV ecosystem such as "Debian:12", "Alpine:v3.19" or "PyPI".

    The ":release" suffix is ignored; "Root:Alpine:3.18"-style variants use their base
    distribution. Unknown ecosystems return None (callers then fall back to an exact-version
    match, never to a guessed ordering)."""
    eco = ecosystem.strip()
    if eco.startswith("Root:"):
        rest = eco[5:]
        base = rest.split(":", 1)[0]
        return scheme_for_ecosystem(base) if base != rest or base in _ECOSYSTEMS else None
    name = _ECOSYSTEMS.get(eco)
    base, _, suffix = eco.partition(":")
    if name is None and base in _SUB_ECOSYSTEMS and suffix:
        # Echo's language streams (`Echo:PyPI`, `Echo:npm`) order versions as that language does;
        # plain `Echo` (its Debian-based packages) is dpkg
        name = {k.lower(): v for k, v in _ECOSYSTEMS.items()}.get(suffix.lower())
    if name is None:
        name = _ECOSYSTEMS.get(eco.split(":", 1)[0])
    if name is None:
        lowered = {k.lower(): v for k, v in _ECOSYSTEMS.items()}
        name = lowered.get(eco.split(":", 1)[0].lower())
    return get_scheme(name) if name else None


__all__ = ["Scheme", "get_scheme", "scheme_for_ecosystem"]
