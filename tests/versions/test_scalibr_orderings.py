"""osv-scalibr's version-ordering fixtures (testdata/osv-scalibr): each line `a OP b` must hold
both ways round."""

from __future__ import annotations

from vectors_data import read_orderings

from hullscan.versions import apk, get_scheme

_SIGN = {"<": -1, "=": 0, ">": 1}


def test_orderings():
    failures = []
    counted = 0
    orderings = read_orderings()
    # the 12 hand-written *-versions.txt files and the 7 *-generated.txt members of the tarball
    assert len(orderings) == 19, [name for name, _, _ in orderings]
    for name, scheme_name, rows in orderings:
        scheme = get_scheme(scheme_name)
        for a, op, b in rows:
            counted += 1
            want = _SIGN[op]
            if scheme.compare(a, b) != want or scheme.compare(b, a) != -want:
                failures.append(f"{name}: {a} {op} {b}")
    assert counted > 70_000
    assert not failures, "\n".join(failures[:30])


def test_keys_sort_like_compare():
    """`key` must order exactly like `compare` (sorting relies on it)."""
    for name, scheme_name, rows in read_orderings():
        scheme = get_scheme(scheme_name)
        for a, op, b in rows[:3000]:
            if scheme_name == "apk" and apk.parse(a)[1] and apk.parse(b)[1]:
                continue  # two unparsable apk versions compare as text; no key can say that
            ka, kb = scheme.key(a), scheme.key(b)
            got = (ka > kb) - (ka < kb)
            assert got == _SIGN[op], f"{name}: key order of {a} {op} {b}"
