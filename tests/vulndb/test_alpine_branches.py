"""`db update` asks for every branch the Alpine secdb publishes (v3.2 … v3.22, edge), against a real HTTP
server on 127.0.0.1 (conftest.py `server`) used as a mirror base (`--feed-url alpine=BASE`).

The server holds the real secdb data of tests/vulndb/testdata: `alpine-secdb/{v3.4,v3.10,v3.11}` (the
YAML files of alpinelinux/alpine-secdb; secdb.alpinelinux.org publishes each branch file as YAML and as
JSON from the same data, so the server answers `<branch>/<repo>.json` with that document JSON-encoded)
and `alpine-edge/main.json` (served byte for byte). Every other branch file is a 404. Expected values
were read by hand from those files and from examples/PROVENANCE.md (the example image is Alpine 3.10.4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from vulndb_testdata import TESTDATA

from hullscan.errors import FetchError
from hullscan.http import RetryPolicy
from hullscan.vulndb.download import Downloader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.sources import SOURCES, never_published
from hullscan.vulndb.update import update

Feeds = Any  # the local feed server's state (tests/vulndb/conftest.py)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alpine-3.10-django"
SERVED = ("v3.4", "v3.10", "v3.11")  # main + community each; edge: main only

#: secdb.alpinelinux.org's branches, written out (not computed): v3.2 … v3.22 and edge.
BRANCHES = ["v3.2", "v3.3", "v3.4", "v3.5", "v3.6", "v3.7", "v3.8", "v3.9", "v3.10", "v3.11", "v3.12", "v3.13",
            "v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge"]


class Warnings(list):
    """A Reporter that keeps the warnings."""

    def feed(self, feed: str, msg: str) -> None:
        pass

    def download(self, feed: str, url: str, got: int, total: int | None) -> None:
        pass

    def warn(self, msg: str) -> None:
        self.append(msg)


def _serve(feeds: Feeds, branches: tuple[str, ...] = SERVED, edge: bool = True) -> None:
    for b in branches:
        for repo in ("main", "community"):
            doc = yaml.safe_load((TESTDATA / "alpine-secdb" / b / f"{repo}.yaml").read_bytes())
            feeds.files[f"/secdb/{b}/{repo}.json"] = json.dumps(doc).encode()
    if edge:
        feeds.files["/secdb/edge/main.json"] = (TESTDATA / "alpine-edge/main.json").read_bytes()


def _dl() -> Downloader:
    return Downloader(policy=RetryPolicy(attempts=2, backoff=0.01, jitter=0), sleep=lambda s: None, timeout=10)


def _missing_when_served(served: tuple[str, ...]) -> list[str]:
    """Every branch file except those served and v3.2/community (never published): hand rule, listed in order."""
    out = []
    for b in BRANCHES:
        for repo in ("main", "community"):
            if b in served or (b, repo) in (("v3.2", "community"), ("edge", "main")):
                continue
            out.append(f"{b}/{repo}")
    return out


def test_default_sources_are_every_published_branch() -> None:
    urls = [u for u, _ in SOURCES["alpine"]]
    assert urls == [f"https://secdb.alpinelinux.org/{b}/{r}.json" for b in BRANCHES for r in ("main", "community")]
    # the community repository began with Alpine 3.3: only v3.2's was never published
    assert [n for _, n in SOURCES["alpine"] if never_published("alpine", n)] == ["alpine-v3.2-community.json"]


def test_mirror_every_branch_asked_404s_reported_except_never_published(server: tuple[str, Feeds],
                                                                        tmp_path: Path) -> None:
    base, feeds = server
    _serve(feeds)
    rep = Warnings()
    db = tmp_path / "db.sqlite"
    r = update(str(db), ["alpine"], urls={"alpine": [f"{base}/secdb"]}, downloader=_dl(), cache=tmp_path / "c",
               reporter=rep)
    (o,) = r.outcomes
    assert o.status == "updated", o.message
    missing = _missing_when_served(SERVED)
    assert len(missing) == 36  # 44 files - 6 served (3 branches x 2) - edge/main - v3.2/community
    assert o.missing == missing
    assert "4 of 22 branches read (missing: v3.2/main, v3.3/main, v3.3/community," in o.message
    asked = {p for p, _ in feeds.log}
    assert asked == {f"/secdb/{b}/{r}.json" for b in BRANCHES for r in ("main", "community")}  # all 44
    assert not [w for w in rep if "v3.2/community" in w]  # asked, 404, and not worth a word
    assert len(rep) == 36 and all("HTTP 404" in w and w.endswith("skipped") for w in rep)
    with open_reader(db) as v:
        eco = {e for e in v.ecosystems() if e.startswith("Alpine:")}
        assert eco == {"Alpine:v3.4", "Alpine:v3.10", "Alpine:v3.11", "Alpine:edge"}
        # edge/main.json: apk-tools fixed CVE-2021-30139 in 2.12.5-r0 and CVE-2021-36159 in 2.12.6-r0
        rows = v.affected_for([("Alpine:edge", "apk-tools")])[("Alpine:edge", "apk-tools")]
        assert {_fixed(row) for row in rows} == {("CVE-2021-30139", "2.12.5-r0"), ("CVE-2021-36159", "2.12.6-r0")}


def _fixed(row: Any) -> tuple[str, str]:
    """(advisory id, fixed version) of an affected row with one [introduced 0, fixed V] range."""
    fixed = [e["fixed"] for rng in row.ranges for e in rng["events"] if "fixed" in e]
    assert len(fixed) == 1, row
    return row.advisory_id, fixed[0]


def test_a_missing_branch_keeps_the_copy_downloaded_before(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    _serve(feeds)
    db, cache = tmp_path / "db.sqlite", tmp_path / "c"
    update(str(db), ["alpine"], urls={"alpine": [f"{base}/secdb"]}, downloader=_dl(), cache=cache)
    feeds.etag = '"v2"'  # upstream changed (every file is downloaded again) ...
    del feeds.files["/secdb/v3.10/main.json"]  # ... and the mirror lost v3.10/main
    rep = Warnings()
    r = update(str(db), ["alpine"], urls={"alpine": [f"{base}/secdb"]}, downloader=_dl(), cache=cache, reporter=rep)
    (o,) = r.outcomes
    assert o.status == "updated" and "v3.10/main" in o.missing and "4 of 22 branches read" in o.message
    assert [w for w in rep if "/secdb/v3.10/main.json: HTTP 404" in w and "using the copy downloaded before" in w]
    with open_reader(db) as v:
        # v3.10/main.yaml: musl fixed CVE-2019-14697 in 1.1.22-r3 and CVE-2016-8859 in 1.1.15-r4
        rows = v.affected_for([("Alpine:v3.10", "musl")])[("Alpine:v3.10", "musl")]
        assert {_fixed(row) for row in rows} == {("CVE-2019-14697", "1.1.22-r3"), ("CVE-2016-8859", "1.1.15-r4")}


def test_no_branch_at_all_fails_the_feed(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, _ = server  # serves no secdb file
    with pytest.raises(FetchError, match="HTTP 404"):
        update(str(tmp_path / "db.sqlite"), ["alpine"], urls={"alpine": [f"{base}/secdb"]}, downloader=_dl(),
               cache=tmp_path / "c")
    assert not (tmp_path / "db.sqlite").exists()


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home / "xdg-cache"), "XDG_DATA_HOME": str(home / "xdg-data"),
           "HULLSCAN_HTTP_BACKOFF": "0.01"}
    env.pop("HULLSCAN_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "hullscan", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def _scan_example(db: Path, home: Path) -> dict[str, Any]:
    r = _cli("image", str(EXAMPLE), "--db", str(db), "--no-cache", "--scanners", "vuln", "-f", "json", home=home)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_example_image_gets_its_alpine_advisories_after_db_update(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    _serve(feeds)
    db = tmp_path / "db.sqlite"
    up = _cli("db", "update", "--db", str(db), "--feed", "alpine", "--feed-url", f"alpine={base}/secdb", home=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "alpine      updated   " in up.stdout and "4 of 22 branches read" in up.stdout
    report = _scan_example(db, tmp_path)
    assert not [w for w in report["warnings"] if "Alpine" in w["message"]], report["warnings"]
    with open_reader(db) as v:
        # The image's origin packages (examples/PROVENANCE.md layer 0; versions from its lib/apk/db/installed):
        # musl 1.1.22-r3, busybox 1.30.1-r3, openssl 1.1.1d-r2. v3.10/main.yaml, read by hand, fixes them at
        # or below those versions: musl CVE-2019-14697 exactly at 1.1.22-r3, busybox CVE-2019-5747 at
        # 1.30.1-r2, openssl CVE-2019-1547/1549/1563 at 1.1.1d-r0 — so the DB covers them and none is vulnerable.
        got = v.affected_for([("Alpine:v3.10", "musl"), ("Alpine:v3.10", "busybox"), ("Alpine:v3.10", "openssl")])
        assert ("CVE-2019-14697", "1.1.22-r3") in {_fixed(r) for r in got[("Alpine:v3.10", "musl")]}
        assert ("CVE-2019-5747", "1.30.1-r2") in {_fixed(r) for r in got[("Alpine:v3.10", "busybox")]}
        assert {_fixed(r) for r in got[("Alpine:v3.10", "openssl")]} >= {
            ("CVE-2019-1547", "1.1.1d-r0"), ("CVE-2019-1549", "1.1.1d-r0"), ("CVE-2019-1563", "1.1.1d-r0")}
    fixed_here = {"CVE-2019-14697", "CVE-2016-8859", "CVE-2019-5747", "CVE-2019-1547", "CVE-2019-1549", "CVE-2019-1563"}
    assert not {f["id"] for f in report["vulnerabilities"]} & fixed_here


def test_without_the_branch_the_example_image_says_it_was_not_matched(server: tuple[str, Feeds],
                                                                     tmp_path: Path) -> None:
    """The control: a DB with Alpine data but not v3.10 (what v3.12+ only gave) leaves the image unmatched."""
    base, feeds = server
    _serve(feeds, branches=("v3.4", "v3.11"))
    db = tmp_path / "db.sqlite"
    up = _cli("db", "update", "--db", str(db), "--feed", "alpine", "--feed-url", f"alpine={base}/secdb", home=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "v3.10/main" in up.stdout and "3 of 22 branches read" in up.stdout
    assert "holds no advisories for Alpine:v3.10" in json.dumps(_scan_example(db, tmp_path))
