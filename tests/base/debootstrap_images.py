"""Real Debian images for the base identification tests, built once into the test cache from the one cached
debootstrap (`testsupport.debian_rootfs()`) and apt run inside a chroot against the Debian mirror:

- tree `minbase`: `debootstrap --variant=minbase bookworm` (as cached);
- tree `plus`: minbase + `apt-get install --no-install-recommends ca-certificates curl && apt-get clean`;
- tree `upgraded`: minbase + `apt-get upgrade` from bookworm-security only (the "newer tag" of minbase: the
  same base after security upgrades; no simulated .deb is needed while the security suite upgrades
  minbase packages, as it did when this was written: 12 of 88);
- tree `jq`: minbase + `apt-get install --no-install-recommends jq && apt-get clean` (an app's RUN step).

A full tree is one layer (a tar of the directory, `builders.tar_dir`); a derived tree's layer is what
changed from the tree below it (changed and new entries, whiteouts for deletions), as a container
builder's snapshot of a RUN step writes it. Nothing here imports hullscan: the package oracle of each tree
is `dpkg-query --admindir=TREE/var/lib/dpkg`, independent of the scanner under test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import Layer, OCILayout, f, layer, sha256, tar_dir  # noqa: E402

from testsupport import CACHE, COMPLETE, cached_build, debian_rootfs, missing, require_tool  # noqa: E402

CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
SECURITY = "deb http://deb.debian.org/debian-security bookworm-security main"
STEPS = {
    "plus": "apt-get install -y -q --no-install-recommends ca-certificates curl && apt-get clean",
    "upgraded": (f"echo '{SECURITY}' > /etc/apt/sources.list.d/security.list && apt-get -q update"
                 " && apt-get -y -q upgrade && apt-get clean && rm -rf /var/lib/apt/lists/*"),
    "jq": "apt-get install -y -q --no-install-recommends jq && apt-get clean",
}
"""What each derived tree ran in a chroot of a copy of minbase (plus and jq read the package lists
debootstrap left, so they install the versions of minbase's own snapshot of bookworm)."""

# the app's own files: a python distribution (Django 2.2 has PyPI advisories in examples/feeds) and a secret
DJANGO_DIR = "usr/lib/python3/dist-packages/Django-2.2.dist-info/METADATA"
DJANGO = "Metadata-Version: 2.1\nName: Django\nVersion: 2.2\nLicense: BSD-3-Clause\n"
SECRET = "GITHUB_TOKEN=ghp_" + "q7Wm2Zx9Kp4Lr8Tn3Vb6Yc1Hd5Jf0Gs2Ae7U"  # a github-pat rule match: 36 alnum
APP_FILES = {"app/main.py": b"print('hi')\n", DJANGO_DIR: DJANGO.encode(), "app/.env": (SECRET + "\n").encode()}


def tree(name: str) -> Path:
    """A cached root filesystem: `minbase`, or one of STEPS run on a copy of it."""
    for tool in ("debootstrap", "chroot", "dpkg-query"):
        require_tool(tool)
    cached = "debian-bookworm-minbase" + ("" if name == "minbase" else f"-{name}")
    if os.geteuid() != 0 and not (CACHE / cached / COMPLETE).exists():
        missing("debootstrap and chroot need root to build the cached trees")
    base = debian_rootfs()
    if name == "minbase":
        return base

    def make(tmp: Path) -> None:
        subprocess.run(["cp", "-a", str(base), str(tmp)], check=True)
        (tmp / COMPLETE).unlink(missing_ok=True)
        subprocess.run(["chroot", str(tmp), "sh", "-ec", STEPS[name]], check=True, capture_output=True, env=CHROOT_ENV)

    return cached_build(cached, make)


def installed(root: Path) -> set[tuple[str, str]]:
    """The oracle: (package, version) of every package dpkg has installed in the tree."""
    out = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f",
                          "${db:Status-Abbrev}\t${Package}\t${Version}\n"],
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    return {(name, version) for status, name, version in rows if status.strip() == "ii"}


# ------------------------------------------------------------------------------------------- layers


def full_layer(root: Path, created_by: str, extra: dict[str, bytes] | None = None) -> Layer:
    """The whole tree (plus `extra` files) as one uncompressed layer."""
    out = root.parent / f".{root.name}.layer.tar"
    try:
        tar_dir(root, out, extra=extra)
        return Layer(out.read_bytes(), "", created_by)
    finally:
        out.unlink(missing_ok=True)


def _entries(root: Path) -> dict[str, os.stat_result]:
    found: dict[str, os.stat_result] = {}
    for here, dirs, files in os.walk(root):  # symlinked directories are listed, never followed
        for name in (*dirs, *files):
            path = os.path.join(here, name)
            found[os.path.relpath(path, root)] = os.lstat(path)
    found.pop(COMPLETE, None)
    return found


def _changed(lower: Path, upper: Path, rel: str, a: os.stat_result, b: os.stat_result) -> bool:
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or (a.st_mode, a.st_uid, a.st_gid) != (b.st_mode, b.st_uid, b.st_gid):
        return True
    if stat.S_ISLNK(b.st_mode):
        return os.readlink(lower / rel) != os.readlink(upper / rel)
    if stat.S_ISCHR(b.st_mode) or stat.S_ISBLK(b.st_mode):
        return a.st_rdev != b.st_rdev
    if stat.S_ISREG(b.st_mode):
        if a.st_size != b.st_size:
            return True
        return a.st_mtime_ns != b.st_mtime_ns and (lower / rel).read_bytes() != (upper / rel).read_bytes()
    return False  # a directory whose entries changed: its changed entries are in the layer


