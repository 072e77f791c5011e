"""Engine behaviour: rule file sanity, binary sniffing, size cap, huge lines, config errors, masking."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from hullscan.errors import InputError
from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers, analyzers_for
from hullscan.secrets import build_ruleset, default_ruleset, load_ruleset, scan_bytes
from hullscan.secrets.analyzer import SecretAnalyzer
from hullscan.secrets.config_scan import scan_image_config
from testsupport import read_tree

CORPUS = Path(__file__).resolve().parent / "corpus"
GHP = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"  # format-valid, fabricated


def test_rule_file_sanity() -> None:
    rs = default_ruleset()
    ids = [r.id for r in rs.rules]
    assert len(ids) >= 80 and len(ids) == len(set(ids))
    for r in rs.rules:
        assert r.keywords or r.exact_keywords, f"{r.id}: built-in rules need keywords (prefilter)"
        assert all(k == k.lower() for k in r.keywords)
        assert r.severity in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert r.secret_groups, f"{r.id}: built-in rules name their secret group"
        assert set(r.secret_groups) <= set(r.regex.groupindex)  # compiles (lazily at scan time)


def _corpus_layers() -> list[dict]:
    """The corpus image's four layers as {path: bytes}, with each layer's whiteouts as None."""
    whiteouts = json.loads((CORPUS / "whiteouts.json").read_text())
    layers = []
    for i in range(4):
        layer = dict(read_tree(CORPUS / "layers" / str(i)))
        layer.update(dict.fromkeys(whiteouts.get(str(i), [])))
        layers.append(layer)
    return layers


def test_every_builtin_rule_has_a_corpus_case() -> None:
    layers = _corpus_layers()
    hit = {f["rule_id"] for f in analyze_files([SecretAnalyzer()], layers).facts["secret"]}
    hit |= {f["rule_id"] for f in scan_image_config(json.loads((CORPUS / "config.json").read_text()))}
    assert [r.id for r in default_ruleset().rules if r.id not in hit] == []


def test_registered_for_secret_scanner_only() -> None:
    assert any(isinstance(a, SecretAnalyzer) for a in all_analyzers())
    assert any(isinstance(a, SecretAnalyzer) for a in analyzers_for({"secret"}))
    assert not any(isinstance(a, SecretAnalyzer) for a in analyzers_for({"vuln"}))


def test_binary_files_skipped_by_content() -> None:
    assert scan_bytes("/app/blob", b"\x00\x01" + f"token={GHP}".encode()) == []
    assert scan_bytes("/app/blob", f"token={GHP}\n".encode())
    assert scan_bytes("/app/blob", b"\x7fELF\x00\x00" + f" {GHP} ".encode()) == []


def test_size_cap_and_huge_single_line() -> None:
    filler = b"x=1;" * 2_500_000  # 10 MB on one line, with keywords sprinkled all over
    data = filler[:5_000_000] + f' k="{GHP}" '.encode() + filler[:4_000_000] + b"token=abc;" * 1000
    t = time.perf_counter()
    found = scan_bytes("/app/bundle.js", data)
    assert time.perf_counter() - t < 10.0  # ~0.1 s here; generous for a loaded CI box
    assert [f.rule_id for f in found] == ["github-pat"]
    assert len(found[0].match) < 260  # context cut around the secret, not the 10 MB line
    # bytes beyond the cap are not scanned
    assert scan_bytes("/app/bundle.js", b"a" * 100 + f" {GHP}".encode(), max_size=50) == []
    an = SecretAnalyzer()
    assert not an.rule_for("/app/big.json", an.max_size + 1, 0o644)
    assert not an.rule_for("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", 1000, 0o644)
    assert not an.rule_for("/app/.git/objects/ab/cdef", 1000, 0o644)
    assert not an.rule_for("/usr/share/doc/bash/README", 1000, 0o644)
    assert an.rule_for("/app/.env", 1000, 0o644)


def test_masking_and_fingerprint() -> None:
    [f] = scan_bytes("/app/.env", f"GH={GHP}\n".encode())
    assert GHP not in json.dumps(f.to_dict()) and GHP[4:] not in f.match
    assert f.match == "GH=ghp_" + "*" * 36
    [g] = scan_bytes("/app/.env", f"\n\n# moved\nGH={GHP}\n".encode())
    assert g.fingerprint == f.fingerprint and g.start_line == 4
    [h] = scan_bytes("/srv/.env", f"GH={GHP}\n".encode())
    assert h.fingerprint != f.fingerprint
    # two secrets on one line: each finding masks both
    found = scan_bytes("/app/.env", f"A={GHP} B=AKIA2E3F4G5H6J7K2L3M\n".encode())
    assert len(found) == 2
    for x in found:
        assert GHP[4:] not in x.match and "2E3F4G5H6J7K2L3M" not in x.match


def test_secret_config_errors_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: r\n    regex: '(unclosed'\n")
    with pytest.raises(InputError):
        load_ruleset(bad)
    bad.write_text("rules: [1, 2\n")
    with pytest.raises(InputError):
        load_ruleset(bad)
    with pytest.raises(InputError):
        load_ruleset(tmp_path / "missing.yaml")
    with pytest.raises(InputError):
        build_ruleset({"rules": [{"id": "x"}]})


def test_secret_config_adds_disables_and_allows(tmp_path: Path) -> None:
    cfg = tmp_path / "secret.yaml"
    cfg.write_text(
        "rules:\n"
        "  - id: acme-internal\n    category: Acme\n    title: Acme token\n    severity: high\n"
        "    keywords: [acme_]\n    regex: 'acme_[0-9a-f]{16}'\n"
        "disable-rules: [aws-access-key-id]\n"
        "allow-rules:\n  - id: vendored\n    path: '^/vendor/'\n"
    )
    an = SecretAnalyzer.with_config(cfg)
    assert an.version != SecretAnalyzer.version
    data = f"T=acme_0123456789abcdef\nK=AKIA2E3F4G5H6J7K2L3M\nG={GHP}\n".encode()
    found = scan_bytes("/app/x", data, an.ruleset)
    assert [(f.rule_id, f.severity, f.start_line) for f in found] == [("acme-internal", "HIGH", 1), ("github-pat", "CRITICAL", 3)]
    assert scan_bytes("/vendor/x", data, an.ruleset) == []


def test_go_style_regex_features() -> None:
    rs = build_ruleset({"rules": [{"id": "two", "regex": r"u=(?P<secret>\w{6}) p=(?P<secret>\w{6})\z", "secret-group-name": "secret"}]})
    found = scan_bytes("/a", b"u=abcdef p=ghijkl", rs)
    assert [f.offset for f in found if f.rule_id == "two"] == [2, 11]
    assert re.search(r"\*{6} p=\*{6}", found[0].match)


@pytest.mark.parametrize(
    "unit",
    [
        b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + b"A" * 60 + b"\n",  # BEGIN without END, many times
        b"PuTTY-User-Key-File-3: x\nEncryption: none\n",
        b"sv=2020-01-01&sig=",
        b"password=abc ",
        b"https://a:b@ ",
        b"A" * 64,  # base64 zero runs (fonts in CSS): no keyword may hit at every byte
    ],
)
def test_adversarial_repetition_is_linear(unit: bytes) -> None:
    """1 MB of a repeated keyword-bearing unit: bounded time (no quadratic regex), nothing found."""
    data = unit * (1_000_000 // len(unit))
    t = time.perf_counter()
    assert scan_bytes("/app/x", data) == []
    assert time.perf_counter() - t < 20.0  # ~0.5 s here; quadratic cases took minutes


def test_pyahocorasick_fallback_finds_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no Hyperscan wheel exists the prefilter and path matcher fall back to pyahocorasick and
    `re`: same findings on the corpus."""
    import hullscan.secrets.prefilter as pf

    layers = _corpus_layers()

    from hullscan.secrets.engine import _compiled

    backends = []

    def run() -> list[tuple]:
        rs = build_ruleset(None)
        backends.append(_compiled(rs).prefilter.backend)
        facts = analyze_files([SecretAnalyzer(rs)], layers).facts["secret"]
        return sorted((f["path"], f["line"]["start"], f["rule_id"], f["match"]) for f in facts)

    fast = run()
    monkeypatch.setattr(pf, "_hs", None)
    slow = run()
    assert backends == ["hyperscan", "pyahocorasick"]
    assert fast == slow and len(fast) > 100


def test_trivy_relative_paths_match_absolute_image_paths() -> None:
    rs = build_ruleset({
        "rules": [{"id": "r", "regex": "tok_[0-9]{6}", "path": "^app/"}],
        "allow-rules": [{"id": "skip", "path": "^srv/fixtures/"}],
    })
    assert [f.rule_id for f in scan_bytes("/app/a", b"tok_123456", rs)] == ["r"]
    assert scan_bytes("/opt/app/a", b"tok_123456", rs) == []
    assert scan_bytes("/srv/fixtures/a", f"{GHP}".encode(), rs) == []
    assert [f.rule_id for f in scan_bytes("/srv/a", f"{GHP}".encode(), rs)] == ["github-pat"]
