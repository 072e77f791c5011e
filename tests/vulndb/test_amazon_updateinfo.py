"""Amazon Linux ALAS from yum `updateinfo.xml` (vulndb/feeds/amazon_updateinfo.py) on the real files of
testdata/amazon (PROVENANCE.md there), and `db update --feed amazon` through a repository's mirror list
and repomd.xml served on 127.0.0.1.

Expected values come from the files with tools that are not hullscan (commands quoted), e.g.
`zcat updateinfo_1_item.xml.gz | grep -o '<package ' | wc -l` → 13.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.http import RetryPolicy
from hullscan.vulndb import importer
from hullscan.vulndb.download import Downloader
from hullscan.vulndb.feeds import amazon_updateinfo as A
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.update import update
from testsupport import FileServer, serve_files

DATA = Path(__file__).resolve().parent / "testdata" / "amazon"
ONE = DATA / "updateinfo_1_item.xml.gz"  # ALAS2-2018-939
TWO = DATA / "updateinfo_2_items.xml.gz"  # ALAS2-2018-942, ALAS2-2018-949
AL2022 = DATA / "updateinfo_AL2022.xml.gz"  # ALAS2022-2021-001
AL2023 = DATA / "updateinfo_AL2023.xml.gz"  # ALAS2023-2023-001
REPOMD = DATA / "repomd_valid.xml"
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE updates [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<updates><update type="security"><id>ALAS2-2018-939</id><title>&c;</title></update></updates>
"""


def _read(*paths: Path):
    s = importer.read(list(paths))
    return s, s.batches["amazon"]


