"""The policy's `base_images` section on hand-built reports: allow and deny patterns (tag globs, digests,
any spelling of a repository), max_age_days (an unknown date fails, saying so), require_known (methods
none, history and similar fail); every reason names the base found. Plus the schema, a bad pattern (exit 2)
and one CLI run (`hullscan convert` of a saved report, judged by a policy file)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from hullscan.errors import InputError
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.report import Report
from hullscan.policy.gate import exit_code_for, judge
from hullscan.policy.load import load_policy
from hullscan.policy.model import BaseImageRule, Policy
from hullscan.report.json_report import render as render_json

TODAY = date(2026, 12, 1)
DIGEST = "sha256:" + "b" * 64
OTHER = "sha256:" + "c" * 64


def report(base: BaseImage) -> Report:
    return Report(created_at="2026-12-01T00:00:00Z", target=Target("docker-archive:app.tar", "docker-archive", "app:1"),
                  layers=(), scanners=("vuln",), os=None, config=ImageConfig(raw={}), base_image=base, packages=())


def catalogued(name: str = "debian:12.5", digest: str = DIGEST, created: str | None = "2026-11-01T10:00:00Z") -> BaseImage:
    return BaseImage(2, name, digest, "catalog", provisional=False, created=created, catalog_id=1)


def failed(rule: BaseImageRule, base: BaseImage) -> dict[str, tuple[str, ...]]:
    verdict = judge(report(base), Policy(base_images=rule, gate=True), TODAY).verdict
    assert verdict is not None
    return {r.rule: r.findings for r in verdict.failed_rules}


@pytest.mark.parametrize(("pattern", "hit"), [
    ("debian:12*", True),                      # tag glob
    ("debian:12.5", True),
    ("debian:12", False),                      # a tag without a glob is that tag only
    ("debian", True),                          # any tag
    ("docker.io/library/debian:12.*", True),   # another spelling of the repository
    ("debian:11*", False),
    ("ubuntu", False),
    ("deb*", True),                            # repository glob
    ("debian:12.[0-9]", True),                 # a character class
    ("debian:12.[!5]", False),
    (DIGEST, True),                            # the base's digest
    (OTHER, False),
    (f"debian@{DIGEST}", True),
    (f"debian@{OTHER}", False),
    (f"ubuntu@{DIGEST}", False),
])
def test_allow_patterns(pattern: str, hit: bool) -> None:
    got = failed(BaseImageRule(allow=(pattern,)), catalogued())
    if hit:
        assert got == {}
    else:
        assert got == {"base_images.allow": (f"debian:12.5 (sha256:bbbbbbbbbbbb, by catalog): matches none of {pattern}",)}


def test_registry_names_and_globs() -> None:
    base = catalogued("ghcr.io/acme/base/python:3.12-slim")
    assert failed(BaseImageRule(allow=("ghcr.io/acme/*",)), base) == {}
    assert failed(BaseImageRule(allow=("ghcr.io/acme/base/python:3.12-*",)), base) == {}
    assert "base_images.allow" in failed(BaseImageRule(allow=("ghcr.io/other/*",)), base)
    # a host with a port is not a tag
    assert failed(BaseImageRule(allow=("127.0.0.1:5000/base:1*",)), catalogued("127.0.0.1:5000/base:1.2")) == {}


def test_deny_names_the_pattern_and_the_base() -> None:
    got = failed(BaseImageRule(deny=("debian:11*", "debian:12*")), catalogued())
    assert got == {"base_images.deny": ("debian:12.5 (sha256:bbbbbbbbbbbb, by catalog): matches debian:12*",)}
    assert failed(BaseImageRule(deny=("debian:11*",)), catalogued()) == {}
    # an annotation (the image's own word, verified when the catalog knows the digest) is identified too
    annotated = BaseImage(None, "docker.io/library/debian:11", "", "annotation")
    assert failed(BaseImageRule(deny=("debian:11",)), annotated) == {
        "base_images.deny": ("docker.io/library/debian:11 (by annotation): matches debian:11",)}


def test_max_age_days() -> None:
    # created 2026-11-01, judged 2026-12-01: 30 days old
    assert failed(BaseImageRule(max_age_days=30), catalogued()) == {}
    assert failed(BaseImageRule(max_age_days=29), catalogued()) == {"base_images.max_age_days": (
        "debian:12.5 (sha256:bbbbbbbbbbbb, by catalog): created 2026-11-01, 30 days ago",)}
    # an unknown date is a reason of its own, not a pass
    assert failed(BaseImageRule(max_age_days=365), catalogued(created=None)) == {"base_images.max_age_days": (
        "debian:12.5 (sha256:bbbbbbbbbbbb, by catalog): its creation date is unknown, so its age cannot be checked",)}
    assert failed(BaseImageRule(max_age_days=365), catalogued(created="yesterday")) == {"base_images.max_age_days": (
        "debian:12.5 (sha256:bbbbbbbbbbbb, by catalog): its creation date is unreadable ('yesterday')",)}
    assert failed(BaseImageRule(max_age_days=365), BaseImage(None)) == {"base_images.max_age_days": (
        "no identified base (method none): its creation date is unknown, so its age cannot be checked",)}


@pytest.mark.parametrize(("base", "named"), [
    (BaseImage(None), "no identified base (method none)"),
    (BaseImage(3, method="history"), "no identified base (bottom 3 layers by the history heuristic only)"),
    (BaseImage(None, "debian:12", "", "similar", similarity=0.875),
     "no identified base (similar to debian:12: 88% package overlap, not identified)"),
    (BaseImage(None, mismatch="the annotation names debian:12, whose layers are not the image's bottom layers"),
     "no identified base (method none; its base annotation was not trusted: the annotation names debian:12, "
     "whose layers are not the image's bottom layers)"),
])
def test_require_known_and_allow_fail_an_unidentified_base(base: BaseImage, named: str) -> None:
    got = failed(BaseImageRule(require_known=True, allow=("debian:12*",), deny=("debian:12*",)), base)
    assert got == {"base_images.require_known": (named,),
                   "base_images.allow": (f"{named}: an unidentified base cannot be shown to be allowed",)}
    # deny cannot name what was not identified: require_known is the rule for that
    assert failed(BaseImageRule(deny=("debian:12*",)), base) == {}


def test_identified_bases_pass_require_known_and_no_layers_are_not_judged() -> None:
    assert failed(BaseImageRule(require_known=True), catalogued()) == {}
    assert failed(BaseImageRule(require_known=True), BaseImage(None, "debian:12", DIGEST, "annotation")) == {}
    nothing = BaseImageRule(allow=("debian",), require_known=True, max_age_days=1)
    assert failed(nothing, BaseImage(None, method="not_applicable")) == {}


def test_the_gate_is_the_policy() -> None:
    judged = judge(report(BaseImage(None)), Policy(base_images=BaseImageRule(require_known=True), gate=True), TODAY)
    assert judged.verdict is not None and not judged.verdict.passed
    assert exit_code_for(judged, judged, 0) == 1
    # without the section a base is never judged (DESIGN "Gates": base-image conditions gate only through the policy)
    plain = judge(report(BaseImage(None)), Policy(gate=True), TODAY)
    assert plain.verdict is not None and plain.verdict.passed


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def test_policy_file_section(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "version: 1\nbase_images:\n  allow: ['debian:12*', 'sha256:" + "d" * 64 + "']\n"
                                         "  deny: [debian:11]\n  max_age_days: 90\n  require_known: true\n"))
    assert policy.base_images == BaseImageRule(allow=("debian:12*", "sha256:" + "d" * 64), deny=("debian:11",),
                                               max_age_days=90.0, require_known=True)
    assert load_policy(write(tmp_path, "version: 1\n")).base_images is None


@pytest.mark.parametrize(("text", "message"), [
    ("base_images: {allow: ['Debian:12']}\n", "base_images.allow[0]: 'Debian:12'"),
    ("base_images: {deny: ['sha256:abc']}\n", "base_images.deny[0]: 'sha256:abc': expected sha256: and 64"),
    ("base_images: {allow: ['debian@sha256:xyz']}\n", "base_images.allow[0]: 'debian@sha256:xyz': expected NAME@sha256:"),
    ("base_images: {max_age_days: -1}\n", "base_images.max_age_days"),
    ("base_images: {require: true}\n", "require"),
])
def test_bad_sections_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        load_policy(write(tmp_path, text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cli_convert_judges_the_saved_base(tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    saved.write_bytes(render_json(report(catalogued("debian:11.9", created="2024-06-10T00:00:00Z"))))
    policy = write(tmp_path, "base_images:\n  allow: ['debian:12*']\n  max_age_days: 10000\n")
    run = subprocess.run([sys.executable, "-m", "hullscan", "convert", str(saved), "--policy", policy, "-f", "json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    verdict = json.loads(run.stdout)["verdict"]
    assert [(r["rule"], r["findings"]) for r in verdict["failed_rules"]] == [
        ("base_images.allow", ["debian:11.9 (sha256:bbbbbbbbbbbb, by catalog): matches none of debian:12*"])]
    table = subprocess.run([sys.executable, "-m", "hullscan", "convert", str(saved), "--policy", policy, "-f", "table"],
                           capture_output=True, text=True, cwd=tmp_path, env={"COLUMNS": "80", "PATH": ""})
    assert table.returncode == 1
    assert "base image: debian:11.9 (catalog, 2 layers, created 2024-06-10)" in table.stdout
    assert "base_images.allow: base image not on the allow list: debian:11.9" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
