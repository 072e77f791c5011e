"""What the inventory holds: packages, the OS, and where each came from.

Analyzers build these in their `assemble` step; the applier (inventory/applier.py) adds the layer
that introduced each package; matching and reports read them.
"""

from __future__ import annotations

from hullscan.digests import sha256
from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any

OS_PACKAGE_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "ebuild"})


@record(frozen=True)
class LayerRef:
    """The layer a package, file or finding came from."""

    index: int
    """0-based position of the layer in the image (0 = bottom)."""
    diff_id: str
    """sha256 of the uncompressed layer tar ('' for a plain root filesystem)."""
    created_by: str = ""
    """The history `created_by` line of the layer, when known."""
    base: bool | None = None
    """True when the layer belongs to the base image, False for application layers, None when unknown."""


@record(frozen=True)
class EndOfLife:
    """When a release's support ends, from the EOL table (vulndb/eol.py): DESIGN's `os.eol` {date, source}."""

    date: str
    """`YYYY-MM-DD`: the end of the support the image gets (Debian: of its LTS; Ubuntu with ESM enabled: of ESM)."""
    source: str
    """The table's page for the product (`https://endoflife.date/debian`)."""
    as_of: str = ""
    """`YYYY-MM-DD` of the table: the built-in table's transcription, or the `db update` that fetched it."""
    extended: str = ""
    """`YYYY-MM-DD` end of extended support the vendor sells (Ubuntu Pro ESM, RHEL ELS, SUSE LTSS), '' when none."""

    def headline(self, name: str) -> str:
        """`Debian GNU/Linux 10 (buster) — end of life since 2024-06-30` (table header, HTML)."""
        sold = f"; extended support sold until {self.extended}" if self.extended else ""
        return f"{name} — end of life since {self.date}{sold}"

    @property
    def coverage_note(self) -> str:
        """Said once wherever coverage is shown: no finding on an EOL release does not mean clean."""
        return (f"coverage ended {self.date}: advisories for this release stop with its support, so its "
                "packages are not known to be clean")


@record(frozen=True)
class OSInfo:
    """The operating system the image runs, as advisory feeds key it."""

    family: str
    """Distro id as feeds and purls name it: debian, ubuntu, alpine, rhel, centos, rocky, almalinux, fedora,
    amazon, oracle, sles, opensuse, photon, wolfi, chainguard, mariner, azurelinux, distroless…"""
    name: str
    """Human name (PRETTY_NAME)."""
    version: str
    """Full version as the image states it (VERSION_ID, /etc/debian_version…)."""
    release: str
    """Release as advisory feeds key it: Debian major ("12"), Alpine branch ("v3.19"), RHEL major ("9")."""
    codename: str = ""
    """Codename when the distro has one (bookworm, jammy)."""
    ecosystem: str = ""
    """OSV ecosystem of this release ("Debian:12", "Alpine:v3.19", "Ubuntu:22.04", "Red Hat:9")."""
    eol: EndOfLife | None = None
    """Set when the release is past its end of life at scan time (None: supported, or not in the table)."""
    source_path: str = ""
    """The file it was read from."""
    support: EndOfLife | None = None
    """The table's dates of a release still supported at scan time: a cached result turns it into `eol`
    once the date passes (scan/service.py), without reading the table again. Not shown in reports."""
    cpe: str = ""
    """os-release's CPE_NAME (`cpe:/o:redhat:enterprise_linux:9::baseos`), '' when it has none."""
    content_sets: tuple[str, ...] = ()
    """Red Hat images: the RPM repositories their content came from (`/root/buildinfo/content_manifests`,
    `/usr/share/buildinfo/content-sets.json`), which name the product streams the image follows."""


@record(frozen=True)
class Package:
    """One package found in the image (or declared by a lockfile in it)."""

    type: str
    """purl type: deb, rpm, apk, pypi, npm, maven, golang, cargo, gem, composer, nuget…"""
    name: str
    """Name as the ecosystem normalizes it (PEP 503 for PyPI, `group:artifact` for Maven, module path for Go)."""
    version: str
    """Version exactly as installed (epoch included for deb: `1:1.2.13.dfsg-1`)."""
    ecosystem: str
    """OSV ecosystem used to match it: `Debian:12`, `Alpine:v3.19`, `PyPI`, `npm`, `Go`, `Maven`…"""
    purl: str
    """Package URL per DESIGN.md."""
    analyzer: str
    """Name of the analyzer that found it."""
    paths: tuple[str, ...] = ()
    """Files that produced it (database, dist-info dir, jar, lockfile, binary), absolute in the image."""
    arch: str = ""
    source_name: str = ""
    """Distro source package (dpkg Source:, rpm SOURCERPM name, apk origin); empty for language packages."""
    source_version: str = ""
    """Version of the source package (may differ from the binary's)."""
    licenses: tuple[str, ...] = ()
    """SPDX ids or expressions where derivable, else the declared strings."""
    kind: str = "installed"
    """`installed` (found on disk) or `declared` (read from a lockfile or manifest)."""
    dev: bool = False
    """A development-only dependency (lockfiles that say so)."""
    indirect: bool = False
    """A transitive dependency (lockfiles that say so)."""
    owned_by: str = ""
    """The OS package owning this package's files (then it is not matched against language advisories)."""
    files: tuple[str, ...] = ()
    """Files this package owns (OS packages), used to mark `owned_by`; not shown in reports."""
    layer: LayerRef | None = None
    """The layer that introduced this version (set by the applier)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Ecosystem-specific fields (maintainer, vendor, epoch, modularity label, go build settings…)."""
    inherited: bool | None = field(default=None, compare=False)
    """DESIGN's `inherited`: True when the base image brought this package (its layer is one of the base's
    layers), False when the image's own layers added it, None when the base is unknown or not by layers
    (a squashed image, a "similar" base, an `fs` target). Set by the scan service (base/identify.py);
    not compared: it follows from `layer` and the base, which the scan decides once."""
    origin: str | None = field(default=None, compare=False)
    """DESIGN's `origin`, in a container scan only (`hullscan container`): `runtime` when the container's
    runtime changes brought this version (its layer is the runtime layer), else `image`; None elsewhere."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across layers: the same key with another version is a replacement, not a new package."""
        where = "" if self.type in OS_PACKAGE_TYPES else (self.paths[0] if self.paths else "")
        return (self.type, self.name, self.arch, where)

    @property
    def is_os(self) -> bool:
        return self.type in OS_PACKAGE_TYPES

    @property
    def id(self) -> str:
        """Stable reference (CycloneDX bom-ref, the report's `id`): the same package at the same place has
        the same id in every scan."""
        basis = "|".join((self.purl, self.paths[0] if self.paths else "", self.arch))
        return "pkg-" + sha256(basis.encode()).hexdigest()[:16]


@record(frozen=True)
class RemovedPackage:
    """A package an earlier layer installed and a later one removed or replaced: it still ships in the image."""

    package: Package
    """The package as it was (its `layer` is the layer that added it)."""
    removed_in: LayerRef
    """The layer that removed it or replaced it with another version."""
    replaced_by: str = ""
    """The version that replaced it, empty when removed."""


@record(frozen=True)
class ScanWarning:
    """A problem with one member, file or record that did not stop the scan."""

    message: str
    path: str = ""
    layer: int | None = None


@record
class Inventory:
    """Everything the analyzers found, merged over the layers."""

    os: OSInfo | None = None
    packages: list[Package] = field(default_factory=list)
    history: list[RemovedPackage] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    """Other analyzer results by analyzer name (secret facts), plain data for the scan service."""
    warnings: list[ScanWarning] = field(default_factory=list)