def _xml(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def test_real_updateinfo_files() -> None:
    s, b = _read(ONE, TWO, AL2022, AL2023)
    assert not s.failed and b.skipped == 0
    assert sorted(b.advisories) == ["ALAS2-2018-939", "ALAS2-2018-942", "ALAS2-2018-949", "ALAS2022-2021-001",
                                    "ALAS2023-2023-001"]
    a = b.advisories["ALAS2-2018-939"]
    # the file: <issued date="2018-01-11 21:05" />, <updated date="2018-01-16 01:28" />, <severity>critical
    assert (a.published, a.modified, a.severity) == ("2018-01-11T21:05:00Z", "2018-01-16T01:28:00Z", "critical")
    assert a.aliases == ["CVE-2017-5754", "CVE-2017-5715"]  # its two <reference type="cve">, in file order
    assert a.references == [("ADVISORY", "https://alas.aws.amazon.com/AL2/ALAS-2018-939.html")]
    assert a.summary == "Amazon Linux 2 2017.12 - ALAS2-2018-939: critical priority package update for kernel"
    # 13 <package> elements, 13 distinct names (`grep -o 'name="[^"]*"' | sort -u | wc -l`), all 0:4.9.76-38.79.amzn2
    assert len(a.affected) == 13
    assert {r.ecosystem for r in a.affected} == {"Amazon Linux:2"}
    kernel = next(r for r in a.affected if r.package == "kernel")
    assert kernel.ranges == [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:4.9.76-38.79.amzn2"}]}]
    assert kernel.status == "fixed" and kernel.severity == "critical"
    # epochs as the file gives them: qemu-kvm epoch="10", java-1.8.0-openjdk epoch="1"
    assert {r.ranges[0]["events"][1]["fixed"] for r in b.advisories["ALAS2-2018-942"].affected} == {"10:1.5.3-141.amzn2.5.3"}
    assert len(b.advisories["ALAS2-2018-949"].affected) == 17 and len(b.advisories["ALAS2-2018-949"].aliases) == 15
    # 32 <package> over x86_64/aarch64/src... collapse to 12 names (one build each); 61 → 21 for AL2023
    al22 = b.advisories["ALAS2022-2021-001"]
    assert len(al22.affected) == 12 and {r.ecosystem for r in al22.affected} == {"Amazon Linux:2022"}
    al23 = b.advisories["ALAS2023-2023-001"]
    assert len(al23.affected) == 21 and {r.ecosystem for r in al23.affected} == {"Amazon Linux:2023"}
    assert al23.severity == "Important" and al23.published == "2023-02-17T20:41:00Z"
    assert next(r for r in al23.affected if r.package == "rsyslog").ranges[0]["events"][1] == {"fixed": "0:8.2204.0-3.amzn2023.0.2"}


def test_release_from_the_id_prefix() -> None:
    assert [A.release_of(i) for i in ("ALAS-2018-1000", "ALAS2-2018-939", "ALAS2022-2021-001", "ALAS2023-2023-001")] == [
        "1", "2", "2022", "2023"]
    # an Extras topic of Amazon Linux 2 and a garbled id: not a stream we import
    assert A.release_of("ALAS2GOLANG1.19-2023-001") is None and A.release_of("ALAS2-2018") is None


def test_malformed_updates_are_skipped_and_counted(tmp_path: Path) -> None:
    """The real ALAS2-2018-942/949 file with one update's package version blanked and the other's id
    turned into an Extras topic id: both skipped and counted, nothing of them kept; the other files import."""
    text = _xml(TWO).decode()
    text = text.replace('name="qemu-img" release="141.amzn2.5.3" version="1.5.3"',
                        'name="qemu-img" release="141.amzn2.5.3" version=""', 1)
    text = text.replace("<id>ALAS2-2018-949</id>", "<id>ALAS2GOLANG1.19-2018-949</id>", 1)
    bad = tmp_path / "updateinfo.xml"
    bad.write_text(text)
    s, b = _read(ONE, bad)
    assert sorted(b.advisories) == ["ALAS2-2018-939"]
    assert b.skipped == 2
    assert any("ALAS2-2018-942" in r and "malformed package" in r for r in b.reasons)
    assert any("ALAS2GOLANG1.19-2018-949" in r and "unknown stream" in r for r in b.reasons)


def test_xml_bomb_and_truncated_file_import_nothing(tmp_path: Path) -> None:
    (tmp_path / "bomb").mkdir()
    (tmp_path / "bomb" / "updateinfo.xml").write_bytes(BOMB)
    cut = _xml(TWO)
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "updateinfo.xml").write_bytes(cut[: len(cut) * 2 // 3])  # ends inside ALAS2-2018-949
    s, b = _read(tmp_path / "bomb" / "updateinfo.xml", tmp_path / "cut" / "updateinfo.xml", ONE)
    assert sorted(b.advisories) == ["ALAS2-2018-939"]  # not ALAS2-2018-942, though it was complete in the cut file
    assert b.skipped == 2
    assert any("refused: EntitiesForbidden" in r for r in b.reasons)
    assert any("not well-formed" in r for r in b.reasons)


def test_db_import_of_only_a_bomb_is_exit_2(tmp_path: Path, hs) -> None:
    p = tmp_path / "updateinfo.xml"
    p.write_bytes(BOMB)
    code, out, err = hs("db", "import", str(p), "--db", str(tmp_path / "db.sqlite"))
    assert code == 2, (out, err)
    assert "amazon" in out and "FAILED" in out


# ----------------------------------------------------------------- db update through a yum repository


Repo = FileServer


@pytest.fixture
def repo() -> Iterator[tuple[str, FileServer]]:
    with serve_files() as got:
        yield got


def _dl() -> Downloader:
    return Downloader(policy=RetryPolicy(attempts=2, backoff=0.01, jitter=0), sleep=lambda s: None, timeout=10)


def test_update_follows_mirror_list_and_repomd(repo: tuple[str, Repo], tmp_path: Path) -> None:
    """mirror.list → (first mirror 404s) → second mirror's repodata/repomd.xml → the updateinfo it names
    (`repodata/updateinfo.xml.gz` in the real repomd.xml); a second update is a 304 on that file."""
    base, st = repo
    st.files = {
        "/al2/mirror.list": f"{base}/gone/x86_64\n{base}/mirror/x86_64/\n".encode(),
        "/mirror/x86_64/repodata/repomd.xml": REPOMD.read_bytes(),
        "/mirror/x86_64/repodata/updateinfo.xml.gz": TWO.read_bytes(),
        "/al2023/x86_64/repodata/repomd.xml": REPOMD.read_bytes(),
        "/al2023/x86_64/repodata/updateinfo.xml.gz": AL2023.read_bytes(),
    }
    urls = {"amazon": [f"{base}/al2/mirror.list", f"{base}/al2023/x86_64/repodata/repomd.xml"]}
    db, cache = tmp_path / "db.sqlite", tmp_path / "cache"
    r = update(str(db), ["amazon"], urls=urls, downloader=_dl(), cache=cache)
    assert [o.status for o in r.outcomes] == ["updated"], r.outcomes[0].message
    assert ("/gone/x86_64/repodata/repomd.xml", None) in st.log  # the first mirror was tried
    with open_reader(db) as v:
        assert v.feed("amazon").advisories == 3  # ALAS2-2018-942, ALAS2-2018-949, ALAS2023-2023-001
        rows = v.affected_for([("Amazon Linux:2", "qemu-img"), ("Amazon Linux:2023", "rsyslog")])
        assert [x.fixed_versions for x in rows[("Amazon Linux:2", "qemu-img")]] == [["10:1.5.3-141.amzn2.5.3"]]
        assert [x.advisory_id for x in rows[("Amazon Linux:2023", "rsyslog")]] == ["ALAS2023-2023-001"]
    st.log.clear()
    r = update(str(db), ["amazon"], urls=urls, downloader=_dl(), cache=cache)
    assert [o.status for o in r.outcomes] == ["unchanged"]
    # the updateinfo requests were conditional (the ETag stored under the configured source URL)
    assert [e for p, e in st.log if p.endswith("updateinfo.xml.gz")] == [f'"{len(TWO.read_bytes())}"',
                                                                      f'"{len(AL2023.read_bytes())}"']


def test_update_cli_with_feed_url_and_a_repomd_without_updateinfo(repo: tuple[str, Repo], tmp_path: Path, hs,
                                                                  monkeypatch) -> None:
    base, st = repo
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    st.files = {"/r/repodata/repomd.xml": REPOMD.read_bytes(), "/r/repodata/updateinfo.xml.gz": ONE.read_bytes(),
                "/norepo/repodata/repomd.xml": REPOMD.read_bytes().replace(b'type="updateinfo"', b'type="other"')}
    db = tmp_path / "db.sqlite"
    code, out, err = hs("db", "update", "--db", str(db), "--feed", "amazon",
                        "--feed-url", f"amazon={base}/r/repodata/repomd.xml")
    assert code == 0, err
    with open_reader(db) as v:
        assert v.feed("amazon").advisories == 1 and v.feed("amazon").affected == 13
    code, out, err = hs("db", "update", "--db", str(tmp_path / "other.sqlite"), "--feed", "amazon",
                        "--feed-url", f"amazon={base}/norepo/repodata/repomd.xml")
    assert code == 2 and "names no updateinfo" in err


def test_default_sources() -> None:
    from hullscan.vulndb.sources import DEFAULT_FEEDS, SOURCES
    from hullscan.vulndb.yumrepo import is_repo_url

    # the core repositories' mirror lists Trivy's vuln-list-update reads (amazon/amazon.go), one per release
    assert [u for u, _ in SOURCES["amazon"]] == [
        "http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list",
        "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list",
        "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list"]
    assert all(is_repo_url(u) for u, _ in SOURCES["amazon"])
    assert SOURCES["oracle-oval"] == [("https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2",
                                       "com.oracle.elsa-all.xml.bz2")]
    assert "amazon" in DEFAULT_FEEDS and "oracle-oval" not in DEFAULT_FEEDS  # the OVAL is opt-in (size)
