"""SbomComponents → Inventory packages: type, name, version and ecosystem from the purl; the OS from the
document's operating-system component or the purls' `distro` qualifier; source package, layer, paths and
flags from hullscan's own properties, else from what Syft and Trivy write."""

from __future__ import annotations

import re
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from hullscan.inventory.os_release import detect_os
from hullscan.model.inventory import OS_PACKAGE_TYPES, EndOfLife, LayerRef, OSInfo, Package, ScanWarning
from hullscan.sbom_in.document import SbomComponent, SbomDocument

H = "hullscan:"
TRIVY = "aquasecurity:trivy:"
LANG_ECOSYSTEMS = {
    "pypi": "PyPI", "npm": "npm", "maven": "Maven", "golang": "Go", "cargo": "crates.io", "gem": "RubyGems",
    "composer": "Packagist", "nuget": "NuGet", "hex": "Hex", "pub": "Pub", "swift": "SwiftURL", "cran": "CRAN",
    "hackage": "Hackage", "conan": "ConanCenter", "github": "GitHub Actions", "bitnami": "Bitnami",
}
OS_KINDS = {"operating-system"}
_NOT_PACKAGES = {"file", "container", "operating-system", "data", "machine-learning-model", "platform", "firmware",
                 "device", "device-driver", "cryptographic-asset"}
_SPDX_SOURCE = re.compile(r"built (?:package )?from(?: source package)?:?\s+(\S+)(?:\s+(\S+))?")
_SPDX_LAYER = re.compile(r"layer: index=(\d+)(?: diff_id=([^\s;]+))?")
_SPDX_OWNER = re.compile(r"owned by OS package (\S+)")
_SPDX_PATHS = re.compile(r"paths: ([^;]+)")


def _os_from(family: str, version: str, pretty: str = "") -> OSInfo | None:
    if not family:
        return None
    return detect_os({"/etc/os-release": {"fields": {"ID": family, "VERSION_ID": version, "PRETTY_NAME": pretty}}})


def _distro_qualifier(value: str) -> tuple[str, str]:
    """`debian-12` → (debian, 12); `alpine-3.19.1` → (alpine, 3.19.1); `rhel-9.3` → (rhel, 9.3)."""
    m = re.match(r"^(.+?)-(\d[\w.:+~-]*)$", value)
    return (m.group(1), m.group(2)) if m else (value, "")


