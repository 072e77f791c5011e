"""Test helper: trivy's package goldens (`goldens/trivy-image-packages/*.json.golden`) as an Inventory.

The goldens are trivy's own package lists of real images, so feeding them to the matcher tests
matching alone, independent of our analyzers.
"""

from __future__ import annotations

import json
from pathlib import Path

from hullscan.model.inventory import Inventory, OSInfo, Package

TYPES = {"apk": "apk", "dpkg": "deb", "rpm": "rpm"}
FAMILY_TYPES = {"alpine": "apk", "debian": "deb", "ubuntu": "deb"}


def _evr(epoch: int, version: str, release: str) -> str:
    v = f"{version}-{release}" if release else version
    return f"{epoch}:{v}" if epoch else v


def inventory_from_golden(path: Path, os_info: OSInfo) -> Inventory:
    pkgs = []
    for p in json.loads(path.read_text()):
        # older goldens (centos-6) lack AnalyzedBy: the distro family says which database it was
        typ = TYPES[p["AnalyzedBy"]] if "AnalyzedBy" in p else FAMILY_TYPES.get(os_info.family, "rpm")
        version = _evr(p.get("Epoch", 0), p["Version"], p.get("Release", ""))
        src_version = _evr(p.get("SrcEpoch", 0), p.get("SrcVersion", p["Version"]), p.get("SrcRelease", ""))
        pkgs.append(
            Package(
                type=typ,
                name=p["Name"],
                version=version,
                ecosystem=os_info.ecosystem,
                purl=f"pkg:{typ}/{os_info.family}/{p['Name']}@{version}",
                analyzer="trivy-golden",
                arch=p.get("Arch", ""),
                source_name=p.get("SrcName", p["Name"]),
                source_version=src_version,
            )
        )
    return Inventory(os=os_info, packages=pkgs)
