"""Naming an rpm distribution for purls and advisory matching.

- purl namespace: the distro id, as Syft 1.18.1 does (`rhel` → `redhat`), but with os-release ids
  normalized the way DESIGN.md spells them (`amzn` → `amazon`, `ol` → `oracle`, `opensuse-leap` →
  `opensuse`); SLES uses `suse`, the namespace SUSE's own OSV records use.
- `distro=` qualifier: `<id>-<release>` with the release as feeds key it (`rhel-9`, `amazon-2023`,
  `photon-3.0`, `sles-15.3`, `opensuse-leap-15.5`), where Syft writes the full VERSION_ID.
- ecosystem: `view.os.ecosystem` when OS detection set one; otherwise the same spelling OS
  detection uses (docs/os-packages.md): the OSV name of the release (`Red Hat:9`, `Rocky Linux:9`,
  `AlmaLinux:9`, `SUSE:Linux Enterprise Server 15 SP3`, `openSUSE:Leap 15.5`, `Photon OS:3.0`,
  `Azure Linux:2.0` for CBL-Mariner, its former name) and, for distros OSV does not cover, the same
  shape (`Amazon Linux:2023`, `Oracle Linux:8`, `Fedora:39`, `CentOS:7`).
- When no OS was detected (distroless images), the distro's `*-release` package names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hullscan.model.inventory import OSInfo

_FAMILY = {
    "rhel": "rhel", "redhat": "rhel", "centos": "centos", "rocky": "rocky", "almalinux": "almalinux",
    "alma": "almalinux", "fedora": "fedora", "amzn": "amazon", "amazon": "amazon", "ol": "oracle",
    "oracle": "oracle", "oraclelinux": "oracle", "sles": "sles", "sled": "sles", "sles_sap": "sles",
    "suse": "sles", "opensuse": "opensuse", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse",
    "opensuse-microos": "opensuse", "scientific": "scientific", "photon": "photon", "mariner": "mariner",
    "azurelinux": "azurelinux",
}
RPM_FAMILIES = frozenset(_FAMILY.values()) | {"slemicro", "openeuler"}
_NAMESPACE = {"rhel": "redhat", "sles": "suse"}
_OSV = {
    "rhel": "Red Hat", "centos": "CentOS", "rocky": "Rocky Linux", "almalinux": "AlmaLinux",
    "oracle": "Oracle Linux", "scientific": "Scientific Linux", "fedora": "Fedora", "amazon": "Amazon Linux",
    "photon": "Photon OS", "mariner": "Azure Linux", "azurelinux": "Azure Linux",
}
_MAJOR_ONLY = {"rhel", "centos", "rocky", "almalinux", "oracle", "scientific", "amazon"}
_MAJOR_MINOR = {"photon", "mariner", "azurelinux"}

# Release packages that name the distro when no os-release was found (distroless images).
RELEASE_PACKAGES = {
    "redhat-release": "rhel", "centos-release": "centos", "centos-stream-release": "centos",
    "rocky-release": "rocky", "almalinux-release": "almalinux", "fedora-release-common": "fedora",
    "fedora-release": "fedora", "oraclelinux-release": "oracle", "photon-release": "photon",
    "mariner-release": "mariner", "azurelinux-release": "azurelinux", "sles-release": "sles",
    "openSUSE-release": "opensuse",
}


@dataclass(frozen=True)
class RpmDistro:
    """How packages of one distro release are named."""

    namespace: str
    """purl namespace (`redhat`, `rocky`, `amazon`…); empty when unknown."""
    distro: str
    """purl `distro` qualifier (`rhel-9`); empty when unknown."""
    ecosystem: str
    """Package.ecosystem (`Red Hat:9`); empty when unknown."""


UNKNOWN = RpmDistro("", "", "")


def family_of(os_id: str) -> str:
    return _FAMILY.get(os_id.lower(), os_id.lower())


def _release(family: str, version: str, fallback: str) -> str:
    if not version:
        return fallback
    parts = re.findall(r"\d+", version)
    if family == "amazon" and parts and 2011 <= int(parts[0]) <= 2018:
        return "1"  # Amazon Linux AMI 2018.03 and its predecessors are "Amazon Linux 1" in feeds
    if family in _MAJOR_ONLY and parts:
        return parts[0]
    if family in _MAJOR_MINOR and parts:
        return f"{parts[0]}.{parts[1] if len(parts) > 1 else '0'}"
    return version


def _suse_ecosystem(family: str, name: str, release: str) -> str:
    if family == "sles":
        label = name[len("SUSE "):] if name.startswith("SUSE ") else name
        return f"SUSE:{label}" if label else ""
    label = name[len("openSUSE "):] if name.startswith("openSUSE ") else name
    if not label:
        label = f"Leap {release}" if release else ""
    return f"openSUSE:{label}" if label else ""


def describe(os: OSInfo | None) -> RpmDistro:
    """The naming for packages of this OS (UNKNOWN when there is none)."""
    if os is None or not os.family:
        return UNKNOWN
    family = family_of(os.family)
    # An OS detector that named the ecosystem also keyed the release; otherwise derive it here.
    release = os.release if os.ecosystem and os.release else _release(family, os.version, os.release)
    distro_id = family
    if family == "opensuse":
        rolling = "tumbleweed" in os.name.lower() or release == "tumbleweed"
        distro_id = "opensuse-tumbleweed" if rolling else "opensuse-leap"
    if family not in RPM_FAMILIES:
        eco = ""  # e.g. a Debian image with rpm installed: its rpms are not Debian packages
    elif os.ecosystem:
        eco = os.ecosystem
    elif family in ("sles", "opensuse"):
        eco = _suse_ecosystem(family, os.name, release)
    elif family in _OSV and release:
        eco = f"{_OSV[family]}:{release}"
    else:
        eco = ""
    if release and release != "tumbleweed":  # a rolling release has no number worth a qualifier
        distro = f"{distro_id}-{release}"
    else:
        distro = distro_id if family == "opensuse" else ""
    return RpmDistro(
        namespace=_NAMESPACE.get(family, family),
        distro=distro,
        ecosystem=eco,
    )


def os_from_release_package(name: str, version: str) -> OSInfo | None:
    """A stand-in OSInfo from the distro's release package (`mariner-release` 2.0 → mariner 2.0)."""
    family = RELEASE_PACKAGES.get(name)
    if family is None or not version:
        return None
    return OSInfo(family=family, name="", version=version, release=_release(family, version, version),
                  source_path="")
