"""The session's test cluster (k8s_support.py says what it is)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "image"))
sys.path.insert(0, str(HERE.parent / "registry"))
sys.path.insert(0, str(HERE))

from builders import OCILayout, f, layer  # noqa: E402
from k8s_support import GHP, PASSWORD, PKGDB, USER, Cluster, Pki, pristine, rewrite  # noqa: E402
from regserver import Registry, skopeo_push  # noqa: E402

from testsupport import require_tool  # noqa: E402


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Any:
    for tool in ("docker-registry", "skopeo", "htpasswd"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("k8s")
    os_release = (PKGDB / "dpkg/debian-12-osrelease__syft-image-dpkg/etc/os-release").read_bytes()
    status = (PKGDB / "dpkg/debian-12__scalibr-valid/var/lib/dpkg/status").read_bytes()
    base = layer([f("etc/os-release", os_release), f("var/lib/dpkg/status", status)], created_by="ADD base.tar /")
    nginx_layout = OCILayout(root / "nginx")
    d_nginx = nginx_layout.image([base, layer([f("etc/nginx/nginx.conf", "events {}\n")], created_by="COPY nginx.conf")])
    nginx_layout.add(d_nginx, tag="1")
    nginx_layout.save()
    cortex_layout = OCILayout(root / "cortex")
    d_cortex = cortex_layout.image([base, layer([f("etc/cortex/.env", f"GITHUB_TOKEN={GHP}\n")], created_by="COPY .env")])
    cortex_layout.add(d_cortex, tag="1")
    cortex_layout.save()
    open_reg = Registry(root / "reg-open").start()
    private_reg = Registry(root / "reg-private", auth="basic", users={USER: PASSWORD}).start()
    try:
        for tag in ("1.19.2-alpine", "1.19.3-alpine"):  # one image under both tags: one digest
            skopeo_push(f"oci:{nginx_layout.root}:1", f"{open_reg.host}/library/nginx:{tag}")
        for tag in ("master-a2be3d8", "master-813e156"):
            skopeo_push(f"oci:{cortex_layout.root}:1", f"{private_reg.host}/cortexproject/cortex:{tag}", creds=f"{USER}:{PASSWORD}")
        objects = rewrite(pristine(), open_reg.host, private_reg.host, d_nginx["digest"], d_cortex["digest"])
        (root / "pki").mkdir()
        yield Cluster(objects, open_reg, private_reg, d_nginx["digest"], d_cortex["digest"], Pki(root / "pki"), root)
    finally:
        open_reg.stop()
        private_reg.stop()
