"""`hullscan container` against the real engine (tests/enginehelp.py: our own dockerd, and Podman's
service where it starts): images built here (containerhelp.py) are loaded, containers run with
`--network none` and change their filesystem from their own command, and the scan must see exactly
those changes, marked `origin: runtime`, on top of the image's packages (`origin: image`).

Expected results are read off the containers' commands (containerhelp.DRIFT_SCRIPT):
- `mkdir …/requests-2.31.0.dist-info; printf 'Name: requests\\nVersion: 2.31.0' > …/METADATA` → drift
  added `pypi:requests 2.31.0`, a runtime package;
- `sed -i 's/^Version: 1.16.0$/Version: 1.17.0/' …/six-1.16.0.dist-info/METADATA` → the image's six
  1.16.0 shadowed: drift changed `pypi:six 1.16.0 -> 1.17.0`, six a runtime package;
- `sed -i '/^Package: sed$/,/^$/d' /var/lib/dpkg/status` → drift removed `deb:sed 4.9-1+deb12u1` (the
  version in Debian's status stanza); hostname, usr-is-merged and zlib1g stay, `origin: image`;
- `printf 'GITHUB_PAT=%s' TOKEN > /app/.env` → one `github-pat` secret at /app/.env, `origin: runtime`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from containerhelp import DRIFT_SCRIPT, TOKEN, Built, Proxy, build, image_id, running
from imagehelp import run_cli, validate_report

from enginehelp import Engine

TAG = "hullscan-test/container:1"
IMAGE_PACKAGES = {("deb", "hostname", "3.23+nmu1"), ("deb", "usr-is-merged", "37~deb12u1"),
                  ("deb", "zlib1g", "1:1.2.13.dfsg-1")}
"""The image's dpkg packages that stay (Debian minbase's status without sed)."""
ADDED, REMOVED, CHANGED = ["pypi:requests 2.31.0"], ["deb:sed 4.9-1+deb12u1"], ["pypi:six 1.16.0 -> 1.17.0"]


@pytest.fixture(scope="module")
def image(docker: Engine, tmp_path_factory: pytest.TempPathFactory) -> Built:
    built = build(tmp_path_factory.mktemp("container") / "img.tar", TAG)
    docker.load(built.archive)
    return built


def scan(engine: Engine, name: str, cache: Path, *extra: str, host: str | None = None) -> Any:
    r = run_cli("container", name, f"--{engine.kind}-host", host or engine.address, "--format", "json",
                "--scanners", "license,secret", "--cache-dir", str(cache), *extra)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def check_drift(doc: dict[str, Any], name: str, engine: Engine, image: str) -> None:
    validate_report(doc)
    c = doc["container"]
    assert (c["name"], c["engine"], c["image"]) == (name, engine.kind, image)
    assert c["started_at"] and c["id"] and c["image_id"].startswith("sha256:")
    assert c["labels"]["org.example.test"] == "container"  # the label the test's create call set
    assert c["drift"] == {"detected": True, "added": ADDED, "removed": REMOVED, "changed": CHANGED}
    pkgs = {(p["type"], p["name"], p["version"]): p["origin"] for p in doc["packages"]}
    assert pkgs == {**dict.fromkeys(IMAGE_PACKAGES, "image"), ("pypi", "requests", "2.31.0"): "runtime",
                    ("pypi", "six", "1.17.0"): "runtime"}
    assert [(s["rule_id"], s["path"], s["origin"]) for s in doc["secrets"]] == [("github-pat", "/app/.env", "runtime")]
    runtime = len(doc["layers"])  # the runtime layer sits on top of the image's layers
    assert {p["layer"]["index"] for p in doc["packages"] if p["origin"] == "runtime"} == {runtime}
    assert TOKEN not in json.dumps(doc)


def test_container_drift_and_origin(docker: Engine, image: Built, tmp_path: Path) -> None:
    """The image scanned first fills the caches; the container's scan then reads no byte of the image
    (no save stream through the proxy) and reads only the changed paths."""
    cache = tmp_path / "cache"
    before = run_cli("image", f"docker:{TAG}", "--docker-host", docker.address, "--format", "json", "--quiet",
                     "--scanners", "license,secret", "--cache-dir", str(cache))
    assert before.code == 0, before.stderr
    assert all("origin" not in p for p in before.report["packages"])  # an image scan has no origin
    assert "container" not in before.report
    with running(docker, TAG, DRIFT_SCRIPT, TOKEN) as run, \
            Proxy(docker.socket, tmp_path / "p.sock") as proxy:
        r = scan(docker, run.name, cache, host=proxy.address)
        assert r.code == 0, r.stderr
        check_drift(r.report, run.name, docker, TAG)
        assert proxy.count("/get") == 0, proxy.requests  # the image part came from the caches
        archives = [q for q in proxy.requests if "/archive" in q]
        # only the paths the changes list names: the new dist-info's METADATA, six's METADATA, the
        # status file, /app/.env and (read as directories, their bodies left unread) their parents
        assert not any("path=%2F&" in q or q.endswith("path=%2F HTTP/1.1") for q in archives)
        assert proxy.count("/export") == 0
        assert r.report["stats"]["cached"] == 2 and r.report["stats"]["walked"] == 1
    # a saved container report converts losslessly: `container` and every `origin` survive
    saved = tmp_path / "report.json"
    saved.write_text(r.stdout)
    again = run_cli("convert", str(saved), "--format", "json")
    assert again.code == 0, again.stderr
    assert again.report["container"] == r.report["container"]
    for key in ("packages", "vulnerabilities", "secrets"):
        assert [x.get("origin") for x in again.report[key]] == [x["origin"] for x in r.report[key]]
    sarif = run_cli("convert", str(saved), "--format", "sarif")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert [x["properties"]["origin"] for x in results] == ["runtime"]  # the secret written at runtime
    cdx = json.loads(run_cli("convert", str(saved), "--format", "cyclonedx").stdout)
    origins = {c["name"]: p["value"] for c in cdx["components"] for p in c.get("properties", [])
               if p["name"] == "hullscan:origin"}
    assert origins == {"hostname": "image", "usr-is-merged": "image", "zlib1g": "image", "requests": "runtime",
                       "six": "runtime"}


def test_container_cold_reads_image_once(docker: Engine, image: Built, tmp_path: Path) -> None:
    """With an empty cache the image is read from the engine once (its save stream), not twice."""
    with running(docker, TAG, DRIFT_SCRIPT, TOKEN) as run, Proxy(docker.socket, tmp_path / "p.sock") as proxy:
        r = scan(docker, run.name, tmp_path / "cache", host=proxy.address)
        assert r.code == 0, r.stderr
        check_drift(r.report, run.name, docker, TAG)
        assert proxy.count("/get") == 1, proxy.requests


def test_container_by_id_and_prefix(docker: Engine, image: Built, tmp_path: Path) -> None:
    with running(docker, TAG, DRIFT_SCRIPT, TOKEN) as run:
        r = scan(docker, f"docker:{run.id[:12]}", tmp_path / "cache")
        assert r.code == 0, r.stderr
        check_drift(r.report, run.name, docker, TAG)
        # the table: the container, its drift and what the runtime brought, within 80 columns
        t = run_cli("container", run.name, "--docker-host", docker.address, "--format", "table", "--scanners",
                    "license,secret", "--cache-dir", str(tmp_path / "cache"), env={"COLUMNS": "80"})
        assert t.code == 0, t.stderr
        assert all(len(line) <= 80 for line in t.stdout.splitlines()), t.stdout
        text = " ".join(t.stdout.split())
        assert f"container {run.name} ({run.id[:12]})" in text
        assert f"Drift: installed {ADDED[0]}; removed {REMOVED[0]}; changed {CHANGED[0]}" in text
        assert "origin runtime: 0 vulnerabilities, 1 secrets" in text


def test_container_policy_drift(docker: Engine, image: Built, tmp_path: Path) -> None:
    """`runtime.drift: fail` fails the verdict (exit 1) naming what drifted; `warn` only warns."""
    fail, warn = tmp_path / "fail.yaml", tmp_path / "warn.yaml"
    fail.write_text("version: 1\nruntime:\n  drift: fail\n")
    warn.write_text("version: 1\nruntime:\n  drift: warn\n")
    with running(docker, TAG, DRIFT_SCRIPT, TOKEN) as run:
        r = scan(docker, run.name, tmp_path / "cache", "--policy", str(fail))
        assert r.code == 1, r.stderr
        rules = r.report["verdict"]["failed_rules"]
        assert [x["rule"] for x in rules] == ["runtime.drift"]
        assert rules[0]["findings"] == [f"installed {ADDED[0]}", f"removed {REMOVED[0]}", f"changed {CHANGED[0]}"]
        r = scan(docker, run.name, tmp_path / "cache", "--policy", str(warn))
        assert r.code == 0, r.stderr
        assert any("policy runtime.drift: warn" in w["message"] for w in r.report["warnings"])


def test_container_without_changes(docker: Engine, image: Built, tmp_path: Path) -> None:
    """A container that changed nothing the analyzers see: no drift, every package `origin: image`."""
    with running(docker, TAG, "true") as run:
        r = scan(docker, run.name, tmp_path / "cache")
        assert r.code == 0, r.stderr
        validate_report(r.report)
        assert r.report["container"]["drift"]["detected"] is False
        assert {p["origin"] for p in r.report["packages"]} == {"image"}
        assert r.report["secrets"] == []


def test_symlink_to_host_path_not_followed(docker: Engine, image: Built, tmp_path: Path) -> None:
    """A container's symlink to a path that exists on the host (holding a secret), and a directory
    symlink to the host's root: the scan reads the links as links inside the container, never the host file."""
    host_file = tmp_path / "host.env"
    host_file.write_text(f"GITHUB_PAT={TOKEN}\n")
    script = f"ln -s {host_file} /app/host.env\nln -s / /app/hostroot"
    with running(docker, TAG, script) as run:
        r = scan(docker, run.name, tmp_path / "cache")
        assert r.code == 0, r.stderr
        assert r.report["secrets"] == []
        assert r.report["container"]["drift"]["detected"] is False


