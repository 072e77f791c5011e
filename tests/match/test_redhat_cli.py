"""End to end through the CLI: real docker-archives of Red Hat images (an rpm database built with rpmbuild and
`rpm --dbpath`, /etc/os-release, and in one image a content manifest in a second layer), a DB made by
`hullscan db import` of the real records in testdata/redhat, and `hullscan image … --format json`.
Expectations are derived by hand from the records (test_redhat.py has the derivations in detail)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
import builders as B  # noqa: E402
from test_redhat import RHEL8, RHEL9, _os_release, _rpmdb  # noqa: E402

DATA = Path(__file__).parent / "testdata" / "redhat"
HULLSCAN = [sys.executable, "-m", "hullscan"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, timeout=300)


def _layer(files: dict[str, bytes]) -> B.Layer:
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    return B.layer([B.d(x) for x in dirs] + [B.f(p, data) for p, data in files.items()])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "redhat.sqlite"
    r = _run("db", "import", str(DATA / "osv"), str(DATA / "csaf"), str(DATA / "repository-to-cpe.json"),
             "--db", str(path))
    assert r.returncode == 0, r.stderr
    return path


def _scan(img: Path, db: Path) -> dict:
    r = _run("image", f"docker-archive:{img}", "--format", "json", "--db", str(db))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _findings(report: dict) -> set[tuple[str, str, str, str]]:
    return {(f["package"]["name"], f["id"], f["status"], f.get("fixed_version") or "")
            for f in report["vulnerabilities"]}


def test_rhel8_image(db: Path, tmp_path: Path) -> None:
    img = B.docker_archive(tmp_path / "rhel8.tar", [_layer({
        "etc/os-release": _os_release("8", "8.8"), "var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, RHEL8)})])
    report = _scan(img, db)
    # openssl-libs 1:1.1.1k-14.el8_6 (source openssl) in enterprise_linux:8::baseos: the OSV errata fixed at
    # 1:…-14.el8_10, -15/-16/-17.el8_6 are above it (epoch 1 both sides) → five CVEs, each with its erratum's
    # fix shown with the epoch (only epoch 0 is left out); RHBA-2025:6314 (RHEL 10.0 only) never matches.
    # vim-minimal (source vim): CSAF CVE-2023-0049 "Will not fix" for RHEL 8 (matched by the source name);
    # CVE-2023-0051 known_not_affected → nothing. kernel-core (source kernel): CVE-2023-0045 "Will not fix".
    assert _findings(report) == {
        ("openssl-libs", "CVE-2025-9230", "fixed", "1:1.1.1k-14.el8_10"),
        ("openssl-libs", "CVE-2025-69419", "fixed", "1:1.1.1k-15.el8_6"),
        ("openssl-libs", "CVE-2024-4741", "fixed", "1:1.1.1k-16.el8_6"),
        ("openssl-libs", "CVE-2026-45447", "fixed", "1:1.1.1k-16.el8_6"),
        ("openssl-libs", "CVE-2026-28390", "fixed", "1:1.1.1k-17.el8_6"),
        ("vim-minimal", "CVE-2023-0049", "will_not_fix", ""),
        ("kernel-core", "CVE-2023-0045", "will_not_fix", ""),
    }


def test_eus_image_with_a_content_manifest_layer(db: Path, tmp_path: Path) -> None:
    base = _layer({"etc/os-release": _os_release("9", "9.2"), "var/lib/rpm/rpmdb.sqlite": _rpmdb(tmp_path, RHEL9)})
    manifest = _layer({"root/buildinfo/content_manifests/ose-console.json": json.dumps({
        "metadata": {"icm_version": 1, "image_layer_index": 1},
        "content_sets": ["rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2", "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_2"],
    }).encode()})
    img = B.docker_archive(tmp_path / "eus.tar", [base, manifest])
    report = _scan(img, db)
    # content sets → rhel_eus:9.2::appstream / ::baseos: CVE-2023-38545 has no row there (its EUS rows are
    # 9.0's) → the main stream of 9 answers: curl-minimal 7.76.1-23.el9_2.2 < 23.el9_2.4 (epoch 0, not shown)
    assert _findings(report) == {("curl-minimal", "CVE-2023-38545", "fixed", "7.76.1-23.el9_2.4")}
