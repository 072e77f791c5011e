"""Fixtures: small real images (OCI layouts built with tests/image/builders.py from shared package
databases, plus the real alpine 3.10 `docker save`), pushed with skopeo into real registries on
127.0.0.1 — open, htpasswd basic auth, bearer-token auth, TLS — started once per session."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from builders import OCILayout, f, layer, wh  # noqa: E402

from testsupport import require_tool  # noqa: E402
from registry_support import PASSWORD, USER, sha256, skopeo_raw_manifest  # noqa: E402,F401
from regserver import FaultProxy, Registry, TokenServer, self_signed, skopeo_push  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
HULLSCAN = REPO_ROOT / ".venv" / "bin" / "hullscan"


@dataclass
class Built:
    """What the tests know about an image independently of hullscan (from the builder)."""

    layout: Path
    tag: str
    manifest_digest: str
    config_digest: str
    diff_ids: list[str]
    layer_digests: list[str]


@dataclass
class Images:
    app: Built
    app2: Built
    arm: Built
    multi_layout: Path
    multi_index_digest: str
    alpine: Path
    dpkg_expected: list[tuple[str, str]]


def _descriptor_facts(layout: Path, desc: dict[str, Any], tag: str) -> Built:
    manifest = json.loads((layout / "blobs/sha256" / desc["digest"].split(":")[1]).read_bytes())
    config = json.loads((layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_bytes())
    return Built(layout, tag, desc["digest"], manifest["config"]["digest"], config["rootfs"]["diff_ids"],
                 [x["digest"] for x in manifest["layers"]])


def _expected_dpkg(shared: Path) -> list[tuple[str, str]]:
    rows = (shared / "fixtures/pkgdb/dpkg/debian-12__scalibr-valid/var/lib/dpkg/status.expected.tsv").read_text().splitlines()
    out = []
    for row in rows:
        if row.startswith("#") or row.startswith("package\t"):
            continue
        cols = row.split("\t")
        if cols[5].startswith("ii"):
            out.append((cols[0], cols[1]))
    return sorted(out)


@pytest.fixture(scope="session")
def images(tmp_path_factory, shared) -> Images:
    root = tmp_path_factory.mktemp("images")
    pk = shared / "fixtures/pkgdb"
    os_release = (pk / "dpkg/debian-12-osrelease__syft-image-dpkg/etc/os-release").read_bytes()
    status = (pk / "dpkg/debian-12__scalibr-valid/var/lib/dpkg/status").read_bytes()
    base = layer([f("etc/os-release", os_release), f("etc/debian_version", "12.5\n"), f("var/lib/dpkg/status", status)],
                 created_by="ADD base.tar /")
    app_top = layer([f("opt/app/requirements.txt", "django==4.2.1\nrequests==2.31.0\n"), wh("etc/debian_version")],
                    created_by="COPY requirements.txt /opt/app/")
    app2_top = layer([f("srv/www/package-lock.json", json.dumps({"name": "site", "version": "1.0.0", "lockfileVersion": 3,
                      "packages": {"": {"name": "site"}, "node_modules/lodash": {"version": "4.17.21"}}}))],
                     created_by="COPY package-lock.json /srv/www/")
    alpine_rel = (pk / "os-release/syft/alpine/etc/os-release").read_bytes()
    apk_db = (pk / "apk/alpine-3.18__scalibr/lib/apk/db/installed").read_bytes()
    arm_layer = layer([f("etc/os-release", alpine_rel), f("lib/apk/db/installed", apk_db)], created_by="ADD arm.tar /")

    one = OCILayout(root / "app")
    d_app = one.image([base, app_top])
    one.add(d_app, tag="1.0")
    one.save()
    two = OCILayout(root / "app2")
    d_app2 = two.image([base, app2_top])
    two.add(d_app2, tag="1.0")
    two.save()
    multi = OCILayout(root / "multi")
    d_amd = multi.image([base, app_top])
    d_arm = multi.image([arm_layer], arch="arm64", variant="v8")
    idx = multi.index([dict(d_amd, platform={"os": "linux", "architecture": "amd64"}),
                       dict(d_arm, platform={"os": "linux", "architecture": "arm64", "variant": "v8"})])
    multi.add(idx, tag="1")
    multi.save()
    alpine = root / "alpine.tar"
    alpine.write_bytes(gzip.decompress((pk / "images/alpine-3.10.docker-save.tar.gz").read_bytes()))
    return Images(
        app=_descriptor_facts(one.root, d_app, "1.0"),
        app2=_descriptor_facts(two.root, d_app2, "1.0"),
        arm=_descriptor_facts(multi.root, d_arm, "arm64"),
        multi_layout=multi.root,
        multi_index_digest=idx["digest"],
        alpine=alpine,
        dpkg_expected=_expected_dpkg(shared),
    )


def _tools() -> None:
    for tool in ("docker-registry", "skopeo", "htpasswd"):
        require_tool(tool)


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory, images):
    """An open registry holding test/app:1.0 (OCI), test/app2:1.0, test/app-v2s2:1.0 (Docker v2s2),
    test/multi:1 (an index amd64 + arm64/v8), test/alpine:3.10 (real docker save), test/old:1 (schema 1)."""
    _tools()
    reg = Registry(tmp_path_factory.mktemp("reg-open"), extra="compatibility: {schema1: {enabled: true}}").start()
    try:
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/app:1.0")
        skopeo_push(f"oci:{images.app2.layout}:1.0", f"{reg.host}/test/app2:1.0")
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/app-v2s2:1.0", fmt="v2s2")
        skopeo_push(f"oci:{images.multi_layout}:1", f"{reg.host}/test/multi:1", all_=True)
        skopeo_push(f"docker-archive:{images.alpine}", f"{reg.host}/test/alpine:3.10")
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/old:1", fmt="v2s1")
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory, images):
    _tools()
    reg = Registry(tmp_path_factory.mktemp("reg-basic"), auth="basic", users={USER: PASSWORD}).start()
    try:
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/app:1.0", creds=f"{USER}:{PASSWORD}")
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory, images):
    _tools()
    pytest.importorskip("jwt")
    tok = TokenServer(tmp_path_factory.mktemp("token"), {USER: PASSWORD})
    reg = Registry(tmp_path_factory.mktemp("reg-token"), auth="token", token=tok).start()
    try:
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/app:1.0", creds=f"{USER}:{PASSWORD}")
        yield reg
    finally:
        reg.stop()
        tok.stop()


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory, images):
    _tools()
    d = tmp_path_factory.mktemp("reg-tls")
    reg = Registry(d, tls=self_signed(d / "tls")).start()
    try:
        skopeo_push(f"oci:{images.app.layout}:1.0", f"{reg.host}/test/app:1.0")
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def proxy(open_registry):
    p = FaultProxy(open_registry.host)
    try:
        yield p
    finally:
        p.stop()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout)


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """The environment for a hullscan run: no ambient registry credentials, an empty Docker config."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HULLSCAN_REGISTRY_") and k not in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
           and not k.lower().endswith("_proxy")}
    (tmp_path / "docker").mkdir()
    env["DOCKER_CONFIG"] = str(tmp_path / "docker")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    return env