def test_container_exits_mid_scan(docker: Engine, image: Built, tmp_path: Path) -> None:
    """The container is killed when the scan asks for its first changed file: one line, exit 2."""
    with running(docker, TAG, DRIFT_SCRIPT, TOKEN) as run:
        killed: list[str] = []

        def hook(line: str) -> None:
            if "/archive" in line and not killed:
                killed.append(line)
                run.kill()

        with Proxy(docker.socket, tmp_path / "p.sock", hook) as proxy:
            r = scan(docker, run.name, tmp_path / "cache", host=proxy.address)
        assert killed
        assert r.code == 2, r.stderr
        lines = [x for x in r.stderr.splitlines() if x.startswith("hullscan: error")]
        assert len(lines) == 1 and "during the scan" in lines[0], r.stderr


def test_not_running_and_missing(docker: Engine, image: Built, tmp_path: Path) -> None:
    r = scan(docker, "hullscan-no-such-container", tmp_path / "cache")
    assert r.code == 2 and "no such container" in r.stderr, r.stderr
    r = scan(docker, "x", tmp_path / "cache", host=f"unix://{tmp_path}/none.sock")
    assert r.code == 3, r.stderr


def test_large_runtime_file_memory_bounded(docker: Engine, image: Built, tmp_path: Path) -> None:
    """A 256 MiB file written at runtime: no analyzer reads a file that big (the secret rules stop at
    10 MiB), so its bytes are never read from the engine (a few MiB of socket buffers at most pass the
    proxy) and the scan's peak RSS stays far below the file's size."""
    with running(docker, TAG, "dd if=/dev/zero of=/app/big.bin bs=1048576 count=256 2>/dev/null") as run, \
            Proxy(docker.socket, tmp_path / "p.sock") as proxy:
        r = scan(docker, run.name, tmp_path / "cache", host=proxy.address)
        assert r.code == 0, r.stderr
        assert proxy.bytes_down < 64 * 1024 * 1024, proxy.bytes_down
    assert 0 < r.maxrss_mb < 200, r.maxrss_mb


def test_podman_container(podman: Engine, tmp_path: Path) -> None:
    """The same drift through Podman's API service."""
    built = build(tmp_path / "img.tar", TAG)
    podman.load(built.archive)
    with running(podman, TAG, DRIFT_SCRIPT, TOKEN) as run:
        r = scan(podman, f"podman:{run.name}", tmp_path / "cache")
        assert r.code == 0, r.stderr
        image_name = r.report["container"]["image"]
        check_drift(r.report, run.name, podman, image_name)
        assert image_name.endswith(TAG)
    assert image_id(podman, TAG).startswith("sha256:") or len(image_id(podman, TAG)) == 64
