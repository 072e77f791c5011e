"""End of life through a whole scan: an image on Debian 10 carries `os.eol` {date, source} in every
format that has a place for it, `--exit-on-eol N` and the policy's `os.eol` gate it, a current release
(Debian 13) is not EOL, and a DB's `eol` feed replaces the built-in table's product.

Expected: Debian 10 ends with its LTS, "extendedSupport": "2024-06-30" in endoflife.date's debian product
(src/hullscan/vulndb/eol_table.json; Debian's own wiki.debian.org/LTS says buster LTS ended 30 June 2024);
Debian 13's LTS ends "2030-06-30". The scans run on the real clock: both hold until mid-2030."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "image"))
from builders import docker_archive, f, layer  # noqa: E402

from testsupport import REPO  # noqa: E402

DPKG = REPO / "tests/inventory/testdata/dpkg/debian-12-osrelease__syft-image-dpkg"  # real status (syft's test image)
# Debian 10's /etc/os-release (base-files 10.3+deb10u*), as the buster images ship it
BUSTER = b'''PRETTY_NAME="Debian GNU/Linux 10 (buster)"
NAME="Debian GNU/Linux"
VERSION_ID="10"
VERSION="10 (buster)"
VERSION_CODENAME=buster
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
'''
TRIXIE = (REPO / "tests/inventory/testdata/os-release/syft/debian/with-point-release/etc/os-release").read_bytes()
EOL_DATA = REPO / "tests/vulndb/testdata/eol"
SOURCE = "https://endoflife.date/debian"


def _image(tmp: Path, name: str, os_release: bytes) -> Path:
    status = (DPKG / "var/lib/dpkg/status").read_bytes()
    return docker_archive(tmp / f"{name}.tar", [layer([f("etc/os-release", os_release),
                                                        f("var/lib/dpkg/status", status)])], tags=(f"test/{name}:1",))


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("eol")
    return {"buster": _image(tmp, "buster", BUSTER), "trixie": _image(tmp, "trixie", TRIXIE)}


@pytest.fixture
def hs(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`hullscan ARGS...` in-process (secrets only: no DB, so the built-in EOL table): (exit code, stdout, stderr)."""
    from hullscan.cli.main import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["hullscan", *args])
        code = 0
        try:
            main()
        except SystemExit as ex:
            code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _scan(hs, image: Path, *extra: str) -> tuple[int, str, str]:
    return hs("image", str(image), "--scanners", "secret", "--no-cache", *extra)


