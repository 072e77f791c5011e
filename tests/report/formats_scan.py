"""One real scan shared by the report-format tests: the example image (alpine 3.10 + Django lockfile)
plus two layers built here — one adds a file holding a (fabricated) GitHub token and an AWS key pair,
the next deletes the token file (it still ships in the lower layer) — scanned by the real CLI with
`--scanners vuln,secret,config` against a DB imported from examples/feeds; once plain (no policy) and
once with a policy that fails on HIGH, an exception and OpenVEX statements (suppressed and annotated
findings). Built once under ~/.cache/hullscan-tests/ (file lock: other test processes may build too).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "image"))
import builders as B  # noqa: E402

EXAMPLE = REPO / "examples" / "alpine-3.10-django"
HULLSCAN = [sys.executable, "-m", "hullscan"]

# fabricated, format-valid credentials (never real): the secret scanner's rules must find them
GITHUB_TOKEN = "ghp_" + "Xq7Lb2Rz9KmT4vWc8NpY1sHd6JfG3aEuQ0Zi"
AWS_KEY_ID = "AKIA" + "QYLPMN5HHHFPZAM2"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq8Lw3Tv5Nm2"

POLICY = """version: 1
fail_on:
  severity: HIGH
  secrets: HIGH
exceptions:
  - id: CVE-2024-3651
    package: idna
    justification: "idna only parses our own host names"
    owner: platform@example.com
    expires: 2099-12-31
vex: [vex.json]
"""


def _vex() -> dict[str, Any]:
    def st(vuln: str, purl: str, status: str, **extra: str) -> dict[str, Any]:
        return {"vulnerability": {"name": vuln}, "products": [{"@id": purl}], "status": status, **extra}

    return {
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "tests",
        "timestamp": "2026-01-01T00:00:00Z", "version": 1,
        "statements": [
            st("CVE-2019-11236", "pkg:pypi/urllib3@1.24.2", "not_affected",
               justification="vulnerable_code_not_in_execute_path"),
            st("CVE-2023-45803", "pkg:pypi/urllib3@1.24.2", "under_investigation"),
        ],
    }


def _copy_blob(src: Path, dst: Path, digest: str) -> None:
    hexd = digest.split(":")[1]
    shutil.copyfile(src / "blobs" / "sha256" / hexd, dst / "blobs" / "sha256" / hexd)


def build_image(root: Path) -> Path:
    """The example's two layers + a secrets layer + a layer deleting one of those files."""
    index = json.loads((EXAMPLE / "index.json").read_text())
    mdesc = index["manifests"][0]
    manifest = json.loads((EXAMPLE / "blobs/sha256" / mdesc["digest"].split(":")[1]).read_bytes())
    config = json.loads((EXAMPLE / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_bytes())
    layout = B.OCILayout(root)
    for desc in manifest["layers"]:
        _copy_blob(EXAMPLE, root, desc["digest"])
    env = f"DEBUG=0\nGITHUB_TOKEN={GITHUB_TOKEN}\n"
    creds = f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"
    secrets = B.layer([B.d("app"), B.f("app/.env", env), B.d("root"), B.d("root/.aws"), B.f("root/.aws/credentials", creds)],
                      created_by="COPY .env credentials /  # hullscan report tests")
    cleanup = B.layer([B.wh("app/.env")], created_by="RUN rm /app/.env  # hullscan report tests")
    new = [secrets, cleanup]
    layer_descs = list(manifest["layers"]) + [layout.blob(lay.blob, B.LAYER_MT[lay.compression]) for lay in new]
    config["rootfs"]["diff_ids"] += [lay.diff_id for lay in new]
    config["history"] += [{"created": "2026-01-01T00:00:00Z", "created_by": lay.created_by} for lay in new]
    config.setdefault("config", {}).pop("User", None)  # runs as root: an image-config finding
    cfg = layout.blob(json.dumps(config, sort_keys=True).encode(), B.OCI_CONFIG)
    man = {"schemaVersion": 2, "mediaType": B.OCI_MANIFEST, "config": cfg, "layers": layer_descs}
    layout.add(layout.blob(json.dumps(man, sort_keys=True).encode(), B.OCI_MANIFEST), tag="reports")
    return layout.save()


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, cwd=cwd, timeout=600)


def _inputs_digest() -> str:
    """Cache key: this file (image, policy, VEX), the example image and feeds, and hullscan's own
    source (a report saved by other code would make the comparisons meaningless)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in sorted((REPO / "examples").rglob("*")):
        if p.is_file():
            h.update(f"{p.relative_to(REPO)}:{p.stat().st_size}".encode())
    for p in sorted((REPO / "src" / "hullscan").rglob("*")):
        if p.is_file() and p.suffix in (".py", ".yaml", ".json"):
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


def scanned() -> dict[str, Path]:
    """Paths of the built image, the DB, the plain JSON report and the policy-judged JSON report."""
    base = B.cache_dir() / f"report-formats-{_inputs_digest()}"
    base.mkdir(parents=True, exist_ok=True)
    out = {"image": base / "image", "db": base / "db.sqlite", "plain": base / "plain.json", "judged": base / "judged.json",
           "policy_dir": base / "policy"}
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "done").exists():
            for p in (out["image"], out["policy_dir"]):
                shutil.rmtree(p, ignore_errors=True)
            out["db"].unlink(missing_ok=True)
            build_image(out["image"])
            r = _run(["db", "import", str(REPO / "examples" / "feeds"), "--db", str(out["db"])])
            assert r.returncode == 0, r.stderr.decode()
            scan = ["image", str(out["image"]), "--db", str(out["db"]), "--scanners", "vuln,secret,config", "-q", "--no-cache"]
            r = _run([*scan, "-f", "json", "-o", str(out["plain"])], cwd=base)
            assert r.returncode == 0, r.stderr.decode()
            out["policy_dir"].mkdir()
            (out["policy_dir"] / "policy.yaml").write_text(POLICY)
            (out["policy_dir"] / "vex.json").write_text(json.dumps(_vex()))
            r = _run([*scan, "-f", "json", "-o", str(out["judged"]), "--policy", str(out["policy_dir"] / "policy.yaml")], cwd=base)
            assert r.returncode == 1, r.stderr.decode()  # the policy fails on HIGH findings and the secrets
            (base / "done").write_text("ok")
    return out


def load(which: str) -> dict[str, Any]:
    return json.loads(scanned()[which].read_text())


def render(which: str, fmt: str) -> bytes:
    """The saved report rendered in-process, as `hullscan convert` does (test_convert_cli.py runs the CLI)."""
    from hullscan.report.convert import convert as convert_report

    return convert_report(str(scanned()[which]), fmt)


def convert(which: str, fmt: str) -> bytes:
    """The report rendered by the real CLI (`hullscan convert`)."""
    r = _run(["convert", str(scanned()[which]), "--format", fmt])
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout
