"""Trivy's skip-glob syntax (inventory/skip.py). Expected matches come from the documentation of the
`doublestar` library Trivy uses (its README's examples: `**/child*`, `grandparent/**/child?`,
`/path/**`, `**` must be a segment of its own) and Trivy's "Skipping files" page
(`./testdata/*/bar` skips a file `bar` in the subdirectories of testdata; `./foo/**/*.tf` the `.tf`
files under foo at any depth)."""

from __future__ import annotations

import re

import pytest

from hullscan.errors import UsageError
from hullscan.inventory.skip import SkipPaths, glob_regex, split_globs
from hullscan.model.inventory import LayerRef
from hullscan.walk.analyzer import LayerFacts


@pytest.mark.parametrize(("glob", "path", "matches"), [
    ("**/child*", "grandparent/parent/child1", True),
    ("grandparent/**/child?", "grandparent/parent/child2", True),
    ("grandparent/**/child?", "grandparent/child2", True),  # ** is zero segments too
    ("**/parent/*", "grandparent/parent/child1", True),
    ("**/parent/*", "grandparent/parent/child1/x", False),
    ("**", "grandparent/parent/child1", True),
    ("/path**", "pathology", True),  # not a segment of its own: the same as /path*
    ("/path**", "path/x", False),
    ("/path/**", "path/a/b", True),
    ("./testdata/*/bar", "testdata/x/bar", True),
    ("./testdata/*/bar", "testdata/x/y/bar", False),
    ("./foo/**/*.tf", "foo/main.tf", True),
    ("./foo/**/*.tf", "foo/a/b/main.tf", True),
    ("./foo/**/*.tf", "bar/foo/main.tf", False),
    ("*.{js,ts}", "index.ts", True),
    ("*.{js,ts}", "src/index.ts", False),  # `*` stays in its directory
    ("{app,srv}/*.conf", "srv/x.conf", True),
    ("[a-c]x", "bx", True),
    ("[!a-c]x", "bx", False),
    ("[^a-c]x", "dx", True),
    ("\\*", "*", True),
    ("\\*", "a", False),
    ("/app/.env", "app/.env", True),
    ("app//config/", "app/config", True),  # cleaned as Trivy cleans it
])
def test_doublestar_semantics(glob: str, path: str, matches: bool) -> None:
    assert (re.fullmatch(glob_regex(glob), path) is not None) is matches


@pytest.mark.parametrize(("glob", "problem"), [("[abc", "unclosed ["), ("{a,b", "unclosed {"), ("", "not a path"),
                                                ("/", "not a path"), ("../etc", "not a path")])
def test_bad_globs_are_usage_errors(glob: str, problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)):
        glob_regex(glob, "--skip-dirs")


def test_repeated_and_comma_separated() -> None:
    assert split_globs(["a,b", "c,{d,e}", "a", ""]) == ("a", "b", "c", "{d,e}")


def test_dirs_skip_everything_under_them_and_the_tally_says_what() -> None:
    skip = SkipPaths(files=["**/*.pem"], dirs=["**/.git", "usr/lib/python*"])
    assert skip.reason("/.git/config") == "/.git/"
    assert skip.reason("/src/.git/objects/ab/cd") == "/src/.git/"
    assert skip.reason("/usr/lib/python3.11/site-packages/x/METADATA") == "/usr/lib/python3.11/"
    assert skip.reason("/etc/ssl/key.pem") == "/etc/ssl/key.pem"
    assert skip.reason("/usr/lib/libc.so") is None and skip.reason("/.gitignore") is None
    lower = LayerFacts(ref=LayerRef(index=0, diff_id=""), written={"/.git/config", "/.git/HEAD", "/app/main.py"},
                       facts={"secret": {"/.git/config": {"x": 1}, "/app/main.py": {"x": 2}}})
    upper = LayerFacts(ref=LayerRef(index=1, diff_id=""), written={"/.git/HEAD", "/srv/tls.pem"},
                       facts={"secret": {"/srv/tls.pem": {"x": 3}}})
    kept = skip.filter([lower, upper])
    assert [lf.facts for lf in kept] == [{"secret": {"/app/main.py": {"x": 2}}}, {"secret": {}}]
    assert lower.facts["secret"].keys() == {"/.git/config", "/app/main.py"}  # the cached layers are left whole
    assert skip.tally == {"/.git/": 2, "/srv/tls.pem": 1}  # distinct files: /.git/HEAD once
    assert skip.describe() == "skipped 3 files: /.git/ (2), /srv/tls.pem"
