"""Fuzz: the OSV distro naming (os-release text → ecosystem, ESM from apt sources and the Pro status file)
and the stored-variant / scheme choice for arbitrary ecosystem strings. The apt sources parser also runs
in the analyzers stage (test_fuzz_analyzers.py), rule by rule; here it meets os-release text with it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hullscan.inventory.os_release import APT_SOURCES, UA_STATUS, OSReleaseAnalyzer, detect_os, parse_os_release
from hullscan.versions import scheme_for_ecosystem
from hullscan.vulndb.ecosystems import lookup_variants

_IDS = st.sampled_from(["ubuntu", "openEuler", "opensuse-leap", "opensuse-tumbleweed", "sles", "mariner",
                        "azurelinux", "echo", "minimos", "almalinux", "rocky", "photon", ""])
_VALUES = st.text(max_size=40)


def _parse(path: str, data: bytes) -> object:
    rule = next(r for r in OSReleaseAnalyzer.files if path in r.paths or any(g.startswith(path) for g in r.globs))
    return rule.parse(path, data, lambda msg: None)


@given(os_id=_IDS, version_id=_VALUES, version=_VALUES, pretty=_VALUES, sources=st.binary(max_size=200),
       status=st.binary(max_size=200))
def test_detect_os_never_raises(os_id, version_id, version, pretty, sources, status):
    text = f"ID={os_id}\nVERSION_ID={version_id!r}\nVERSION={version!r}\nPRETTY_NAME={pretty!r}\n"
    facts = {"/etc/os-release": {"fields": parse_os_release(text)},
             APT_SOURCES[1]: _parse(APT_SOURCES[1], sources), UA_STATUS: _parse(UA_STATUS, status)}
    info = detect_os(facts)
    if info is not None and info.ecosystem:
        assert lookup_variants(info.ecosystem)[0]


@given(ecosystem=st.text(max_size=60))
def test_variants_and_scheme_never_raise(ecosystem):
    variants = lookup_variants(ecosystem)
    assert variants and len(variants) == len(set(variants))
    scheme_for_ecosystem(ecosystem)
