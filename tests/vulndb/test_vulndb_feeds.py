"""Each importer on files in its published format; expectations read off the files by hand."""

from __future__ import annotations

import gzip
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from vulndb_testdata import DSA_COUNT, DSA_LIST, KEV, KEV_COUNT, OSV_GO, OSV_GO_COUNT, TESTDATA, VUNNEL, debian_list_text

from hullscan.vulndb import importer
from hullscan.vulndb.importer import ImportSummary
from hullscan.vulndb.read import AdvisoryReader, open_reader
from hullscan.vulndb.store import VulnDB

FIX = Path(__file__).parent / "fixtures"


def _import(tmp: Path, *paths: Path, fmt: str | None = None) -> tuple[AdvisoryReader, ImportSummary]:
    """The paths imported into a new DB, and that DB opened for reading."""
    summary = importer.read(list(paths), fmt=fmt)
    with VulnDB.open(tmp / "t.sqlite", create=True) as db:
        importer.write(db, summary)
    return open_reader(tmp / "t.sqlite"), summary


def _one(db: AdvisoryReader, eco: str, name: str, adv_id: str):
    recs = [r for r in db.affected_for([(eco, name)])[(eco, name)] if r.advisory_id == adv_id]
    assert len(recs) == 1, recs
    return recs[0]


