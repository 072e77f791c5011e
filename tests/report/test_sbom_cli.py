"""`hullscan image … --format cyclonedx|spdx-json` on the real alpine:3.11 `docker save` tarball, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from testsupport import REPO

IMAGE = REPO / "tests/image/testdata/alpine-3.11.docker-save.tar.gz"
# reviewed: the 14 packages of this image (apk db of Alpine 3.11.5; same list as Syft's, see
# tests/inventory/fixtures/os/apk-syft-reviewed.json "alpine-3.11__trivy-image")
NAMES = {"alpine-baselayout", "alpine-keys", "apk-tools", "busybox", "ca-certificates-cacert", "libc-utils",
         "libcrypto1.1", "libssl1.1", "libtls-standalone", "musl", "musl-utils", "scanelf", "ssl_client", "zlib"}


def _run(fmt: str, out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hullscan", "image", f"docker-archive:{IMAGE}", "--scanners", "license",
         "--no-cache", "-q", "-f", fmt, "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_cyclonedx_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    _run("cyclonedx", out)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.read_text()) is None
    bom = json.loads(out.read_text())
    libs = [c for c in bom["components"] if c["type"] == "library"]
    assert {c["name"] for c in libs} == NAMES
    musl = next(c for c in libs if c["name"] == "musl")
    assert musl["purl"] == "pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=alpine-3.11"
    os = next(c for c in bom["components"] if c["type"] == "operating-system")
    assert (os["name"], os["version"]) == ("alpine", "3.11.5")


def test_spdx_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "doc.spdx.json"
    _run("spdx-json", out)
    doc = parse_file(str(out))
    assert [m.validation_message for m in validate_full_spdx_document(doc)] == []
    assert {p.name for p in doc.packages} == NAMES | {"alpine:3.11", "alpine"}

