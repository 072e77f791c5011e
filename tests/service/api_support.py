"""Helpers of the API tests (imported by name, as worker_support is): the images they scan, a real
`hullscan server` process, and a client speaking to it with a token.

Images (built with tests/image/builders.py, so what they hold is known without hullscan):
    app    Alpine 3.10 base (tests/stored/testdata; musl and musl-utils changed to 1.1.22-r2, PROVENANCE.md)
           + a layer of Python dist-infos: sqlparse 0.4.1, django 4.2.1           `test/app:1`
    side   the same base + idna 3.6 dist-info                                       `test/side:1`
    base   the base alone                                                           `test/base:3.10`
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from worker_support import ALPINE, HULLSCAN, SITE, Service, f, layer, oci_image, skopeo_push

HERE = Path(__file__).resolve().parent
HARBOR_SPEC = HERE / "testdata" / "harbor" / "scanner-adapter-openapi-v1.2.yaml"
USER, PASSWORD = "robot$hullscan", "Harbor-Robot-Secret-1"


def _dist(name: str, version: str) -> Any:
    return f(f"{SITE}/{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@dataclass
class Pushed:
    app: str
    side: str
    base: str
    app_digest: str
    base_diff_id: str
    app_diff_id: str
    archive: Path
    """A docker-archive of app's layers (`example/upload:1`), for uploads."""


def push_app_images(root: Path, host: str, creds: str) -> Pushed:
    from builders import docker_archive  # on the path once worker_support is imported

    installed = (ALPINE / "lib/apk/db/installed").read_text().replace("V:1.1.22-r3", "V:1.1.22-r2")
    base = layer([f("etc/os-release", (ALPINE / "etc/os-release").read_bytes()),
                  f("etc/alpine-release", (ALPINE / "etc/alpine-release").read_bytes()),
                  f("lib/apk/db/installed", installed)], created_by="ADD alpine-minirootfs.tar.gz /")
    top = layer([_dist("sqlparse", "0.4.1"), _dist("django", "4.2.1")], created_by="RUN pip install django sqlparse")
    side = layer([_dist("idna", "3.6")], created_by="RUN pip install idna")
    app = oci_image(root / "app", [base, top], tag="1")
    side_path = oci_image(root / "side", [base, side], tag="1")
    base_path = oci_image(root / "base", [base], tag="3.10")
    skopeo_push(f"oci:{app}:1", f"{host}/test/app:1", creds=creds)
    skopeo_push(f"oci:{side_path}:1", f"{host}/test/side:1", creds=creds)
    skopeo_push(f"oci:{base_path}:3.10", f"{host}/test/base:3.10", creds=creds)
    import json

    index = json.loads((app / "index.json").read_text())
    archive = docker_archive(root / "upload.tar", [base, top], tags=("example/upload:1",))
    return Pushed(f"{host}/test/app:1", f"{host}/test/side:1", f"{host}/test/base:3.10", index["manifests"][0]["digest"],
                  base.diff_id, top.diff_id, archive)


class Server:
    """`hullscan server` on a free port, as a process of its own (stopped by its process group)."""

    def __init__(self, service: Service, *args: str, name: str = "server") -> None:
        from regserver import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = service.root / f"{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([*HULLSCAN, "server", "--port", str(self.port), "--log-level", "warning", *args],
                                         env=service.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hullscan server exited {self.proc.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"hullscan server did not answer within 60 s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=60, follow_redirects=False)


def wait_job(c: httpx.Client, job_id: str, timeout: float = 180, logs: Any = None) -> dict[str, Any]:
    """Poll `/api/v2/jobs/{id}` until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/v2/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished within {timeout} s" + (f"\n{logs()}" if logs else ""))
