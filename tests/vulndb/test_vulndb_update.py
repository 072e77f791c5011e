"""`db update` against a real HTTP server on 127.0.0.1 serving the real feed files of tests/vulndb/testdata:
ETag / 304, a 500 then success, a 429 with Retry-After, a truncated body, and a failing feed keeping
its previous data while the others update."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vulndb_testdata import DSA_COUNT, KEV_COUNT, OSV_GO_COUNT, VUNNEL

from hullscan.http import RetryPolicy
from hullscan.vulndb.download import Downloader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.update import update

Feeds = Any  # the local feed server's state (tests/vulndb/conftest.py)


class Sleeps(list):
    def __call__(self, s: float) -> None:
        self.append(s)


def _dl(sleeps: Sleeps) -> Downloader:
    return Downloader(policy=RetryPolicy(attempts=3, backoff=0.5, jitter=0), sleep=sleeps, timeout=10)


def _urls(base: str) -> dict[str, list[str]]:
    return {
        "kev": [f"{base}/kev.json"],
        "alpine": [f"{base}/alpine/v3.10/main.yaml", f"{base}/alpine/v3.10/community.yaml"],
        "debian": [f"{base}/debian/DSA/list"],
        "osv": [f"{base}/go/golang-vulndb-osv.tar.gz"],
    }


def test_etag_then_304(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    db, cache, sleeps = tmp_path / "db.sqlite", tmp_path / "cache", Sleeps()
    r1 = update(str(db), ["kev", "alpine"], urls=_urls(base), downloader=_dl(sleeps), cache=cache)
    assert [o.status for o in r1.outcomes] == ["updated", "updated"]
    with open_reader(db) as v:
        assert v.feed("kev").records == KEV_COUNT
        assert json.loads(v.feed("kev").etag or "{}") == {f"{base}/kev.json": '"v1"'}
        assert v.affected_for([("Alpine:v3.10", "openssl")])[("Alpine:v3.10", "openssl")]
    feeds.log.clear()
    r2 = update(str(db), ["kev", "alpine"], urls=_urls(base), downloader=_dl(sleeps), cache=cache)
    assert [o.status for o in r2.outcomes] == ["unchanged", "unchanged"]
    assert all(h.get("If-None-Match") == '"v1"' for _, h in feeds.log) and len(feeds.log) == 3
    with open_reader(db) as v:
        assert v.feed("kev").records == KEV_COUNT


def test_500_then_success(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    feeds.script["/kev.json"] = ["500"]
    sleeps = Sleeps()
    r = update(str(tmp_path / "db.sqlite"), ["kev"], urls=_urls(base), downloader=_dl(sleeps), cache=tmp_path / "c")
    assert r.outcomes[0].status == "updated"
    assert [p for p, _ in feeds.log] == ["/kev.json", "/kev.json"] and sleeps == [0.5]


def test_429_honours_retry_after(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    feeds.script["/kev.json"] = ["429:7"]
    sleeps = Sleeps()
    r = update(str(tmp_path / "db.sqlite"), ["kev"], urls=_urls(base), downloader=_dl(sleeps), cache=tmp_path / "c")
    assert r.outcomes[0].status == "updated" and sleeps == [7.0]


def test_truncated_body_keeps_previous_data_others_update(server: tuple[str, Feeds], tmp_path: Path) -> None:
    base, feeds = server
    db, cache, sleeps = tmp_path / "db.sqlite", tmp_path / "cache", Sleeps()
    update(str(db), ["kev"], urls=_urls(base), downloader=_dl(sleeps), cache=cache)
    feeds.etag = '"v2"'  # upstream changed: a full download is needed, and it arrives cut short every time
    feeds.script["/kev.json"] = ["truncate"] * 3
    r = update(str(db), ["kev", "debian"], urls=_urls(base), downloader=_dl(sleeps), cache=cache)
    kev, deb = r.outcomes
    assert kev.status == "failed" and ("truncated" in kev.message or "incomplete" in kev.message), kev.message
    assert deb.status == "updated"
    with open_reader(db) as v:
        st = v.feed("kev")
        assert st.records == KEV_COUNT and st.last_error  # previous data kept, error recorded
        assert len(v.kev(["CVE-2021-44228"])) == 1
        assert v.feed("debian").advisories == DSA_COUNT  # DSA/list: 5,406 DSAs
    assert not list(tmp_path.glob(".db.sqlite.update-*"))  # staging file renamed or removed
    private = [p for p in (db, *cache.rglob("*")) if p.is_file()]
    assert len(private) > 2 and {p.stat().st_mode & 0o777 for p in private} == {0o600}  # the DB and the downloads


def test_real_archives_and_cli(server: tuple[str, Feeds], tmp_path: Path, hs, monkeypatch) -> None:
    base, feeds = server
    feeds.script["/alpine/v3.10/main.yaml"] = ["500"]
    monkeypatch.setenv("HULLSCAN_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = tmp_path / "db.sqlite"
    code, out, err = hs("db", "update", "--db", str(db), "--feed", "osv", "--feed", "alpine",
                        "--feed-url", f"osv={base}/go/golang-vulndb-osv.tar.gz",
                        "--feed-url", f"alpine={base}/alpine/v3.10/main.yaml",
                        "--feed-url", f"alpine={base}/alpine/v3.10/community.yaml")
    assert code == 0, err
    assert "db update: osv:" in err and "db update: alpine:" in err and "retrying" in err
    assert (tmp_path / "xdg/hullscan/feeds/osv").is_dir()
    with open_reader(db) as v:
        assert v.feed("osv").advisories == OSV_GO_COUNT  # the GO-* records of the served tarball
    code, out, err = hs("db", "update", "--db", str(db), "--feed", "kev", "--feed-url", f"kev={base}/missing.json")
    assert code == 3 and "HTTP 404" in err
    with open_reader(db) as v:
        assert v.feed("osv").advisories == OSV_GO_COUNT


def test_nvd_paging_with_api_key(server: tuple[str, Feeds], tmp_path: Path, monkeypatch) -> None:
    import tarfile

    base, feeds = server
    want = ("cve-2014-0224.json", "cve-2023-0286.json", "cve-2024-0727.json")
    cves: dict[str, dict] = {}
    with tarfile.open(VUNNEL) as tf:
        for m in tf:
            name = m.name.rsplit("/", 1)[-1]
            if "/nvd/results/" in m.name and name in want and name not in cves:
                cves[name] = json.load(tf.extractfile(m))["item"]["cve"]  # type: ignore[arg-type]
    objs = [cves[n] for n in want]

    def page(start: int, items: list[dict]) -> bytes:  # the API 2.0 envelope
        return json.dumps({"resultsPerPage": len(items), "startIndex": start, "totalResults": 3, "format": "NVD_CVE",
                           "version": "2.0", "timestamp": "2025-09-04T00:00:00.000",
                           "vulnerabilities": [{"cve": c} for c in items]}).encode()

    feeds.nvd_pages = {0: page(0, objs[:2]), 2: page(2, objs[2:])}
    monkeypatch.setenv("NVD_API_KEY", "test-key")
    sleeps = Sleeps()
    r = update(str(tmp_path / "db.sqlite"), ["nvd"], urls={"nvd": [f"{base}/nvd"]}, downloader=_dl(sleeps),
               cache=tmp_path / "c")
    assert r.outcomes[0].status == "updated", r.outcomes[0].message
    starts = [p for p, _ in feeds.log]
    assert [p.split("startIndex=")[1] for p in starts] == ["0", "2"]
    assert all(h.get("apiKey") == "test-key" for _, h in feeds.log)
    assert sleeps == [0.6]  # NVD's pause between requests with an API key
    with open_reader(tmp_path / "db.sqlite") as db:
        assert db.feed("nvd").advisories == 3
        assert db.advisories(["CVE-2024-0727"])["CVE-2024-0727"].cwes == ["CWE-476"]


def test_update_refuses_foreign_file_unless_rebuild(server: tuple[str, Feeds], tmp_path: Path) -> None:
    import pytest

    from hullscan.errors import DatabaseError

    base, _ = server
    db = tmp_path / "db.sqlite"
    db.write_bytes(b"not a database at all" * 50)
    with pytest.raises(DatabaseError, match="rebuild"):
        update(str(db), ["kev"], urls=_urls(base), downloader=_dl(Sleeps()), cache=tmp_path / "c")
    assert db.read_bytes().startswith(b"not a database")  # untouched
    r = update(str(db), ["kev"], urls=_urls(base), downloader=_dl(Sleeps()), cache=tmp_path / "c", rebuild=True)
    assert r.outcomes[0].status == "updated"
    with open_reader(db) as v:
        assert v.feed("kev").records == KEV_COUNT
