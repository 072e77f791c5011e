"""Real trees and an image for the slow language-package tests, built once under
~/.cache/hullscan-tests/lang-pnj-v1/ behind a file lock (other processes may build them at once).

- python: `pip install --target` a pinned set of old wheels (no dependency resolution: all pinned);
- node: `npm install` of a pinned old package.json (nested copies, a scoped package, a lockfile);
- java: jars of Debian's liblog4j1.2-java and libcommons-text-java (`apt-get download`, `dpkg -x`);
- owned: python3-six, node-ms, liblog4j1.2-java installed with `dpkg --root` (a real dpkg database);
- image.tar: a docker-archive with one layer per tree (stdlib tarfile), for `hullscan image` and syft.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))

from testsupport import CACHE as _TEST_CACHE
from testsupport import locked

CACHE = _TEST_CACHE / "lang-pnj-v1"
SITE = "usr/local/lib/python3.11/site-packages"

PIP_PINS = [
    "requests==2.19.1", "urllib3==1.23", "idna==2.7", "chardet==3.0.4", "certifi==2018.8.24",
    "six==1.11.0", "python-dateutil==2.7.3", "Werkzeug==0.14.1", "click==6.7", "attrs==18.1.0",
    "Django==2.0.6", "pytz==2018.5", "Jinja2==2.10", "typing_extensions==3.7.4",
]
NPM_DEPS = {
    "express": "4.16.0", "lodash": "4.17.4", "minimist": "0.0.8", "moment": "2.19.1",
    "@babel/code-frame": "7.0.0", "debug": "3.1.0",
}
NPM_DEV = {"mocha": "5.2.0"}
DEBS = ["liblog4j1.2-java", "libcommons-text-java"]


def _build(name: str, make) -> Path:  # type: ignore[no-untyped-def]
    dest = CACHE / name
    with locked(f"lang-pnj-{name}"):
        if not (dest / ".done").exists():
            shutil.rmtree(dest, ignore_errors=True)
            tmp = CACHE / f"{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            make(tmp)
            (tmp / ".done").write_text("ok\n")
            tmp.rename(dest)
    return dest


def python_tree() -> Path:
    def make(root: Path) -> None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--target", str(root / SITE), *PIP_PINS],
            check=True, timeout=600,
        )
    return _build("python", make)


def node_tree() -> Path:
    def make(root: Path) -> None:
        app = root / "app"
        app.mkdir()
        (app / "package.json").write_text(json.dumps(
            {"name": "lang-test", "version": "1.0.0", "license": "MIT", "dependencies": NPM_DEPS, "devDependencies": NPM_DEV},
            indent=2))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                       cwd=app, check=True, timeout=600)
    return _build("node", make)


def java_tree() -> Path:
    def make(root: Path) -> None:
        dl = root.parent / "java-debs"
        shutil.rmtree(dl, ignore_errors=True)
        dl.mkdir()
        subprocess.run(["apt-get", "download", *DEBS], cwd=dl, check=True, timeout=600, capture_output=True)
        for deb in sorted(dl.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, timeout=120)
        shutil.rmtree(dl, ignore_errors=True)
    return _build("java", make)


OWNED_DEBS = ["python3-six", "node-ms", "liblog4j1.2-java"]


def owned_tree() -> Path:
    """A root with a real dpkg database: `dpkg --root` installs Debian packages that ship Python, npm
    and Java packages (dependencies not installed: only the files and the database matter)."""
    def make(root: Path) -> None:
        dl = root.parent / "owned-debs"
        shutil.rmtree(dl, ignore_errors=True)
        dl.mkdir()
        subprocess.run(["apt-get", "download", *OWNED_DEBS], cwd=dl, check=True, timeout=600, capture_output=True)
        for d in ("info", "updates"):
            (root / "var/lib/dpkg" / d).mkdir(parents=True)
        (root / "var/lib/dpkg/status").write_text("")
        subprocess.run(["dpkg", f"--root={root}", "--force-depends", "--force-not-root", "--force-script-chrootless",
                        "--no-triggers", "-i", *map(str, sorted(dl.glob("*.deb")))], check=True, timeout=300, capture_output=True)
        shutil.rmtree(dl, ignore_errors=True)
    return _build("owned", make)


def _layer_tar(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if rel in (".done",):
                continue
            info = tf.gettarinfo(str(path), arcname=rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if info.isreg():
                with open(path, "rb") as fh:
                    tf.addfile(info, fh)
            else:
                tf.addfile(info)
    return buf.getvalue()


def image() -> Path:
    """docker-archive with three layers: python, node, java trees."""
    trees = [python_tree(), node_tree(), java_tree()]
    out = CACHE / "image.tar"
    with locked("lang-pnj-image"):
        if out.exists():
            return out
        from builders import Layer, config_doc, docker_archive  # tests/image/builders.py

        layers = [Layer(_layer_tar(t), "", f"COPY {n} /") for t, n in zip(trees, ("python", "node", "java"), strict=False)]
        tmp = CACHE / "image.tar.tmp"
        docker_archive(tmp, layers, tags=("lang-test:1",),
                       config=config_doc(layers, config={"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]}))
        tmp.rename(out)
    return out
