"""Oracle Linux ELSA from Oracle's OVAL (vulndb/feeds/oracle_oval.py) on the real files of testdata/oracle
(PROVENANCE.md there). Expected values are read off the files with tools that are not hullscan, e.g.
`bzcat all-positive-data.xml.bz2 | grep -c '<definition '` → 14."""

from __future__ import annotations

import bz2
from pathlib import Path

from hullscan.vulndb import importer
from hullscan.vulndb.read import open_reader

DATA = Path(__file__).resolve().parent / "testdata" / "oracle"
ALL = DATA / "all-positive-data.xml.bz2"
ELSA_2018_1196_1 = DATA / "elsa-2018-1196-1.xml.bz2"
BROKEN = DATA / "broken-oval-data.xml.bz2"
KSPLICE = DATA / "vunnel-mock_ksplice_data.xml"
PER_ARCH = DATA / "vunnel-mock_per_arch_data.xml"
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE oval_definitions [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"><generator><product_name>Oracle
Errata System</product_name></generator><definitions><definition id="x"><metadata><title>&b;</title></metadata>
</definition></definitions></oval_definitions>
"""


def _read(*paths: Path):
    s = importer.read(list(paths))
    return s, s.batches["oracle-oval"]


def _fixed(adv, eco: str, pkg: str) -> str:
    (row,) = [r for r in adv.affected if r.ecosystem == eco and r.package == pkg]
    assert row.status == "fixed" and row.ranges[0]["events"][0] == {"introduced": "0"}
    return str(row.ranges[0]["events"][1]["fixed"])


def test_real_oval_definitions() -> None:
    s, b = _read(ALL, ELSA_2018_1196_1)
    assert not s.failed and b.skipped == 0
    assert len(b.advisories) == 15  # 14 definitions + ELSA-2018-1196-1
    a = b.advisories["ELSA-2007-0057"]
    # <severity>MODERATE</severity>, <issued date="2007-06-26"/>, two <reference source="CVE">
    assert (a.severity, a.published, a.aliases) == ("MODERATE", "2007-06-26", ["CVE-2007-0493", "CVE-2007-0494"])
    assert a.references == [("ADVISORY", "http://linux.oracle.com/errata/ELSA-2007-0057.html")]
    # 8 criteria `… is earlier than 30:9.3.3-8.el5` under `Oracle Linux 5 is installed`
    assert len(a.affected) == 8 and {r.ecosystem for r in a.affected} == {"Oracle Linux:5"}
    assert _fixed(a, "Oracle Linux:5", "bind") == "30:9.3.3-8.el5"
    # one ELSA, two releases, each with its own build: xulrunner 1.9.2.22-1.0.1.el5_7 / .el6_1
    two = b.advisories["ELSA-2011-1268"]
    assert _fixed(two, "Oracle Linux:5", "xulrunner") == "0:1.9.2.22-1.0.1.el5_7"
    assert _fixed(two, "Oracle Linux:6", "xulrunner") == "0:1.9.2.22-1.0.1.el6_1"
    assert len(two.affected) == 6  # 3 packages × 2 releases
    assert _fixed(b.advisories["ELSA-2012-1261"], "Oracle Linux:6", "dbus-libs") == "1:1.2.24-7.0.1.el6_3"
    assert _fixed(b.advisories["ELSA-2019-4821"], "Oracle Linux:7", "sudo") == "0:1.8.23-4.0.1.el7"
    assert len(b.advisories["ELSA-2018-1196-1"].affected) == 18  # `grep -c 'is earlier than'` on that file


def test_whole_document_with_tests_objects_states() -> None:
    """The full shape (definitions, then tests/objects/states, whose rpminfo_test comments repeat the
    criteria's): the same ELSA-2007-0057 as the definitions-only file, nothing more."""
    _, whole = _read(DATA / "ELSA-2007-0057.xml")
    _, cut = _read(ALL)
    assert list(whole.advisories) == ["ELSA-2007-0057"] and whole.skipped == 0
    a, b = whole.advisories["ELSA-2007-0057"], cut.advisories["ELSA-2007-0057"]
    assert [(r.ecosystem, r.package, r.ranges) for r in a.affected] == [(r.ecosystem, r.package, r.ranges) for r in b.affected]


def test_per_arch_builds_keep_the_lowest_fix() -> None:
    """ELSA-2022-4803: rsyslog for aarch64 at 0:8.24.0-57.0.4.el7_9.3, for x86_64 at 0:8.24.0-57.0.1.el7_9.3.
    Rows carry no arch, so the lowest (.0.1) is kept: a higher one would flag the patched x86_64 build.
    ELSA-2024-2961: osbuild 0:110-1.el8 and 0:110-1.0.1.el8 shipped side by side → 0:110-1.el8."""
    _, b = _read(PER_ARCH)
    assert sorted(b.advisories) == ["ELSA-2022-4803", "ELSA-2024-2961", "ELSA-2025-10073"]
    assert _fixed(b.advisories["ELSA-2022-4803"], "Oracle Linux:7", "rsyslog") == "0:8.24.0-57.0.1.el7_9.3"
    assert _fixed(b.advisories["ELSA-2024-2961"], "Oracle Linux:8", "osbuild") == "0:110-1.el8"
    assert _fixed(b.advisories["ELSA-2025-10073"], "Oracle Linux:10", "firefox") == "0:128.12.0-1.0.1.el10_0"


def test_ksplice_builds_go_to_their_own_stream() -> None:
    """ELSA-2021-9151 fixes only the ksplice userspace builds of openssl (criteria `openssl is earlier than
    2:1.1.1g-15.ksplice1.el8_3` + `openssl is ksplice-based`): nothing lands in `Oracle Linux:8`."""
    _, b = _read(KSPLICE)
    a = b.advisories["ELSA-2021-9151"]
    assert {r.ecosystem for r in a.affected} == {"Oracle Linux:8:ksplice"}
    assert _fixed(a, "Oracle Linux:8:ksplice", "openssl-libs") == "2:1.1.1g-15.ksplice1.el8_3"


def test_malformed_definitions_are_skipped_and_counted(tmp_path: Path) -> None:
    """The real 14-definition file with ELSA-2019-4821's release criterion removed and ELSA-2013-1732's
    busybox version broken: those two are skipped and counted, the 12 others imported."""
    text = bz2.decompress(ALL.read_bytes()).decode()
    release = '<criterion test_ref="oval:com.oracle.elsa:tst:20194821001" comment="Oracle Linux 7 is installed"/>\n'
    assert text.count(release) == 1
    text = text.replace(release, "")
    busybox = 'comment="busybox is earlier than 1:1.15.1-20.el6"'
    assert text.count(busybox) == 1
    text = text.replace(busybox, 'comment="busybox is earlier than 1.15"')
    bad = tmp_path / "oval.xml"
    bad.write_text(text)
    _, b = _read(bad)
    assert len(b.advisories) == 12 and "ELSA-2019-4821" not in b.advisories and "ELSA-2013-1732" not in b.advisories
    assert b.skipped == 2
    assert any("ELSA-2019-4821" in r and "no `Oracle Linux N is installed`" in r for r in b.reasons)
    assert any("ELSA-2013-1732" in r and "malformed version '1.15'" in r for r in b.reasons)


def test_bomb_and_broken_document_import_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "com.oracle.elsa-bomb.xml"
    bomb.write_bytes(BOMB)
    s, b = _read(bomb, BROKEN, ELSA_2018_1196_1)
    # the broken file's first 13 definitions are well-formed, yet nothing of it is kept
    assert sorted(b.advisories) == ["ELSA-2018-1196-1"]
    assert b.skipped == 2
    assert any("refused: EntitiesForbidden" in r for r in b.reasons)
    assert any("mismatched tag: line 536" in r for r in b.reasons)


def test_cli_import_and_status(tmp_path: Path, hs) -> None:
    db = tmp_path / "db.sqlite"
    code, out, err = hs("db", "import", str(ALL), str(KSPLICE), str(BROKEN), "--db", str(db))
    assert code == 0, err
    assert "1 skipped" in out  # the broken document, whole
    with open_reader(db) as v:
        st = v.feed("oracle-oval")
        assert st.advisories == 15 and st.skipped == 1  # what `db status` shows
        # 109 distinct (definition, release, package) criteria in the 14 definitions (awk: the release of
        # the last `Oracle Linux N is installed`, the name before ` is earlier than`, `sort -u | wc -l`);
        # the ksplice file's 16 criteria name 6 packages (aarch64 and x86_64 repeat them): 115 rows
        assert st.affected == 115
        rows = v.affected_for([("Oracle Linux:7", "sudo"), ("Oracle Linux:8", "openssl")])
        assert [r.advisory_id for r in rows[("Oracle Linux:7", "sudo")]] == ["ELSA-2019-4821"]
        assert rows[("Oracle Linux:8", "openssl")] == []


def test_db_update_feed_oracle_oval(server, tmp_path: Path, hs, monkeypatch) -> None:
    """`db update --feed oracle-oval` from a local server serving the real bzip2 file (the opt-in feed)."""
    base, feeds = server
    feeds.files["/oval/com.oracle.elsa-all.xml.bz2"] = ALL.read_bytes()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = tmp_path / "db.sqlite"
    code, out, err = hs("db", "update", "--db", str(db), "--feed", "oracle-oval",
                        "--feed-url", f"oracle-oval={base}/oval/com.oracle.elsa-all.xml.bz2")
    assert code == 0, err
    with open_reader(db) as v:
        assert v.feed("oracle-oval").advisories == 14 and v.feed("oracle-oval").affected == 109
