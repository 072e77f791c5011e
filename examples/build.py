"""Rebuild the example image and the demo feeds from their real sources (run once; outputs are committed).

    python examples/build.py /path/to/Django-2.2-py3-none-any.whl

- examples/alpine-3.10-django/ : an OCI layout of two layers. Layer 0 is the real `alpine:3.10` layer
  (Alpine 3.10.4, from tests/image/testdata/alpine-3.10.docker-save.tar.gz, a real `docker save`
  of Jan 2020). Layer 1 adds real old package metadata: the `Django-2.2.dist-info` of the PyPI wheel
  (`pip download django==2.2`) and trivy's `Pipfile_django.lock` as /app/Pipfile.lock.
- examples/feeds/ : real advisory records the demo DB is built from: PyPA advisory-database records
  (CC-BY-4.0) for the packages of that lockfile, Alpine secdb v3.10 (main, community), and the CISA KEV
  catalog entries for the CVEs those records name.
- examples/feeds/ghsa-pypi/ is not rebuilt here (it has no copy under tests/): GitHub's reviewed advisories
  (github/advisory-database, CC-BY-4.0) for exactly the CVEs of the demo's PyPI findings, fetched once;
  they give those findings GitHub's severity and CVSS vector (the PyPA records carry none). Their upstream
  paths and commits are listed in examples/PROVENANCE.md. This script leaves that folder as it is and
  fails if a GHSA record names a CVE that no PyPA record of the demo names.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
# the tests' copies of the real inputs (each folder's PROVENANCE.md names its upstream)
IMAGE = TESTS / "image/testdata/alpine-3.10.docker-save.tar.gz"
PIPFILE = TESTS / "inventory/lang/testdata/python/pipenv/trivy-parser/Pipfile_django.lock"
VULNDATA = TESTS / "vulndb/testdata"
DIST_INFO_FILES = ("METADATA", "RECORD", "WHEEL", "LICENSE", "top_level.txt")
# rebuilt from the tests' copies; feeds/ghsa-pypi is kept (see the docstring)
REBUILT = ("osv-pypi", "alpine-secdb", "kev")


def member(tf: tarfile.TarFile, name: str | tarfile.TarInfo) -> bytes:
    """A regular file of the tar, read whole (these inputs are known; anything else is a broken input)."""
    f = tf.extractfile(name)
    if f is None:
        sys.exit(f"{name}: not a regular file in the tar")
    return f.read()


def blob(out: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (out / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (out / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        for d in dirs:
            ti = tarfile.TarInfo(d + "/")
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1577836800
            tf.addfile(ti)
        for path, data in sorted(files.items()):
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1577836800
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def build_image(wheel: Path) -> None:
    out = HERE / "alpine-3.10-django"
    shutil.rmtree(out, ignore_errors=True)
    with tarfile.open(IMAGE) as tf:
        manifest = json.loads(member(tf, "manifest.json"))[0]
        config = json.loads(member(tf, manifest["Config"]))
        base_tar = member(tf, manifest["Layers"][0])
    app: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith("Django-2.2.dist-info/") and name.rsplit("/", 1)[1] in DIST_INFO_FILES:
                app["usr/lib/python3.7/site-packages/" + name] = zf.read(name)
    app["app/Pipfile.lock"] = PIPFILE.read_bytes()
    app_tar = tar_of(app)
    layers = [blob(out, gzip.compress(t, 9, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip") for t in (base_tar, app_tar)]
    config["rootfs"]["diff_ids"] = ["sha256:" + hashlib.sha256(t).hexdigest() for t in (base_tar, app_tar)]
    config["history"].append({"created": "2020-01-24T00:00:00Z",
                              "created_by": "COPY Django-2.2.dist-info Pipfile.lock /  # hullscan example"})
    cfg = blob(out, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}
    mdesc = blob(out, json.dumps(man).encode(), "application/vnd.oci.image.manifest.v1+json")
    mdesc["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    (out / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [mdesc]}))
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def build_feeds() -> None:
    out = HERE / "feeds"
    for name in REBUILT:
        shutil.rmtree(out / name, ignore_errors=True)
    lock = json.loads(PIPFILE.read_text())
    wanted = {n.lower().replace("_", "-") for n in lock["default"]}
    cves: set[str] = set()
    with tarfile.open(VULNDATA / "osv-pypi/pypa-advisory-database-vulns.tar.gz") as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if m.isfile() and len(parts) == 3 and parts[0] == "vulns" and parts[1].lower() in wanted and parts[2].endswith(".yaml"):
                data = member(tf, m)
                dest = out / "osv-pypi" / parts[1] / parts[2]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                rec = yaml.safe_load(data)
                cves.update(a for a in rec.get("aliases") or [] if a.startswith("CVE-"))
    shutil.copy(VULNDATA / "osv-pypi/LICENSE", out / "osv-pypi" / "LICENSE")
    for path in sorted((out / "ghsa-pypi").glob("*/GHSA-*.json")):
        named = {a for a in json.loads(path.read_text())["aliases"] if a.startswith("CVE-")}
        if not named <= cves:
            sys.exit(f"{path}: names {sorted(named - cves)}, which no PyPA record of the demo names")
    for name in ("main.yaml", "community.yaml"):
        dest = out / "alpine-secdb" / "v3.10" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(VULNDATA / "alpine-secdb/v3.10" / name, dest)
    for rec in yaml.safe_load((out / "alpine-secdb/v3.10/main.yaml").read_text())["packages"]:
        for fixes in (rec["pkg"].get("secfixes") or {}).values():
            cves.update(c for c in fixes or [] if str(c).startswith("CVE-"))
    kev = json.loads((VULNDATA / "kev/known_exploited_vulnerabilities.json").read_text())
    kev["vulnerabilities"] = [v for v in kev["vulnerabilities"] if v["cveID"] in cves]
    kev["count"] = len(kev["vulnerabilities"])
    (out / "kev").mkdir(parents=True)
    (out / "kev" / "known_exploited_vulnerabilities.json").write_text(json.dumps(kev, indent=1))


if __name__ == "__main__":
    build_image(Path(sys.argv[1]))
    build_feeds()
