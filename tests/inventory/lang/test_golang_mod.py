"""go.mod / go.sum: declared modules compared with `go mod edit -json` and trivy's gomod golden."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.golang import GoModAnalyzer
from testsupport import REPO, read_tree, require_tool

LOCKS = Path(__file__).resolve().parent / "testdata"  # per-format fixtures (PROVENANCE.md there)
TRIVY = REPO / "tests/match/testdata/trivy-integration"  # kept by the match tests


def go_mod_edit(path: Path) -> dict:
    """The Go toolchain's own parse of a go.mod."""
    out = subprocess.run([require_tool("go"), "mod", "edit", "-json", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def expected_requires(parsed: dict) -> set[tuple[str, str, bool]]:
    """Require list with Replace directives applied (module → module@version)."""
    mods = {r["Path"]: (r["Version"], bool(r.get("Indirect"))) for r in parsed.get("Require") or []}
    for rep in parsed.get("Replace") or []:
        old, new = rep["Old"], rep["New"]
        if old["Path"] in mods and old.get("Version", mods[old["Path"]][0]) == mods[old["Path"]][0]:
            _, indirect = mods.pop(old["Path"])
            mods[new["Path"]] = (new.get("Version", "(devel)"), indirect)
    return {(p, v, i) for p, (v, i) in mods.items()}


def run(tree: dict[str, bytes | None]):
    return analyze_files([GoModAnalyzer()], [tree])


def test_trivy_gomod_case():
    repo = TRIVY / "fixtures/repo/gomod"
    inv = run(read_tree(repo, "/src"))
    assert not inv.warnings
    by_file: dict[str, set] = {}
    for p in inv.packages:
        by_file.setdefault(p.paths[0], set()).add((p.name, p.version, p.indirect))
        assert p.kind == "declared" and p.ecosystem == "Go" and p.analyzer == "gomod"
    # go 1.17 module: exactly what go.mod requires
    assert by_file["/src/go.mod"] == expected_requires(go_mod_edit(repo / "go.mod"))
    # go 1.15 modules: go.mod requires plus the modules go.sum hashed
    for sub in ("submod", "submod2"):
        assert expected_requires(go_mod_edit(repo / sub / "go.mod")) <= by_file[f"/src/{sub}/go.mod"]
    # the packages trivy's golden reports, per target, with its purls
    golden = json.loads((TRIVY / "goldens/gomod.json.golden").read_text())
    purls = {(p.paths[0], p.purl) for p in inv.packages}
    for result in golden["Results"]:
        for v in result["Vulnerabilities"]:
            assert ("/src/" + result["Target"], v["PkgIdentifier"]["PURL"]) in purls


@pytest.mark.parametrize("case", ["osv-scanner-go-integration", "trivy-parser/replaced",
                                  "trivy-parser/replaced-with-version", "trivy-parser/go116",
                                  "syft-many-packages"])
def test_fixtures_match_go_mod_edit(case):
    root = LOCKS / "go" / case
    inv = run(read_tree(root, "/w"))
    assert not inv.warnings
    got = {(p.name, p.version, p.indirect) for p in inv.packages}
    expected = expected_requires(go_mod_edit(root / "go.mod"))
    parsed = go_mod_edit(root / "go.mod")
    if (root / "go.sum").exists() and parsed["Go"] in ("1.14", "1.15", "1.16"):
        assert expected <= got  # plus what go.sum hashed
        sums = {tuple(line.split()[:2]) for line in (root / "go.sum").read_text().splitlines() if line.strip()}
        assert all((n, v) in sums for n, v, i in got - expected)
    else:
        assert got == expected


def test_go_1_16_adds_go_sum_modules_hand_checked():
    inv = run(read_tree(LOCKS / "go/trivy-parser/go116", "/w"))
    names = {p.name: p for p in inv.packages}
    # go.sum hashes gopkg.in/yaml.v3 and github.com/BurntSushi/toml content (not only go.mod)
    assert names["github.com/aquasecurity/go-dep-parser"].version == "v0.0.0-20211224170007-df43bca6b6ff"
    assert not names["github.com/aquasecurity/go-dep-parser"].indirect
    assert names["gopkg.in/yaml.v3"].indirect


def test_newer_directives_hand_checked():
    # go 1.22 syntax (`toolchain`) that Debian's go 1.19 refuses; checked by reading the file
    inv = run(read_tree(LOCKS / "go/trivy-parser/normal", "/w"))
    assert not inv.warnings
    text = (LOCKS / "go/trivy-parser/normal/go.mod").read_text()
    for p in inv.packages:
        assert f"{p.name} {p.version}" in text


def test_malformed_go_mod_warns_and_goes_on():
    bad = b"module x\n\nrequire (\n\tgithub.com/a/b\n\tgithub.com/c/d v1.2.3\n"
    inv = run({"/a/go.mod": bad, "/b/go.mod": b"module y\ngo 1.21\nrequire golang.org/x/text v0.3.6\n"})
    assert {(p.paths[0], p.name, p.version) for p in inv.packages} == {
        ("/a/go.mod", "github.com/c/d", "v1.2.3"), ("/b/go.mod", "golang.org/x/text", "v0.3.6")}
    assert len(inv.warnings) == 2  # the path-only require line, the unterminated block
