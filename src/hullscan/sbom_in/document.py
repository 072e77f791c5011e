"""The format-neutral shape every SBOM reader produces, before it becomes an Inventory."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SbomComponent:
    """One component (CycloneDX) or package (SPDX) as the document states it."""

    name: str
    version: str = ""
    purl: str = ""
    kind: str = "library"
    """CycloneDX component type or SPDX primary purpose, lowercased (`library`, `operating-system`, `container`)."""
    properties: tuple[tuple[str, str], ...] = ()
    """Name/value pairs in document order (CycloneDX properties; SPDX `attributionTexts` as `Key: value`)."""
    licenses: tuple[str, ...] = ()
    ref: str = ""
    """bom-ref or SPDXID."""
    source_info: str = ""
    """SPDX `sourceInfo` (Syft and Trivy put the source package there)."""
    comment: str = ""
    """SPDX package comment."""
    description: str = ""
    """CycloneDX / SPDX description."""

    def prop(self, name: str) -> str:
        """First value of a property, '' when absent."""
        return next((v for k, v in self.properties if k == name), "")

    def props(self, name: str) -> list[str]:
        return [v for k, v in self.properties if k == name]


@dataclass(frozen=True)
class SbomDocument:
    """A parsed SBOM: its subject, its components, and where it came from."""

    format: str
    """`cyclonedx-json`, `cyclonedx-xml`, `spdx-json`, `spdx-tag-value`."""
    spec_version: str
    components: tuple[SbomComponent, ...]
    subject: SbomComponent | None = None
    """CycloneDX `metadata.component`, or the SPDX package the document DESCRIBES."""
    tools: tuple[str, ...] = ()
    """Generator names (`syft`, `trivy`, `hullscan`), lowercased."""
    name: str = ""
    problems: tuple[str, ...] = field(default=())
    """Entries skipped while reading (become inventory warnings)."""
