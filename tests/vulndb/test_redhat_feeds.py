"""Red Hat feeds: CSAF VEX statuses and the repository-to-CPE map from real documents; bad parts counted."""

from __future__ import annotations

import json
from pathlib import Path

from hullscan.vulndb import importer
from hullscan.vulndb.feeds import ImportContext, redhat_csaf, redhat_repo_cpe

DATA = Path(__file__).resolve().parents[1] / "match" / "testdata" / "redhat"


def _rows(name: str) -> dict[tuple[str, str], str]:
    batch = importer.read([DATA / "csaf" / name]).batches["redhat-csaf"]
    return {(a.ecosystem, a.package): a.status for adv in batch.advisories.values() for a in adv.affected}


def test_vex_statuses_of_real_documents():
    # cve-2023-0049: vim known_affected; remediations no_fix_planned "Out of support scope" (RHEL 6) and
    # "Will not fix" (RHEL 7, 8, 9); products' CPEs cpe:/o:redhat:enterprise_linux:N.
    assert _rows("cve-2023-0049.json") == {
        ("Red Hat:enterprise_linux:6", "vim"): "end_of_life", ("Red Hat:enterprise_linux:7", "vim"): "will_not_fix",
        ("Red Hat:enterprise_linux:8", "vim"): "will_not_fix", ("Red Hat:enterprise_linux:9", "vim"): "will_not_fix"}
    # cve-2023-0045: kernel "Will not fix" (8, 9), kernel-rt none_available "Affected" (8, 9); 6/7 not affected
    rows = _rows("cve-2023-0045.json")
    assert rows[("Red Hat:enterprise_linux:8", "kernel")] == "will_not_fix"
    assert rows[("Red Hat:enterprise_linux:8", "kernel-rt")] == "affected"
    assert rows[("Red Hat:enterprise_linux:7", "kernel")] == "not_affected"


def test_fixed_rows_keep_each_streams_earliest_fix():
    batch = importer.read([DATA / "csaf" / "cve-2023-38545.json.gz"]).batches["redhat-csaf"]
    rows = {(a.ecosystem, a.package): a for a in batch.advisories["CVE-2023-38545"].affected}
    # AppStream-9.2.0.Z.MAIN.EUS (7.76.1-23.el9_2.4) and AppStream-9.3.0.Z.MAIN (7.76.1-26.el9_3.2) share the
    # main CPE enterprise_linux:9::appstream: the earlier fix stands for the stream
    main = rows[("Red Hat:enterprise_linux:9::appstream", "curl")]
    assert main.status == "fixed" and main.ranges[0]["events"] == [{"introduced": "0"}, {"fixed": "0:7.76.1-23.el9_2.4"}]
    assert rows[("Red Hat:rhel_eus:9.0::appstream", "curl")].ranges[0]["events"][1] == {"fixed": "0:7.76.1-14.el9_0.9"}
    assert rows[("Red Hat:enterprise_linux:8", "curl")].status == "not_affected"


def test_status_mapping_of_every_remediation_word():
    assert redhat_csaf.status_of("known_affected", ("none_available", "Fix deferred")) == "fix_deferred"
    assert redhat_csaf.status_of("known_affected", ("no_fix_planned", "Out of support scope")) == "end_of_life"
    assert redhat_csaf.status_of("under_investigation", None) == "under_investigation"
    assert redhat_csaf.status_of("known_affected", None) == "affected"


def test_malformed_cpes_and_documents_are_skipped_and_counted():
    doc = json.loads((DATA / "csaf" / "cve-2023-0049.json").read_text())
    stack = list(doc["product_tree"]["branches"])
    while stack:
        b = stack.pop()
        stack.extend(b.get("branches", []))
        if b.get("product", {}).get("product_id") == "red_hat_enterprise_linux_6":
            b["product"]["product_identification_helper"]["cpe"] = "cpe:/o:redhat"  # malformed
    ctx = ImportContext()
    redhat_csaf.parse("x.json", doc, ctx)
    redhat_csaf.parse("y.json", {"document": {"category": "csaf_vex"}, "product_tree": [], "vulnerabilities": 3}, ctx)
    batch = ctx.batches["redhat-csaf"]
    assert batch.skipped == 2
    assert {a.ecosystem for a in batch.advisories["CVE-2023-0049"].affected} == {
        "Red Hat:enterprise_linux:7", "Red Hat:enterprise_linux:8", "Red Hat:enterprise_linux:9"}
    ctx = ImportContext()
    doc2 = json.loads((DATA / "repository-to-cpe.json").read_text())
    doc2["data"]["bad"] = {"cpes": ["cpe:/o:centos:centos:8", "nonsense"]}
    doc2["data"]["nolist"] = {"cpes": "x"}
    redhat_repo_cpe.parse("m.json", doc2, ctx)
    b = ctx.batches["redhat-repo-cpe"]
    assert b.skipped == 3 and set(b.repo_cpe) == {
        "rhel-9-for-aarch64-baseos-rpms", "rhel-9-for-aarch64-appstream-rpms",
        "rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_2", "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_2"}
    assert redhat_repo_cpe.stream_of("cpe:/a:redhat:rhel_eus:9.2::appstream") == "Red Hat:rhel_eus:9.2::appstream"
