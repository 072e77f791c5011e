"""CBL-Mariner / Azure Linux distroless `/var/lib/rpmmanifest/container-manifest-2`.

Distroless images drop the rpmdb and keep this manifest instead: one line per package, the output of
`rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{BUILDTIME}\\t%{VENDOR}\\t%{EPOCH}
\\t%{SIZE}\\t%{ARCH}\\t%{EPOCHNUM}\\t%{SOURCERPM}\\n'` (CBL-Mariner toolkit docs). No file lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hullscan.inventory.rpm.header import RpmHeader

MANIFEST_PATHS = (
    "/var/lib/rpmmanifest/container-manifest-2",
)


@dataclass
class ManifestResult:
    """Packages read from a manifest, and the lines that could not be read."""

    packages: list[RpmHeader] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_manifest(text: str) -> ManifestResult:
    out = ManifestResult()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 10:
            out.problems.append(f"line {lineno}: expected 10 tab-separated fields, found {len(parts)}")
            continue
        version, sep, release = parts[1].rpartition("-")
        if not sep or not version or not release or not parts[0]:
            out.problems.append(f"line {lineno}: bad name or VERSION-RELEASE {parts[1]!r}")
            continue
        epoch_field = parts[5].strip()
        epoch = None
        if epoch_field not in ("", "(none)"):
            if not epoch_field.isdigit():
                out.problems.append(f"line {lineno}: bad epoch {epoch_field!r}")
                continue
            epoch = int(epoch_field)
        vendor = parts[4] if parts[4] != "(none)" else ""
        srpm = parts[9].strip()
        out.packages.append(RpmHeader(
            name=parts[0], version=version, release=release, epoch=epoch,
            arch=parts[7] if parts[7] != "(none)" else "",
            sourcerpm="" if srpm == "(none)" else srpm, vendor=vendor,
        ))
    return out
