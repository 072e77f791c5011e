"""`hullscan containers` against the real dockerd: three containers of two images (built here,
containerhelp.py) — image A runs the drift container (containerhelp.DRIFT_SCRIPT) and a clean one,
image B (A's base with another application file) a clean one. Each image is read from the engine once
(one save stream per image through the counting proxy), every container gets its line, and only the
drift container drifts. The engine is shared with other tests, so only our containers are checked."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from containerhelp import DRIFT_SCRIPT, TOKEN, Proxy, build, image_id, running
from imagehelp import REPO, run_cli

from enginehelp import Engine

TAG_A, TAG_B = "hullscan-test/fleet-a:1", "hullscan-test/fleet-b:1"


@pytest.fixture(scope="module")
def images(docker: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    out = tmp_path_factory.mktemp("fleet")
    for tag, marker in ((TAG_A, "fleet-a\n"), (TAG_B, "fleet-b\n")):
        docker.load(build(out / f"{tag.split('/')[1].replace(':', '-')}.tar", tag, marker).archive)
    return image_id(docker, TAG_A), image_id(docker, TAG_B)


def ours(doc: dict[str, Any], names: set[str]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["containers"] if c["name"] in names}


def test_containers_each_image_once(docker: Engine, images: tuple[str, str], tmp_path: Path) -> None:
    id_a, id_b = images
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nruntime:\n  drift: fail\n")
    with ExitStack() as stack:
        tag = uuid.uuid4().hex[:6]  # names of 16 characters or less: the 80-column table shows them whole
        drift = stack.enter_context(running(docker, TAG_A, DRIFT_SCRIPT, TOKEN, name=f"hsf-{tag}-drift"))
        clean_a = stack.enter_context(running(docker, TAG_A, "true", name=f"hsf-{tag}-a"))
        clean_b = stack.enter_context(running(docker, TAG_B, "true", name=f"hsf-{tag}-b"))
        names = {drift.name, clean_a.name, clean_b.name}
        proxy = stack.enter_context(Proxy(docker.socket, tmp_path / "p.sock"))
        r = run_cli("containers", "--docker-host", proxy.address, "--format", "json", "--scanners", "license,secret",
                    "--cache-dir", str(tmp_path / "cache"), "--policy", str(policy), "--exit-code", "9")
        assert "Traceback" not in r.stderr, r.stderr
        # each image read from the engine once: its save stream, by ID, one time
        assert proxy.count(f"/images/{id_a}/get") == 1, proxy.requests
        assert proxy.count(f"/images/{id_b}/get") == 1, proxy.requests
        table = run_cli("containers", "--docker-host", docker.address, "--format", "table", "--scanners",
                        "license,secret", "--cache-dir", str(tmp_path / "cache"), env={"COLUMNS": "80"})
    assert r.code == 9, r.stderr  # the drift container fails `runtime.drift: fail`
    doc = r.report
    schema = json.loads((REPO / "docs" / "containers.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema)
    assert doc["gate_failed"] is True and doc["images_scanned"] >= 2
    found = ours(doc, names)
    assert set(found) == names
    d = found[drift.name]
    # read off DRIFT_SCRIPT (test_container.py's docstring says how)
    assert d["drift"] == {"detected": True, "added": ["pypi:requests 2.31.0"], "removed": ["deb:sed 4.9-1+deb12u1"],
                          "changed": ["pypi:six 1.16.0 -> 1.17.0"]}
    assert (d["verdict"], d["failed_rules"]) == ("fail", ["runtime.drift"])
    assert d["counts"]["secrets"] == 1 and d["counts"]["runtime"] == {"vulnerabilities": 0, "secrets": 1, "packages": 2}
    for name, image in ((clean_a.name, id_a), (clean_b.name, id_b)):
        assert found[name]["drift"]["detected"] is False and found[name]["verdict"] == "pass"
        assert found[name]["image_id"] == image and found[name]["counts"]["runtime"]["packages"] == 0
    assert found[drift.name]["image_id"] == id_a
    # the table: a header and one line per container, none wider than 80 columns
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["CONTAINER", "IMAGE", "VERDICT"]
    assert all(len(line) <= 80 for line in lines), lines
    mine = {line.split()[0]: line.split() for line in lines[1:] if line.split()[0] in names}
    assert set(mine) == names
    assert mine[drift.name][-1] == "yes" and mine[drift.name][2] == "pass"  # no policy: drift gates only through one
    assert mine[clean_a.name][-1] == "no" and mine[clean_b.name][-1] == "no"
    assert mine[drift.name][1] == TAG_A and mine[clean_b.name][1] == TAG_B

def test_containers_engine_down(tmp_path: Path) -> None:
    r = run_cli("containers", "--docker-host", f"unix://{tmp_path}/none.sock", "--format", "json")
    assert r.code == 3 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_containers_help_fits() -> None:
    r = run_cli("containers", "--help", env={"COLUMNS": "80"})
    assert r.code == 0 and "containers.schema.json" in r.stdout
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
