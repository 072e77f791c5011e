"""Node import level (reach/node.py) on real npm packages: ms 2.1.3, escape-html 1.0.3, is-number 7.0.0
and semver 7.6.0 (with its dependencies lru-cache and yallist) installed with `npm install` (cached),
and an application written here that requires two of the four. The expected levels follow from the
application's text; Node itself is the oracle: the entry required under a `Module._load` hook that
records every file it resolves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _reach_lang import image_root, levels, npm_tree

from testsupport import require_tool

APP = {
    "/app/main.js": "const ms = require('ms');\nconst semver = require('semver');\nconsole.log(ms('2h'), semver.valid('1.2.3'));\n",
    "/app/esm.mjs": "import escape from 'escape-html';\nexport { default as n } from 'is-number';\nconsole.log(escape('<'));\n",
    "/app/dyn.js": "const name = process.argv[2];\nmodule.exports = require(name);\n",
    "/app/locale.js": "module.exports = (l) => require('./locales/' + l);\n",
    "/app/locales/en.js": "module.exports = require('ms');\n",
}
# the oracle: every file Node's loader resolves while requiring the entry
HOOK = ("const M=require('module');const load=M._load;const seen=new Set();"
        "M._load=function(r,p,m){try{seen.add(M._resolveFilename(r,p,m))}catch(e){}return load.apply(this,arguments)};"
        "require(process.argv[1]);console.error(JSON.stringify([...seen]))")


@pytest.fixture(scope="module")
def tree() -> Path:
    return npm_tree()


@pytest.fixture
def root(tmp_path: Path, tree: Path) -> Path:
    return image_root(tmp_path, tree, APP)


def _oracle(root: Path, entry: str) -> set[str]:
    node = require_tool("node")
    out = subprocess.run([node, "-e", HOOK, str(root / entry.lstrip("/"))], capture_output=True, text=True,
                         timeout=60, check=True, cwd=root / "app")
    files = json.loads(out.stderr.strip().splitlines()[-1])
    return {f.split("/node_modules/")[-1].split("/")[0] for f in files if "/node_modules/" in f}


def test_node_main_requires_two_of_four(root: Path) -> None:
    got = levels(root, ("node", "main.js"))
    reachable = {n for n, r in got.items() if r.level == "reachable"}
    # main.js requires ms and semver; semver 7.6 requires lru-cache, which requires yallist
    assert reachable == {"ms", "semver", "lru-cache", "yallist"} == _oracle(root, "/app/main.js")
    assert got["escape-html"].level == got["is-number"].level == "not_imported"
    assert got["ms"].evidence == ("/app/main.js", "/app/node_modules/ms")
    assert got["ms"].method == "node-imports"


def test_esm_imports_and_reexports(root: Path) -> None:
    got = levels(root, ("node", "/app/esm.mjs"))
    assert {n for n, r in got.items() if r.level == "reachable"} == {"escape-html", "is-number"}


def test_npm_start_and_package_main(root: Path) -> None:
    pkg = json.loads((root / "app/package.json").read_text())
    (root / "app/package.json").write_text(json.dumps({**pkg, "main": "esm.mjs", "scripts": {"start": "node main.js"}}))
    got = levels(root, ("npm", "start"))
    assert got["semver"].level == "reachable" and got["escape-html"].level == "not_imported"
    got = levels(root, ("node", "."))  # the directory: package.json main
    assert got["escape-html"].level == "reachable" and got["ms"].level == "not_imported"


def test_computed_require_is_unknown(root: Path) -> None:
    got = levels(root, ("node", "dyn.js"))
    assert {r.level for r in got.values()} == {"unknown"}
    assert got["ms"].evidence == ("/app/dyn.js:2 imports a module named at run time",)
    # a literal prefix bounds it: every file under ./locales/ counts as loaded
    got = levels(root, ("node", "locale.js"))
    assert got["ms"].level == "reachable" and got["semver"].level == "not_imported"


def test_not_node(root: Path) -> None:
    got = levels(root, ("python3", "app.py"))
    assert got["ms"].evidence == ("the entrypoint is not a Node program",)
