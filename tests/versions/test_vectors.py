"""Every record of testdata/vectors/versions.jsonl.gz (the whole vectors file, see
testdata/vectors/PROVENANCE.md), scored per scheme and kind.

Required schemes must be exact (bar the reviewed KNOWN_DISAGREEMENTS); the optional grype-only
schemes (jvm, bitnami, kb, fuzzy) are reported. The expectations come from other scanners' test
suites, cross-checked by independent oracles (see the vectors README), not from this code.
"""

from __future__ import annotations

from collections import Counter

import pytest
from vectors_data import KNOWN_DISAGREEMENTS, REQUIRED, VECTOR_COUNT

from hullscan.versions import get_scheme
from hullscan.versions.__main__ import answer


def _correct(rec: dict) -> bool:
    got = answer(rec)
    if rec["kind"] == "compare":
        n = int(got)
        return (n > 0) - (n < 0) == rec["expect"]
    return got == ("true" if rec["expect"] else "false")


def _score(records: list[dict]) -> tuple[Counter, Counter, list[dict]]:
    total: Counter = Counter()
    ok: Counter = Counter()
    wrong = []
    for rec in records:
        total[rec["kind"]] += 1
        if _correct(rec):
            ok[rec["kind"]] += 1
        else:
            wrong.append(rec)
    return total, ok, wrong


@pytest.mark.parametrize("scheme", REQUIRED)
def test_required_scheme_is_exact(vectors, scheme, record_property):
    records = vectors[scheme]
    total, ok, wrong = _score(records)
    for kind in sorted(total):
        record_property(f"{scheme}.{kind}", f"{ok[kind]}/{total[kind]}")
        print(f"{scheme:9} {kind:10} {ok[kind]:6}/{total[kind]:<6} {100 * ok[kind] / total[kind]:.2f}%")
    unexpected = [r for r in wrong if r["id"] not in KNOWN_DISAGREEMENTS]
    assert not unexpected, "\n".join(
        f"{r['id']} {r['kind']} {r.get('a', r.get('version'))!r} {r.get('b', r.get('constraint'))!r} "
        f"expect {r['expect']} ({r['source']})" for r in unexpected[:20]
    )
    known_here = {r["id"] for r in records} & KNOWN_DISAGREEMENTS.keys()
    assert {r["id"] for r in wrong} == known_here, "a known disagreement now agrees: drop it"


@pytest.mark.parametrize("scheme", ["jvm", "bitnami", "kb", "fuzzy"])
def test_optional_scheme_report(vectors, scheme):
    total, ok, _ = _score(vectors.get(scheme, []))
    for kind in sorted(total):
        print(f"{scheme:9} {kind:10} {ok[kind]:6}/{total[kind]:<6} {100 * ok[kind] / total[kind]:.2f}% (optional)")
    assert sum(total.values()) > 0


def test_the_vector_file_is_whole(vectors):
    """All the records the vectors README counts, each id once: a cut file cannot pass silently."""
    ids = [r["id"] for records in vectors.values() for r in records]
    assert len(ids) == VECTOR_COUNT
    assert len(set(ids)) == VECTOR_COUNT
    assert set(REQUIRED) <= vectors.keys()


def test_every_scheme_in_the_file_is_known(vectors):
    for name in vectors:
        assert get_scheme(name).name == name
