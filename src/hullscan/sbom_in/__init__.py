"""SBOMs as scan input: CycloneDX (JSON, XML) and SPDX (JSON, tag-value) — hullscan's own, Syft's,
Trivy's and others' — read into the same `Inventory` an image scan produces, so `hullscan sbom FILE`
(and the `sbom:` target) can be matched without the image.

`load_sbom(path)` is the one entry point; the format is sniffed from the content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hullscan.errors import InputError
from hullscan.model.inventory import Inventory
from hullscan.sbom_in import cyclonedx, spdx
from hullscan.sbom_in.document import SbomDocument
from hullscan.sbom_in.packages import TRIVY, H, is_index, packages_of

MAX_SBOM_BYTES = 1024 * 1024 * 1024

__all__ = ["load_sbom", "parse_sbom"]


def parse_sbom(data: bytes, source: str = "SBOM") -> SbomDocument:
    """Sniff and parse; InputError when the bytes are no SBOM this reader knows, or one nested too deep
    to read (the readers walk components with explicit stacks; RecursionError is the last guard)."""
    try:
        return _parse(data, source)
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read") from None


def _parse(data: bytes, source: str) -> SbomDocument:
    text = data.decode("utf-8-sig", "replace").lstrip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except RecursionError:
            raise InputError(f"{source}: JSON nested too deeply") from None
        except ValueError as exc:
            raise InputError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise InputError(f"{source}: JSON is not an SBOM object")
        if doc.get("bomFormat") == "CycloneDX" or ("specVersion" in doc and "components" in doc):
            return cyclonedx.parse_json(doc, source)
        if "spdxVersion" in doc or "SPDXID" in doc:
            return spdx.parse_json(doc, source)
        raise InputError(f"{source}: JSON is neither CycloneDX (bomFormat) nor SPDX (spdxVersion)")
    if text.startswith("<"):
        try:
            root = SafeET.fromstring(text.encode())
        # LookupError: an encoding declaration Python does not know (`encoding="utf-NaN"`)
        except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            raise InputError(f"{source}: not readable XML: {exc}") from None
        if root.tag.startswith("{http://cyclonedx.org/schema/bom/") or root.tag == "bom":
            return cyclonedx.parse_xml(root, source)
        if "rdf" in root.tag.lower():
            raise InputError(f"{source}: SPDX RDF/XML is not supported (use SPDX JSON or tag-value)")
        raise InputError(f"{source}: XML is not a CycloneDX BOM (root element {root.tag!r})")
    if text.startswith(("SPDXVersion:", "##")) or "\nSPDXVersion:" in text[:4096]:
        return spdx.parse_tagvalue(text)
    raise InputError(f"{source}: not a CycloneDX or SPDX document")


def target_info(doc: SbomDocument, source: str) -> dict[str, Any]:
    """What the report's `target` (and `layers`, `architecture`) can say about the SBOM's subject."""
    s = doc.subject
    info: dict[str, Any] = {
        "input": source, "type": "sbom", "name": (s.name if s else "") or doc.name,
        "manifest_digest": "", "config_digest": "", "repo_tags": [],
        "sbom_format": doc.format, "sbom_spec_version": doc.spec_version, "sbom_tools": list(doc.tools),
    }
    if s is None:
        return info
    if s.prop(H + "image:input") or s.prop(H + "image:manifest_digest"):  # our own
        info["manifest_digest"] = s.prop(H + "image:manifest_digest")
        info["config_digest"] = s.prop(H + "image:config_digest")
        info["repo_tags"] = s.props(H + "image:repo_tag")
        info["image_type"] = s.prop(H + "image:type")
        if s.prop(H + "image:architecture"):
            info["architecture"] = s.prop(H + "image:architecture")
        layers = []
        for k, v in s.properties:
            parts = k[len(H):].split(":") if k.startswith(H + "layer:") else []
            if len(parts) == 3 and is_index(parts[1]) and parts[2] == "diff_id":
                base = s.prop(f"{H}layer:{parts[1]}:base")
                layers.append({"index": int(parts[1]), "diff_id": v,
                               "base": None if base == "" else base == "true"})
        if layers:
            info["layers"] = sorted(layers, key=lambda x: x["index"])
        return info
    # Trivy: ImageID is the config digest, RepoDigest `repo@sha256:…` the manifest digest, DiffID per layer
    if any(k.startswith(TRIVY) for k, _ in s.properties):
        info["config_digest"] = s.prop(TRIVY + "ImageID")
        digest = s.prop(TRIVY + "RepoDigest")
        info["manifest_digest"] = digest.split("@", 1)[1] if "@" in digest else ""
        info["repo_tags"] = s.props(TRIVY + "RepoTag")
        diff_ids = s.props(TRIVY + "DiffID")
        if diff_ids:
            info["layers"] = [{"index": i, "diff_id": d, "base": None} for i, d in enumerate(diff_ids)]
    if not info["manifest_digest"] and s.version.startswith("sha256:"):
        info["subject_digest"] = s.version  # Syft: the image's digest as the subject's version
    return info


def load_sbom(path: str | Path) -> tuple[Inventory, dict[str, Any]]:
    """Read an SBOM file into an Inventory and the target facts it records.

    Raises InputError when the file cannot be read or is no CycloneDX/SPDX document; components that
    cannot be used (no purl, bad purl) become warnings."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SBOM_BYTES:
            raise InputError(f"{p}: SBOM larger than 1 GiB")
        data = p.read_bytes()
    except IsADirectoryError as exc:
        raise InputError(f"{p}: is a directory, not an SBOM file") from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read SBOM: {exc.strerror or exc}") from exc
    doc = parse_sbom(data, str(p))
    os_info, packages, warnings = packages_of(doc)
    return Inventory(os=os_info, packages=packages, warnings=warnings), target_info(doc, str(p))