def _eol(facts: dict[str, str]) -> EndOfLife | None:
    """hullscan's `os:eol*` facts (CycloneDX properties, SPDX comment) as the OS's end of life: the date
    support ended (an SBOM written before 1.6 says `true` without one: not read as a date)."""
    date = facts.get("eol", "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        return None
    return EndOfLife(date=date, source=facts.get("eol_source", ""), as_of=facts.get("eol_as_of", ""),
                     extended=facts.get("eol_extended", ""))


def document_os(doc: SbomDocument) -> OSInfo | None:
    """The image's OS: hullscan's OS component as written, another tool's, or the OS packages' distro."""
    for c in doc.components:
        if c.kind not in OS_KINDS:
            continue
        facts = {k[len(H + "os:"):]: v for k, v in c.properties if k.startswith(H + "os:")}
        if not facts and "ecosystem=" in c.comment:  # hullscan's SPDX: "release=12, codename=…, ecosystem=…"
            facts = dict(kv.split("=", 1) for kv in c.comment.split(", ") if "=" in kv)
        if facts.get("ecosystem") or facts.get("release"):
            return OSInfo(family=c.name, name=facts.get("name") or c.description, version=c.version,
                          release=facts.get("release", ""), codename=facts.get("codename", ""),
                          ecosystem=facts.get("ecosystem", ""), eol=_eol(facts),
                          source_path=facts.get("source_path", ""))
        found = _os_from(c.name.lower(), c.version, c.description)
        if found is not None:
            return found
    for c in doc.components:
        purl = _parse_purl(c.purl)
        if purl is not None and purl.type in OS_PACKAGE_TYPES and (purl.qualifiers or {}).get("distro"):
            return _os_from(*_distro_qualifier(purl.qualifiers["distro"]))
    return None


def _parse_purl(value: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(value) if value else None
    except ValueError:
        return None


def purl_name(p: PackageURL) -> str:
    """The package name as hullscan's analyzers spell it (DESIGN.md purls)."""
    if p.type == "maven":
        return f"{p.namespace}:{p.name}" if p.namespace else p.name
    if p.type == "pypi":
        return canonicalize_name(p.name)
    if p.type == "golang" and p.subpath:  # Syft: pkg:golang/github.com/Masterminds/semver@v3.3.0#v3
        return "/".join(x for x in (p.namespace, p.name, p.subpath) if x)
    if p.type in OS_PACKAGE_TYPES or not p.namespace:
        return p.name  # the namespace of OS purls is the distro vendor
    return f"{p.namespace}/{p.name}"  # golang module path, npm @scope/name, composer vendor/name…


def _version(p: PackageURL) -> str:
    version = p.version or ""
    epoch = (p.qualifiers or {}).get("epoch", "")
    if epoch and p.type in OS_PACKAGE_TYPES and ":" not in version:
        version = f"{epoch}:{version}"
    if p.type == "golang" and p.name == "stdlib" and not p.namespace and version[:1].isdigit():
        version = "go" + version  # Syft writes pkg:golang/stdlib@1.23.4; hullscan names the toolchain go1.23.4
    return version


def _source(c: SbomComponent, p: PackageURL) -> tuple[str, str]:
    if c.prop(H + "package:source_name"):
        return c.prop(H + "package:source_name"), c.prop(H + "package:source_version")
    if c.prop(TRIVY + "SrcName"):
        version = c.prop(TRIVY + "SrcVersion")
        if c.prop(TRIVY + "SrcRelease"):
            version = f"{version}-{c.prop(TRIVY + 'SrcRelease')}"
        if c.prop(TRIVY + "SrcEpoch") not in ("", "0"):
            version = f"{c.prop(TRIVY + 'SrcEpoch')}:{version}"
        return c.prop(TRIVY + "SrcName"), version
    upstream = (p.qualifiers or {}).get("upstream", "")
    if upstream:
        if p.type == "rpm" and upstream.endswith(".src.rpm"):  # name-version-release.src.rpm
            parts = upstream[: -len(".src.rpm")].rsplit("-", 2)
            if len(parts) == 3:
                return parts[0], f"{parts[1]}-{parts[2]}"
        name, _, version = upstream.partition("@")
        return name, version
    m = _SPDX_SOURCE.search(c.source_info)
    if m and p.type in OS_PACKAGE_TYPES:
        return m.group(1), m.group(2) or ""
    return "", ""


def _layer(c: SbomComponent, layer_base: dict[str, bool]) -> LayerRef | None:
    index, diff_id = c.prop(H + "layer:index"), c.prop(H + "layer:diff_id")
    if not index:
        m = _SPDX_LAYER.search(c.comment)
        if m:
            index, diff_id = m.group(1), m.group(2) or ""
    if not is_index(index):
        return None
    # `inherited` (base-image layer or not) weighs in the risk score: the component's own
    # `hullscan:inherited`, else what the image component says of that layer
    inherited = c.prop(H + "inherited")
    base = inherited == "true" if inherited in ("true", "false") else layer_base.get(str(int(index)))
    return LayerRef(index=int(index), diff_id=diff_id, base=base)


def layer_bases(doc: SbomDocument) -> dict[str, bool]:
    """{layer index: base?} from hullscan's image component (`hullscan:layer:N:base`)."""
    out: dict[str, bool] = {}
    for k, v in doc.subject.properties if doc.subject is not None else ():
        parts = k[len(H):].split(":") if k.startswith(H + "layer:") else []
        if len(parts) == 3 and is_index(parts[1]) and parts[2] == "base" and v in ("true", "false"):
            out[str(int(parts[1]))] = v == "true"
    return out


def is_index(value: str) -> bool:
    """A layer index as written: ASCII digits, not absurdly long (`str.isdigit` accepts `²`, which
    `int` refuses, and `int` refuses more than 4,300 digits)."""
    return value.isascii() and value.isdigit() and len(value) <= 9


def _paths(c: SbomComponent) -> tuple[str, ...]:
    paths = c.props(H + "package:path")
    if not paths:
        m = _SPDX_PATHS.search(c.comment)
        if m:
            paths = [x.strip() for x in m.group(1).split(",") if x.strip()]
    if not paths:  # Syft: syft:location:N:path; Trivy: FilePath
        paths = [v for k, v in c.properties if re.fullmatch(r"syft:location:\d+:path", k)]
        paths += c.props(TRIVY + "FilePath")
    return tuple(dict.fromkeys(paths))


# purl namespaces (the distro vendor) that name an os-release family differently
_NS_FAMILY = {"redhat": "rhel", "amzn": "amazon", "ol": "oracle", "suse": "sles", "sle": "sles"}


def _same_distro(p: PackageURL, os_info: OSInfo | None) -> bool:
    """Whether the document's OS may name this OS package's release (a deb is no Alpine package)."""
    if os_info is None or not p.namespace:
        return os_info is not None
    family = _NS_FAMILY.get(p.namespace.lower(), p.namespace.lower())
    return family == os_info.family or {family, os_info.family} <= {"sles", "opensuse"}


def to_package(c: SbomComponent, p: PackageURL, os_info: OSInfo | None, distro_os: dict[str, OSInfo | None],
               layer_base: dict[str, bool] | None = None) -> Package:
    ecosystem = c.prop(H + "package:ecosystem")
    if not ecosystem:
        if p.type in OS_PACKAGE_TYPES:
            distro = (p.qualifiers or {}).get("distro", "")
            info = os_info if _same_distro(p, os_info) else None
            if distro:
                if distro not in distro_os:
                    distro_os[distro] = _os_from(*_distro_qualifier(distro))
                info = distro_os[distro] or os_info
            ecosystem = info.ecosystem if info else ""
        else:
            ecosystem = LANG_ECOSYSTEMS.get(p.type, "")
    source_name, source_version = _source(c, p)
    if p.type in OS_PACKAGE_TYPES:  # as dpkg, apk and rpm say: no source stated = built from its own name,
        source_name = source_name or purl_name(p)  # and an unversioned source has the binary's version
        source_version = source_version or _version(p)
    extra: dict[str, Any] = {}
    if c.ref:
        extra["sbom_ref"] = c.ref
    foreign_layer = c.prop(TRIVY + "LayerDiffID") or c.prop("syft:location:0:layerID")
    if foreign_layer:
        extra["layer_diff_id"] = foreign_layer
    kind = c.prop(H + "package:kind") or "installed"
    return Package(
        type=c.prop(H + "package:type") or p.type, name=purl_name(p), version=_version(p), ecosystem=ecosystem,
        purl=c.purl, analyzer=c.prop(H + "package:analyzer") or c.prop("syft:package:foundBy") or "sbom",
        paths=_paths(c), arch=c.prop(H + "package:arch") or (p.qualifiers or {}).get("arch", ""),
        source_name=source_name, source_version=source_version, licenses=c.licenses, kind=kind,
        dev=c.prop(H + "package:dev") == "true", indirect=c.prop(H + "package:indirect") == "true",
        owned_by=c.prop(H + "package:owned_by") or _spdx_owner(c), layer=_layer(c, layer_base or {}), extra=extra)


def _spdx_owner(c: SbomComponent) -> str:
    m = _SPDX_OWNER.search(c.comment)
    return m.group(1).rstrip(";") if m else ""


def packages_of(doc: SbomDocument) -> tuple[OSInfo | None, list[Package], list[ScanWarning]]:
    os_info = document_os(doc)
    warnings = [ScanWarning(message=f"sbom: {m}") for m in doc.problems]
    distro_os: dict[str, OSInfo | None] = {}
    layer_base = layer_bases(doc)
    pkgs: list[Package] = []
    no_purl = 0
    for c in doc.components:
        if not c.purl:
            # Trivy's per-lockfile `application` components group packages; they are not packages
            if c.kind not in _NOT_PACKAGES and not c.prop(TRIVY + "Class"):
                no_purl += 1
            continue
        p = _parse_purl(c.purl)
        if p is None:
            warnings.append(ScanWarning(message=f"sbom: component {c.name!r} has an unreadable purl {c.purl!r}"))
            continue
        pkgs.append(to_package(c, p, os_info, distro_os, layer_base))
    if no_purl:
        warnings.append(ScanWarning(message=f"sbom: {no_purl} component(s) without a purl skipped (nothing to match)"))
    unknown = sum(1 for p in pkgs if p.type in OS_PACKAGE_TYPES and not p.ecosystem)
    if unknown:
        warnings.append(ScanWarning(message=f"sbom: {unknown} OS package(s) without a known distro release "
                                         "(no distro qualifier, no OS component): they cannot be matched"))
    return os_info, pkgs, warnings