def _in_process(args: tuple[str, ...], stdin: str | None, env: dict[str, str]) -> Run:
    """`hullscan ARGS` through the real entry point (`hullscan.cli.main`: parsing, error lines, exit
    codes) inside this process, with its own argv, stdin, stdout, stderr and environment: the
    interpreter start-up (~2 s on the loaded test machine) is paid once per session, not per run."""
    import io

    from hullscan import cli

    saved_env = dict(os.environ)
    old = sys.argv, sys.stdin, sys.stdout, sys.stderr
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.StringIO()
    code = 0
    os.environ.clear()
    os.environ.update(env)
    sys.argv, sys.stdin, sys.stdout, sys.stderr = ["hullscan", *args], io.StringIO(stdin or ""), out, err
    try:
        cli.main()
    except SystemExit as ex:
        code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = old
        os.environ.clear()
        os.environ.update(saved_env)
    out.flush()
    return Run(code, out.buffer.getvalue().decode(), err.getvalue())


@pytest.fixture
def hullscan(clean_env):
    """Run the CLI; `fresh_process=True` for a real subprocess (needed where process-wide state
    matters, e.g. SSL_CERT_FILE read once per process)."""

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 300,
            fresh_process: bool = False) -> Run:
        full_env = {**clean_env, **(env or {})}
        if not fresh_process:
            result = _in_process(args, stdin, full_env)
            assert "Traceback" not in result.stderr, result.stderr
            return result
        cmd = [str(HULLSCAN) if HULLSCAN.exists() else sys.executable, *([] if HULLSCAN.exists() else ["-m", "hullscan"]), *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=full_env)
        assert "Traceback" not in proc.stderr, proc.stderr
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run