def test_debian_tracker_json_statuses(tmp_path: Path) -> None:
    db, s = _import(tmp_path, FIX / "debian-tracker.json")
    with db:
        r = _one(db, "Debian:12", "openssl", "CVE-2023-0286")
        assert (r.status, r.fixed_versions, r.severity) == ("fixed", ["3.0.8-1"], None)
        r = _one(db, "Debian:11", "openssl", "CVE-2023-0286")
        assert r.fixed_versions == ["1.1.1n-0+deb11u4"]
        r = _one(db, "Debian:10", "openssl", "CVE-2023-0286")  # open, nodsa_reason postponed, urgency high**
        assert (r.status, r.severity, r.fixed_versions) == ("fix_deferred", "high", [])
        assert r.ranges == [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
        assert _one(db, "Debian:10", "openssl", "CVE-2010-0928").status == "will_not_fix"  # ignored
        r = _one(db, "Debian:12", "openssl", "CVE-2010-0928")
        assert (r.status, r.severity) == ("affected", "unimportant")
        assert _one(db, "Debian:9", "openssl1.0", "CVE-2023-0286").status == "end_of_life"
        assert _one(db, "Debian:11", "bash", "CVE-2022-3715").status == "not_affected"  # fixed_version 0
        assert _one(db, "Debian:10", "bash", "CVE-2022-3715").status == "under_investigation"
        assert _one(db, "Debian:12", "bash", "CVE-2022-3715").severity == "low"
        assert _one(db, "Debian:sid", "openssl", "CVE-2023-0286").status == "fixed"
        adv = db.advisories(["CVE-2023-0286"])["CVE-2023-0286"]
        assert adv.summary == "X.400 address type confusion in X.509 GeneralName"
        assert ("REPORT", "https://bugs.debian.org/1031327") in adv.references
    b = s.batches["debian"]
    assert b.skipped == 1 and "bogus-status" in b.reasons[0]


def test_alpine_json_branch(tmp_path: Path) -> None:
    db, s = _import(tmp_path, FIX / "alpine-v3.19-main.json")
    with db:
        r = _one(db, "Alpine:v3.19", "openssl", "CVE-2023-5678")
        assert (r.status, r.fixed_versions) == ("fixed", ["3.1.4-r1"])
        assert _one(db, "Alpine:v3.19", "openssl", "CVE-2022-1292").status == "not_affected"
        assert _one(db, "Alpine:v3.19", "busybox", "CVE-2023-42364").fixed_versions == ["1.36.1-r6"]
        assert db.advisories(["CVE-2023-42364"])["CVE-2023-42364"].aliases == ["CVE-2023-42365"]
    assert s.batches["alpine"].skipped == 1 and "no pkg.name" in s.batches["alpine"].reasons[0]


def test_wolfi_and_chainguard(tmp_path: Path) -> None:
    db, _ = _import(tmp_path, FIX / "wolfi-security.json", FIX / "chainguard-security.json")
    with db:
        r = _one(db, "Wolfi", "glibc", "CVE-2023-6246")
        assert (r.feed, r.fixed_versions) == ("wolfi", ["2.38-r10"])
        assert _one(db, "Wolfi", "glibc", "CVE-2010-4756").status == "not_affected"
        assert _one(db, "Wolfi", "curl", "CVE-2023-38545").fixed_versions == ["8.4.0-r0"]
        r = _one(db, "Chainguard", "nginx", "CVE-2023-44487")
        assert (r.feed, r.fixed_versions) == ("chainguard", ["1.25.3-r1"])
        assert {"Wolfi", "Chainguard"} <= db.ecosystems()


@pytest.mark.parametrize("gz", [False, True])
def test_epss_csv(tmp_path: Path, gz: bool) -> None:
    src = FIX / "epss_scores-2023-03-20.csv"
    if gz:
        p = tmp_path / (src.name + ".gz")
        p.write_bytes(gzip.compress(src.read_bytes()))
        src = p
    db, s = _import(tmp_path, src)
    with db:
        e = db.epss(["CVE-2021-44228", "CVE-2023-44487", "CVE-1999-0001"])
    assert set(e) == {"CVE-2021-44228", "CVE-2023-44487"}
    assert (e["CVE-2021-44228"].score, e["CVE-2021-44228"].percentile, e["CVE-2021-44228"].date) == (
        0.97565, 0.99996, "2023-03-20")
    assert s.batches["epss"].skipped == 2


def _vunnel_nvd(names: list[str]) -> list[dict]:
    """Real NVD API 2.0 `cve` objects from the vunnel records in testdata/grype-vunnel."""
    out = {}
    with tarfile.open(VUNNEL) as tf:
        for m in tf:
            base = m.name.rsplit("/", 1)[-1]
            if "/nvd/results/" in m.name and base in names and base not in out:
                out[base] = json.load(tf.extractfile(m))["item"]["cve"]  # type: ignore[arg-type]
    return [out[n] for n in names]


def test_nvd_api_page_cvss_and_cwe(tmp_path: Path) -> None:
    cves = _vunnel_nvd(["cve-2014-0224.json", "cve-2024-0727.json", "cve-2023-0286.json"])
    v4 = {  # shape of an API 2.0 cvssMetricV40 entry; vector/score from the CVSS v4.0 spec examples
        "id": "CVE-2099-0001", "sourceIdentifier": "cna@example.invalid", "published": "2099-01-01T00:00:00.000",
        "lastModified": "2099-01-02T00:00:00.000", "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": "Synthetic record with a v4.0 metric."}],
        "metrics": {"cvssMetricV40": [{"source": "cna@example.invalid", "type": "Secondary", "cvssData": {
            "version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "baseScore": 9.3, "baseSeverity": "CRITICAL"}}]},
        "weaknesses": [], "references": [{"url": "https://example.invalid/a", "source": "x", "tags": ["Vendor Advisory"]}],
    }
    page = {"resultsPerPage": 4, "startIndex": 0, "totalResults": 4, "format": "NVD_CVE", "version": "2.0",
            "timestamp": "2025-09-04T00:00:00.000", "vulnerabilities": [{"cve": c} for c in [*cves, v4]]}
    p = tmp_path / "nvd-page.json"
    p.write_text(json.dumps(page))
    db, s = _import(tmp_path, p, FIX / "debian-tracker.json")
    with db:
        advs = db.advisories(["CVE-2014-0224", "CVE-2024-0727", "CVE-2099-0001"])
        # vunnel record: cvssMetricV31 Primary CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N 7.4 HIGH,
        # cvssMetricV2 Primary AV:N/AC:M/Au:N/C:P/I:P/A:N 5.8, CWE-326
        a = advs["CVE-2014-0224"]
        assert ("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4) in a.severities
        assert ("CVSS_V2", "AV:N/AC:M/Au:N/C:P/I:P/A:N", 5.8) in a.severities
        assert a.cwes == ["CWE-326"] and a.severity == "HIGH"
        assert a.feed == "nvd" and a.details and a.details.startswith("OpenSSL before 0.9.8za")
        # the Debian tracker fixture has CVE-2023-0286 too: Debian is the primary record, NVD enriches it
        # (vunnel record: cvssMetricV31 Primary CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H 7.4 HIGH)
        m = db.advisories(["CVE-2023-0286"])["CVE-2023-0286"]
        assert m.feed == "debian" and m.feeds == ["debian", "nvd"]
        assert m.summary == "X.400 address type confusion in X.509 GeneralName"
        assert m.details and m.details.startswith("There is a type confusion vulnerability")
        assert m.severities == [("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", 7.4)]
        assert advs["CVE-2024-0727"].cwes == ["CWE-476"]  # NVD-CWE-noinfo is not a CWE
        assert advs["CVE-2099-0001"].severities == [
            ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3)]
        assert advs["CVE-2099-0001"].severity == "CRITICAL"
        assert db.affected_for([("NVD", "openssl")])[("NVD", "openssl")] == []  # never matched by CPE


def test_osv_zip_tar_and_json_list(tmp_path: Path) -> None:
    go = sorted((TESTDATA / "osv-go/sample").glob("*.json"))
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in go:
            zf.write(p, p.name)
    t = tmp_path / "pypi.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        tf.add(TESTDATA / "osv-pypi/sample/vulns", "vulns")
    lst = tmp_path / "list.json"
    lst.write_text(json.dumps([json.loads((TESTDATA / "osv-misc/Chainguard" / n).read_text())
                               for n in ("CGA-224q-ccj5-2p53.json", "CGA-22hv-wp9q-4779.json")]))
    db, s = _import(tmp_path, z, t, lst)
    pypi = len(list((TESTDATA / "osv-pypi/sample/vulns").rglob("*.yaml")))
    with db:
        assert s.batches["osv"].records == len(go) + pypi + 2
        assert {"Go", "PyPI", "Chainguard"} <= db.ecosystems()


def test_bad_records_skipped_with_reasons(tmp_path: Path) -> None:
    d = tmp_path / "osv"
    d.mkdir()
    good = json.loads((TESTDATA / "osv-go/sample/GO-2020-0001.json").read_text())
    (d / "GO-2020-0001.json").write_text(json.dumps(good))
    bad = dict(good, id="GO-BAD-1", affected=[{"package": {"ecosystem": "Go", "name": "x"},
                                               "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}])
    (d / "GO-BAD-1.json").write_text(json.dumps(bad))
    (d / "GO-CUT.json").write_text(json.dumps(good)[:100])  # truncated file
    db, s = _import(tmp_path, d)
    with db:
        assert [f.feed for f in db.feeds()] == ["osv"]
        assert db.feed("osv").advisories == 1 and db.feed("osv").skipped == 1
    assert "GO-BAD-1" in s.batches["osv"].reasons[0] and "bad event" in s.batches["osv"].reasons[0]
    assert s.unreadable_count == 1 and "GO-CUT.json" in s.unreadable[0]


def test_truncated_archive_fails_its_feed_only(tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(OSV_GO.read_bytes()[: OSV_GO.stat().st_size // 2])
    db, s = _import(tmp_path, cut, KEV)
    with db:
        assert "osv" in s.failed and "truncated" in s.failed["osv"]
        assert db.feed("osv") is None  # all-or-nothing: nothing of the half-read feed was written
        assert db.feed("kev").records == KEV_COUNT


def test_forced_format_and_unrecognized(tmp_path: Path) -> None:
    p = tmp_path / "something.txt"
    p.write_text(debian_list_text(DSA_LIST))
    s = importer.read([p])
    assert not s.batches  # .txt is not looked at without --format
    s = importer.read([p], fmt="debian-list")
    assert s.batches["debian"].records == DSA_COUNT


def test_bad_rustsec_rubysec_kev_inputs(tmp_path: Path) -> None:
    good = (TESTDATA / "rustsec/sample/crates/hyper/RUSTSEC-2021-0078.md").read_text()
    d = tmp_path / "crates/hyper"
    d.mkdir(parents=True)
    (d / "RUSTSEC-2021-0078.md").write_text(good)
    (d / "RUSTSEC-9999-0001.md").write_text(good.replace('patched = [">= 0.14.10"]', 'patched = [">= 0.14.10"'))
    g = tmp_path / "gems/rack"
    g.mkdir(parents=True)
    ok = (TESTDATA / "rubysec/sample/gems/rack/CVE-2026-34831.yml").read_text()
    (g / "CVE-2026-34831.yml").write_text(ok)
    (g / "CVE-2026-99999.yml").write_text(ok.replace("cve: 2026-34831", "cve: 2026-99999")
                                          .replace("patched_versions:", "patched_versions: oops\nx_old:"))
    kev = tmp_path / "kev.json"
    kev.write_text(KEV.read_text()[:5000])
    s = importer.read([tmp_path / "crates", tmp_path / "gems", kev])
    rs, rb = s.batches["rustsec"], s.batches["rubysec"]
    assert (rs.records, rs.skipped) == (1, 1) and "bad TOML" in rs.reasons[0]
    assert (rb.records, rb.skipped) == (1, 1) and "not lists" in rb.reasons[0]
    assert "kev" not in s.batches and s.unreadable_count == 1 and "kev.json" in s.unreadable[0]


def test_streamed_write_parts_dedupe_and_rollback(tmp_path: Path) -> None:
    from hullscan.errors import InputError

    parts = list(importer.stream([OSV_GO, TESTDATA / "osv-go/sample"], "osv", chunk=20))
    assert len(parts) >= 5
    ids = [i for p in parts for i in p.advisories]
    assert len(ids) == len(set(ids)) == OSV_GO_COUNT  # the samples repeat ids of the tarball
    with VulnDB.open(tmp_path / "db.sqlite", create=True) as db:
        st = db.write_stream("osv", iter(parts), replace=True)
        assert st.advisories == OSV_GO_COUNT
        cut = tmp_path / "cut.tar.gz"
        cut.write_bytes(OSV_GO.read_bytes()[: OSV_GO.stat().st_size * 2 // 3])
        written = []

        def counted(it):
            for part in it:
                written.append(part)
                yield part

        with pytest.raises(InputError):
            db.write_stream("osv", counted(importer.stream([cut], "osv", chunk=10)), replace=True)
        assert len(written) >= 2  # parts of the cut archive reached the DB before it broke ...
        with db.reader() as r:
            assert r.feed("osv").advisories == OSV_GO_COUNT  # ... and were rolled back
