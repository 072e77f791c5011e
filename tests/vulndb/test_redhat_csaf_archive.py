"""`db update --feed redhat-csaf`: `archive_latest.txt` → the `csaf_vex_<date>.tar.zst` it names, streamed
into the DB; served by a local HTTP server from an archive built here of the real CSAF VEX documents in
tests/match/testdata/redhat/csaf (laid out as Red Hat's archive is: `2023/cve-2023-0049.json`)."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

from hullscan.errors import InputError
from hullscan.http import RetryPolicy
from hullscan.vulndb import csaf_archive
from hullscan.vulndb.download import Downloader
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.update import update
from testsupport import FileServer, serve_files

CSAF = Path(__file__).resolve().parents[1] / "match" / "testdata" / "redhat" / "csaf"
ARCHIVE = "csaf_vex_2023-10-31.tar.zst"  # the name in claircore's replay of Red Hat's server


def _archive() -> bytes:
    """The four real documents as Red Hat's archive holds them, tar then zstd."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for p in sorted(CSAF.iterdir()):
            data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            info = tarfile.TarInfo(f"2023/{p.name.removesuffix('.gz')}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return zstandard.ZstdCompressor(level=3).compress(raw.getvalue())


Server = FileServer


@pytest.fixture
def server() -> Iterator[tuple[str, FileServer]]:
    with serve_files() as got:
        yield got


def _dl() -> Downloader:
    return Downloader(policy=RetryPolicy(attempts=2, backoff=0.01, jitter=0), sleep=lambda s: None, timeout=10)


def test_update_reads_the_archive_latest_names_then_304(server: tuple[str, Server], tmp_path: Path) -> None:
    base, st = server
    st.files = {"/vex/archive_latest.txt": f"{ARCHIVE}\n".encode(), f"/vex/{ARCHIVE}": _archive()}
    urls = {"redhat-csaf": [f"{base}/vex/archive_latest.txt"]}
    db, cache = tmp_path / "db.sqlite", tmp_path / "cache"
    r = update(str(db), ["redhat-csaf"], urls=urls, downloader=_dl(), cache=cache)
    assert [o.status for o in r.outcomes] == ["updated"], r.outcomes[0].message
    with open_reader(db) as v:
        # one advisory per document (one CVE each)
        assert v.feed("redhat-csaf").advisories == 4
        rows = v.affected_for([("Red Hat:enterprise_linux:8", "vim"), ("Red Hat:enterprise_linux:9::appstream", "curl")])
        # cve-2023-0049 "Will not fix" on RHEL 8; cve-2023-0051 known_not_affected there
        assert {(x.advisory_id, x.status) for x in rows[("Red Hat:enterprise_linux:8", "vim")]} == {
            ("CVE-2023-0049", "will_not_fix"), ("CVE-2023-0051", "not_affected")}
        assert [x.fixed_versions for x in rows[("Red Hat:enterprise_linux:9::appstream", "curl")]] == [["0:7.76.1-23.el9_2.4"]]
    st.log.clear()
    r = update(str(db), ["redhat-csaf"], urls=urls, downloader=_dl(), cache=cache)
    assert [o.status for o in r.outcomes] == ["unchanged"]
    # the pointer is read again, the archive asked for conditionally (its ETag kept under the source URL)
    assert st.log == [("/vex/archive_latest.txt", None), (f"/vex/{ARCHIVE}", f'"{len(_archive())}"')]


def test_truncated_archive_fails_cleanly_and_keeps_the_old_db(server: tuple[str, Server], tmp_path: Path) -> None:
    base, st = server
    good = _archive()
    st.files = {"/archive_latest.txt": ARCHIVE.encode(), f"/{ARCHIVE}": good}
    urls = {"redhat-csaf": [f"{base}/archive_latest.txt"]}
    db, cache = tmp_path / "db.sqlite", tmp_path / "cache"
    assert update(str(db), ["redhat-csaf"], urls=urls, downloader=_dl(), cache=cache).outcomes[0].status == "updated"
    before = db.read_bytes()
    # a newer archive cut short (its Content-Length says what was sent: only the zstd stream is broken)
    st.files = {"/archive_latest.txt": b"csaf_vex_2023-11-01.tar.zst", "/csaf_vex_2023-11-01.tar.zst": good[: len(good) // 2]}
    with pytest.raises(InputError, match="corrupt or truncated archive"):
        update(str(db), ["redhat-csaf"], urls=urls, downloader=_dl(), cache=cache)
    assert db.read_bytes() == before  # nothing half-imported: the DB file is the previous one
    with open_reader(db) as v:
        assert v.feed("redhat-csaf").advisories == 4


def test_a_truncated_archive_next_to_another_feed_keeps_the_feeds_rows(server: tuple[str, Server], tmp_path: Path) -> None:
    base, st = server
    good = _archive()
    st.files = {"/archive_latest.txt": ARCHIVE.encode(), f"/{ARCHIVE}": good,
                "/repository-to-cpe.json": (CSAF.parent / "repository-to-cpe.json").read_bytes()}
    urls = {"redhat-csaf": [f"{base}/archive_latest.txt"], "redhat-repo-cpe": [f"{base}/repository-to-cpe.json"]}
    db, cache = tmp_path / "db.sqlite", tmp_path / "cache"
    update(str(db), ["redhat-csaf", "redhat-repo-cpe"], urls=urls, downloader=_dl(), cache=cache)
    st.files[f"/{ARCHIVE}"] = good[:-100]
    (cache / "redhat-csaf" / "redhat-csaf-vex.tar.zst").unlink()  # no cached copy: fetched again, truncated
    r = update(str(db), ["redhat-csaf", "redhat-repo-cpe"], urls=urls, downloader=_dl(), cache=cache)
    assert [(o.feed, o.status) for o in r.outcomes] == [("redhat-csaf", "failed"), ("redhat-repo-cpe", "unchanged")]
    with open_reader(db) as v:
        state = v.feed("redhat-csaf")
        assert state.advisories == 4 and "truncated" in (state.last_error or "")


def test_a_pointer_naming_anything_else_is_refused() -> None:
    assert csaf_archive.archive_name(b"csaf_vex_2024-01-07.tar.zst\n") == "csaf_vex_2024-01-07.tar.zst"
    for bad in (b"", b"../../etc/passwd", b"csaf_vex_2024-01-07.tar.gz", b"<html>"):
        with pytest.raises(InputError):
            csaf_archive.archive_name(bad)
    assert csaf_archive.is_latest_url("https://security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt")
