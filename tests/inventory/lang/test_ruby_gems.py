"""Ruby: installed gemspecs and Gemfile.lock (fixtures, hand-checked against the files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.ruby import RubyGemsAnalyzer

LOCKS = Path(__file__).resolve().parent / "testdata"  # per-format fixtures (PROVENANCE.md there)


@pytest.mark.parametrize("rel,name,version,licenses", [
    ("syft/formatador.gemspec", "formatador", "1.1.0", ("MIT",)),
    ("syft/bundler.gemspec", "bundler", "2.1.4", ("MIT",)),
    ("trivy-parser/normal00.gemspec", "rake", "13.0.3", ("MIT",)),
    ("trivy-parser/license.gemspec", "async", "1.25.0", ("MIT",)),
    ("trivy-parser/multiple_licenses.gemspec", "test-unit", "3.3.7", ("Ruby", "BSDL", "PSFL")),
    ("trivy-parser/normal01.gemspec", "async", "1.25.0", ("MIT",)),
])
def test_gemspec_fixtures(rel, name, version, licenses):
    data = (LOCKS / "ruby/gemspec" / rel).read_bytes()
    path = f"/usr/local/lib/ruby/gems/3.1.0/specifications/{name}-{version}.gemspec"
    inv = analyze_files([RubyGemsAnalyzer()], [{path: data}])
    assert not inv.warnings
    assert [(p.name, p.version, p.licenses, p.purl, p.kind) for p in inv.packages] == [
        (name, version, licenses, f"pkg:gem/{name}@{version}", "installed")]


def _spec_lines(text: str) -> set[tuple[str, str]]:
    """Independent reading: four-space `name (version)` lines of the GEM/GIT/PATH sections."""
    out, section = set(), ""
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line
        elif section in ("GEM", "GIT", "PATH") and re.fullmatch(r"    [^ ].*", line):
            name, version = line.strip().split(" ", 1)
            out.add((name, version.strip("()").split("-")[0]))
    return out


@pytest.mark.parametrize("rel", ["syft/Gemfile.lock", "trivy-parser/Gemfile_normal.lock", "trivy-parser/Gemfile_bundler2.lock"])
def test_gemfile_lock_fixtures(rel):
    text = (LOCKS / "ruby/bundler" / rel).read_text()
    inv = analyze_files([RubyGemsAnalyzer()], [{"/app/Gemfile.lock": text.encode()}])
    assert not inv.warnings
    assert {(p.name, p.version) for p in inv.packages} == _spec_lines(text)
    deps = set(re.findall(r"^  ([^ !\n]+)", text.split("DEPENDENCIES", 1)[1].split("\n\n")[0], re.MULTILINE))
    assert {p.name for p in inv.packages if not p.indirect} == deps & {p.name for p in inv.packages}
    assert all(p.kind == "declared" and p.ecosystem == "RubyGems" for p in inv.packages)


def test_gemfile_lock_hand_checked():
    text = (LOCKS / "ruby/bundler/syft/Gemfile.lock").read_bytes()
    inv = analyze_files([RubyGemsAnalyzer()], [{"/app/Gemfile.lock": text}])
    by = {p.name: p for p in inv.packages}
    assert by["google-cloud-errors"].extra["source"] == "path" and not by["google-cloud-errors"].indirect
    assert by["turbolinks"].version == "3.0.0" and by["turbolinks"].extra["source"] == "git"
    assert by["actionpack"].version == "4.1.1" and by["actionpack"].indirect
    assert "bad-entry" not in by  # BAD-SECTION is not a source section


def test_malformed_ruby_files_warn_and_go_on():
    good = (LOCKS / "ruby/gemspec/syft/formatador.gemspec").read_bytes()
    inv = analyze_files([RubyGemsAnalyzer()], [{"/g/specifications/bad-1.0.gemspec": b"\x00\x01garbage",
                                                "/g/specifications/formatador-1.1.0.gemspec": good,
                                                "/x/Gemfile.lock": b"    only (1.0)\n"}])
    assert {w.path for w in inv.warnings} == {"/g/specifications/bad-1.0.gemspec", "/x/Gemfile.lock"}
    assert [p.name for p in inv.packages] == ["formatador"]
    assert not RubyGemsAnalyzer().rule_for("/usr/lib/ruby/gems/3.1.0/gems/rack-2.2.3/Gemfile.lock", 10, 0o644)
