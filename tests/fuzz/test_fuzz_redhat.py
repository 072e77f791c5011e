"""Fuzz: the Red Hat parsers — CSAF VEX documents and repository-to-CPE maps (feeds), content manifests
(inventory), CPE → stream, the CSAF archive pointer and `.tar.zst` stream — on mutated real shapes: never an
exception but InputError, bad parts skipped and counted."""

from __future__ import annotations

import io
import json

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import InputError
from hullscan.inventory.redhat_content import parse_content_sets
from hullscan.match.rpm import covers, redhat_streams
from hullscan.model.inventory import OSInfo
from hullscan.vulndb import csaf_archive
from hullscan.vulndb.feeds import ImportContext, redhat_csaf, redhat_repo_cpe
from hullscan.vulndb.feeds._input import archive_members

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                     max_leaves=20)
_IDS = st.sampled_from(["red_hat_enterprise_linux_8", "red_hat_enterprise_linux_8:vim", "vim", "ruby:3.1/ruby",
                        "curl-0:7.76.1-23.el9_2.4.src", "x"])


@settings(max_examples=150, derandomize=True)
@given(tree=_JSON, status=st.dictionaries(st.sampled_from(["fixed", "known_affected", "known_not_affected",
                                                           "under_investigation"]), st.lists(_IDS, max_size=3)),
       cpe=st.text(max_size=40), purl=st.text(max_size=40), rem=_JSON)
def test_csaf_never_raises(tree, status, cpe, purl, rem):
    doc = {"document": {"category": "csaf_vex", "tracking": tree},
           "product_tree": {"branches": [{"category": "product_name", "product": {
               "product_id": "red_hat_enterprise_linux_8", "product_identification_helper": {"cpe": cpe}}},
               {"category": "product_version", "product": {"product_id": "vim",
                                                            "product_identification_helper": {"purl": purl}}}],
               "relationships": [{"full_product_name": {"product_id": "red_hat_enterprise_linux_8:vim"},
                                  "product_reference": "vim", "relates_to_product_reference": "red_hat_enterprise_linux_8"}]},
           "vulnerabilities": [{"cve": "CVE-2023-0049", "product_status": status, "remediations": rem}, tree]}
    ctx = ImportContext()
    assert redhat_csaf.detect("x.json", "json", doc)
    redhat_csaf.parse("x.json", doc, ctx)


@settings(max_examples=100, derandomize=True)
@given(data=_JSON)
def test_repo_cpe_never_raises(data):
    doc = {"data": data if isinstance(data, dict) else {"r": {"cpes": data}}}
    if redhat_repo_cpe.detect("m.json", "json", doc):
        redhat_repo_cpe.parse("m.json", doc, ImportContext())


@settings(max_examples=100, derandomize=True)
@given(raw=st.binary(max_size=200) | _JSON.map(lambda v: json.dumps({"content_sets": v}).encode()),
       cpe=st.text(max_size=50), release=st.text(max_size=5))
def test_content_sets_and_streams_never_raise(raw, cpe, release):
    sets = parse_content_sets("/root/buildinfo/content_manifests/a.json", raw, lambda m: None) or []
    os = OSInfo("rhel", "", release, release, cpe=cpe, content_sets=tuple(sets))
    redhat_streams(os, {s: [cpe] for s in sets})
    assert redhat_repo_cpe.stream_of(cpe) is None or redhat_repo_cpe.stream_of(cpe).startswith("Red Hat:")


@settings(max_examples=100, derandomize=True)
@given(pointer=st.binary(max_size=60) | st.text(max_size=40).map(str.encode), a=st.text(max_size=30),
       b=st.text(max_size=30))
def test_archive_pointer_and_stream_coverage_never_raise(pointer, a, b):
    try:
        assert csaf_archive.archive_name(pointer).endswith(".tar.zst")
    except InputError:
        pass
    covers(a, b)


_TAR_ZST = zstandard.ZstdCompressor().compress(b"2023/cve-2023-0049.json".ljust(512, b"\0") + b"\0" * 1024)


@settings(max_examples=60, derandomize=True)
@given(cut=st.integers(0, len(_TAR_ZST)), junk=st.binary(max_size=40))
def test_tar_zst_stream_fails_only_with_input_error(cut, junk):
    try:
        list(archive_members(io.BytesIO(_TAR_ZST[:cut] + junk), "csaf_vex_2023-10-31.tar.zst"))
    except InputError:
        pass
    with pytest.raises(InputError):
        list(archive_members(io.BytesIO(b"\x28\xb5\x2f\xfd" + junk), "x.tar.zst"))
