"""Trivy-style advisories (vulnerable / patched / unaffected lists) in each ecosystem's syntax.
Expected values follow trivy's documented rule and each ecosystem's range semantics, worked out
by hand."""

from __future__ import annotations

import pytest

from hullscan.versions import constraints, get_scheme


@pytest.mark.parametrize(
    "scheme, version, vulnerable, patched, unaffected, want",
    [
        ("npm", "1.2.3", ["*"], [], [], True),
        ("npm", "1.2.3", ["<=99.999.99999"], ["<0.0.0"], [], True),
        ("npm", "2.1.0-M1", ["2.1.0-M1", "2.1.0-M2"], [">=2.1.0"], [], True),
        ("npm", "1.2.4", ["!1.0.0"], [], [], False),           # unreadable range: no finding
        ("pep440", "1.2.3", ["*"], [], [], True),
        ("pep440", "2.0.0", [">=2.0.0 <2.0.8"], [">=2.0.8"], [], True),  # space-separated
        ("pep440", "1.2..4", ["<1.0.0"], [], [], False),      # not PEP 440: matches nothing
        ("gem", "1.2.3.a", [], [">=1.2.3"], [], True),
        ("gem", "4.1a", [], [], ["< 4.2b1"], False),
        ("gem", "1.2.4", [], ["!1.2.0"], [], False),           # unreadable requirement
        ("maven", "1.2.3.final", ["<1.2.3"], ["1.2.3"], [], False),
        ("maven", "1.2.3", ["(,1.2.3]"], ["1.2.4"], [], True),
        ("bitnami", "1.2.3-r1", [], [">=1.2.3"], [], False),
        ("bitnami", "1.2.3-r0", [], [">=1.2.3-r1"], [], True),
        ("bitnami", "1.2.3", [], [], [], False),
    ],
)
def test_advisory(scheme, version, vulnerable, patched, unaffected, want):
    s = get_scheme(scheme)
    assert constraints.advisory(s, version, vulnerable, patched, unaffected, f"trivy-{scheme}") is want