def diff_layer(lower: Path, upper: Path, created_by: str, extra: dict[str, bytes] | None = None) -> Layer:
    """What a builder's snapshot of `upper` over `lower` holds: new and changed entries, and a whiteout for
    each deleted path whose parent survives; then `extra` files."""
    old, new = _entries(lower), _entries(upper)
    members: list[tuple[str, str]] = [(rel, "add") for rel, st in new.items()
                                      if rel not in old or _changed(lower, upper, rel, old[rel], st)]
    members += [(rel, "whiteout") for rel in old
                if rel not in new and (os.path.dirname(rel) == "" or os.path.dirname(rel) in new)]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, what in sorted(members):
            if what == "add":
                tar.add(upper / rel, arcname=rel, recursive=False)
            else:
                parent, base = os.path.split(rel)
                tar.addfile(tarfile.TarInfo(os.path.join(parent, f".wh.{base}")))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return Layer(buf.getvalue(), "", created_by)


# ------------------------------------------------------------------------------------------- images


class PooledLayout(OCILayout):
    """An OCI layout whose blobs are hard links into one pool: the 200 MB base layer is stored once for
    all the images that share it."""

    pool: Path

    def blob(self, data: bytes, media_type: str) -> dict[str, object]:
        digest = sha256(data)
        hexd = digest.split(":")[1]
        pooled = self.pool / hexd
        if not pooled.exists():
            pooled.write_bytes(data)
        target = self.root / "blobs" / "sha256" / hexd
        if not target.exists():
            os.link(pooled, target)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}


@dataclass(frozen=True)
class Image:
    target: str  # `oci:DIR`
    ref: str  # the layout's ref.name
    manifest_digest: str


IMAGES = ("minbase", "plus", "upgraded", "app_min", "app_plus", "app_upgraded", "squashed", "multistage", "lying",
          "truthful")
NAMES = {"minbase": "example/minbase:12", "plus": "example/plus:12", "upgraded": "example/minbase:12-security"}
PLUS_ANNOTATION = "example/plus:12"
CMD_AFTER_BASE: list[dict[str, str | bool]] = [{"created_by": "debootstrap --variant=minbase bookworm"},
                  {"created_by": 'CMD ["bash"]', "empty_layer": True}]
"""The start of a final stage's history as a builder records it: a CMD after minbase's layer makes the
history heuristic put the base at one layer."""


def images() -> dict[str, Image]:
    """Every test image as an OCI layout (uncompressed layers), built once into the cache under a key of
    the trees' dpkg databases (a rebuilt tree rebuilds the images)."""
    trees = {name: tree(name) for name in ("minbase", "plus", "upgraded", "jq")}
    key = hashlib.sha256(b"".join((t / "var/lib/dpkg/status").read_bytes() for t in trees.values())).hexdigest()[:16]

    def make(tmp: Path) -> None:
        tmp.mkdir(parents=True)
        pool = tmp / "pool"
        pool.mkdir()
        la = full_layer(trees["minbase"], "debootstrap --variant=minbase bookworm")
        lb = diff_layer(trees["minbase"], trees["plus"], "RUN " + STEPS["plus"])
        lu = full_layer(trees["upgraded"], "debootstrap --variant=minbase bookworm && " + STEPS["upgraded"])
        app_min = diff_layer(trees["minbase"], trees["jq"], "RUN apt-get install jq && COPY . /", APP_FILES)
        app = layer([f(name, data) for name, data in APP_FILES.items()], "", "COPY . /")
        squashed = full_layer(trees["plus"], "squashed", APP_FILES)
        tool = layer([f("usr/local/bin/jq", (trees["jq"] / "usr/bin/jq").read_bytes(), 0o755)], "",
                     "COPY --from=build /usr/bin/jq /usr/local/bin/jq")

        def build(name: str, layers: list[Layer], annotations: dict[str, str] | None = None,
                  history: list[dict[str, str | bool]] | None = None) -> str:
            lay = PooledLayout(tmp / name)
            lay.pool = pool
            full = [*history, *({"created_by": x.created_by} for x in layers[1:])] if history else None
            desc = lay.image(layers, annotations=annotations, history=full)
            lay.add(desc, tag=NAMES.get(name, f"app/{name}:1"))
            lay.save()
            return str(desc["digest"])

        build("minbase", [la])
        plus_digest = build("plus", [la, lb])
        build("upgraded", [lu])
        build("app_min", [la, app_min])
        build("app_plus", [la, lb, app])
        build("app_upgraded", [lu, app])
        build("squashed", [squashed])
        build("multistage", [la, lb, tool], history=CMD_AFTER_BASE)
        annotated = {"org.opencontainers.image.base.name": PLUS_ANNOTATION,
                     "org.opencontainers.image.base.digest": plus_digest}
        build("lying", [la, app_min], annotations=annotated)  # minbase's app, claiming plus
        build("truthful", [la, lb, app], annotations=annotated)

    root = cached_build(f"base-identify-images-{key}", make)
    out = {}
    for name in IMAGES:
        (entry,) = json.loads((root / name / "index.json").read_text())["manifests"]
        out[name] = Image(f"oci:{root / name}", entry["annotations"]["org.opencontainers.image.ref.name"],
                          entry["digest"])
    return out


if __name__ == "__main__":  # build the cache ahead of a test run
    for img in images().values():
        print(img)