def test_json_says_when_and_by_whom(hs, images) -> None:
    code, out, _ = _scan(hs, images["buster"], "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert tuple(map(int, doc["schema_version"].split("."))) >= (1, 6)  # os.eol came with 1.6
    assert doc["os"]["eol"] == {"date": "2024-06-30", "source": SOURCE, "as_of": "2026-08-22"}
    assert doc["vulnerabilities"] == []  # not a finding
    code, out, _ = _scan(hs, images["trixie"], "-f", "json")
    assert code == 0 and json.loads(out)["os"]["eol"] is False


def test_exit_on_eol(hs, images) -> None:
    assert _scan(hs, images["buster"], "-f", "json", "--exit-on-eol", "7")[0] == 7
    assert _scan(hs, images["trixie"], "-f", "json", "--exit-on-eol", "7")[0] == 0
    code, _, err = _scan(hs, images["buster"], "-f", "json", "--exit-on-eol", "3")
    assert code == 3 and "--exit-on-eol 3 is also the exit code of" in err


def test_a_failed_gate_speaks_first(hs, images, tmp_path: Path) -> None:
    """--exit-on-eol applies when the gate passed: a failing policy exits 1 (DESIGN "Gates")."""
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nos:\n  eol: fail\n")
    assert _scan(hs, images["buster"], "-f", "json", "--policy", str(policy), "--exit-on-eol", "7")[0] == 1


def test_policy_fail_and_warn(hs, images, tmp_path: Path) -> None:
    fail, warn = tmp_path / "fail.yaml", tmp_path / "warn.yaml"
    fail.write_text("version: 1\nos:\n  eol: fail\n")
    warn.write_text("version: 1\nos: {eol: warn}\n")
    code, out, _ = _scan(hs, images["buster"], "-f", "json", "--policy", str(fail))
    verdict = json.loads(out)["verdict"]
    assert code == 1 and not verdict["passed"]
    [rule] = verdict["failed_rules"]
    assert rule["rule"] == "os.eol" and "end of life since 2024-06-30" in rule["findings"][0]
    code, out, err = _scan(hs, images["buster"], "-f", "json", "--policy", str(warn))
    assert code == 0 and json.loads(out)["verdict"]["passed"]
    assert "end of life since 2024-06-30" in err and "policy os.eol: warn" in err
    assert _scan(hs, images["trixie"], "-f", "json", "--policy", str(fail))[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nos:\n  eol: maybe\n")
    assert _scan(hs, images["buster"], "-f", "json", "--policy", str(bad))[0] == 2


def test_every_format_carries_it(hs, images, tmp_path: Path) -> None:
    image = images["buster"]
    outs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("table", "html", "sarif", "cyclonedx", "cyclonedx-xml",
                                                      "spdx-json", "spdx", "json")}
    for fmt, path in outs.items():
        assert _scan(hs, image, "-f", fmt, "-o", str(path))[0] == 0, fmt
    table = outs["table"].read_text()
    assert "Debian GNU/Linux 10 (buster) — end of life since 2024-06-30" in table
    assert table.count("coverage ended 2024-06-30") == 1
    assert 'id="os-eol"' in outs["html"].read_text() and "end of life since 2024-06-30" in outs["html"].read_text()
    run = json.loads(outs["sarif"].read_text())["runs"][0]
    assert run["properties"]["os.eol"] == {"date": "2024-06-30", "source": SOURCE, "as_of": "2026-08-22"}
    assert not run["results"]
    bom = json.loads(outs["cyclonedx"].read_text())
    meta = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert (meta["hullscan:os:eol"], meta["hullscan:os:eol_source"]) == ("2024-06-30", SOURCE)
    [os_comp] = [c for c in bom["components"] if c["type"] == "operating-system"]
    assert {p["name"]: p["value"] for p in os_comp["properties"]}["hullscan:os:eol"] == "2024-06-30"
    xml = ElementTree.parse(outs["cyclonedx-xml"])
    assert any(p.get("name") == "hullscan:os:eol" and p.text == "2024-06-30" for p in xml.iter()
               if p.tag.endswith("property"))
    spdx = json.loads(outs["spdx-json"].read_text())
    [os_pkg] = [p for p in spdx["packages"] if p.get("primaryPackagePurpose") == "OPERATING_SYSTEM"]
    assert "eol=2024-06-30" in os_pkg["comment"] and f"eol_source={SOURCE}" in os_pkg["comment"]
    assert any(a["comment"] == f"end of life since 2024-06-30 ({SOURCE})" for a in os_pkg.get("annotations", []))
    assert "eol=2024-06-30" in outs["spdx"].read_text()
    # read back: `convert` (report/load.py) and the SBOMs as scan input (sbom_in)
    code, out, _ = hs("convert", str(outs["json"]), "-f", "json")
    assert code == 0 and json.loads(out)["os"]["eol"] == {"date": "2024-06-30", "source": SOURCE, "as_of": "2026-08-22"}
    from hullscan.sbom_in import load_sbom

    for fmt in ("cyclonedx", "spdx-json", "cyclonedx-xml"):
        inventory, _ = load_sbom(str(outs[fmt]))
        assert inventory.os is not None and inventory.os.eol is not None, fmt
        assert (inventory.os.eol.date, inventory.os.eol.source) == ("2024-06-30", SOURCE), fmt


def test_the_db_table_replaces_the_builtin_product(hs, images, tmp_path: Path) -> None:
    """A DB whose `eol` feed holds debian answers for Debian (its date as `as_of`); products it lacks keep
    the built-in dates. The DB also needs one advisory: a scan refuses an empty DB."""
    feed = tmp_path / "eol-debian.json"
    # a real response's Debian 10 cycle, "extendedSupport" moved a day to tell the tables apart
    feed.write_text(json.dumps([{"cycle": "10", "eol": "2022-09-10", "extendedSupport": "2024-07-01"}]))
    db = tmp_path / "db.sqlite"
    code, _, err = hs("db", "import", str(feed), str(EOL_DATA / "rhel.json"),
                      str(REPO / "tests/vulndb/testdata/alpine-secdb/v3.10/main.yaml"), "--db", str(db))
    assert code == 0, err
    code, out, _ = hs("image", str(images["buster"]), "--scanners", "vuln", "--db", str(db), "--no-cache", "-f", "json")
    eol = json.loads(out)["os"]["eol"]
    assert code == 0 and eol["date"] == "2024-07-01" and eol["as_of"] != "2026-08-22"
