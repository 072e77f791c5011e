"""Python lockfiles against trivy's integration goldens and every per-format fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from _lang_helpers import LOCKS, TRIVY, declared, golden_packages, pep503, scan_dir

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.python_lock import PythonLockAnalyzer

CASES = [
    ("pip", "pip.json.golden", "requirements.txt"),
    ("pipenv", "pipenv.json.golden", "Pipfile.lock"),
    ("poetry", "poetry.json.golden", "poetry.lock"),
    ("uv", "uv.json.golden", "uv.lock"),
    ("pylock", "pylock.json.golden", "pylock.toml"),
]


@pytest.mark.parametrize("case,golden,lockfile", CASES, ids=[c[0] for c in CASES])
def test_trivy_golden(case: str, golden: str, lockfile: str) -> None:
    inv = scan_dir(TRIVY / "fixtures" / "repo" / case)
    assert not inv.warnings
    # trivy keeps the spelling of requirements.txt; PyPI names compare PEP 503-normalized.
    assert declared(inv, f"/app/{lockfile}", False) == golden_packages(golden, lockfile, pep503)
    for p in inv.packages:
        assert p.purl == f"pkg:pypi/{p.name}@{p.version}" and p.ecosystem == "PyPI" and p.kind == "declared"


def _target_name(p: Path) -> str:
    n = p.name
    if "requirement" in n:
        return "requirements.txt"
    if n.startswith("Pipfile"):
        return "Pipfile.lock"
    if "poetry" in n:
        return "poetry.lock"
    if n.startswith("uv"):
        return "uv.lock"
    if n == "pdm.lock":
        return "pdm.lock"
    if n.startswith("pylock"):
        return "pylock.toml"
    return ""


def test_every_per_format_fixture_parses() -> None:
    root = LOCKS / "python"
    seen = 0
    for p in sorted(root.rglob("*")):
        target = _target_name(p) if p.is_file() else ""
        if not target:
            continue
        seen += 1
        inv = analyze_files([PythonLockAnalyzer()], [{f"/src/{target}": p.read_bytes()}])
        assert not inv.warnings, (p, inv.warnings)
        if "unresolvable" not in p.name and "compatible" not in p.name:
            assert inv.packages, p
        for x in inv.packages:
            assert x.name == pep503(x.name) and x.version[:1].isdigit(), (p, x)
    assert seen >= 24


def test_requirements_pins_only() -> None:
    data = (
        b"# comment\nflask==2.0.1 --hash=sha256:abc \\\n    --hash=sha256:def\n"
        b"Requests[security] == 2.8.1 ; python_version < '3.8'\nrange>=1.0\nstar==1.*\n"
        b"two==1.0,<2\n-r other.txt\n-e git+https://x.invalid/y.git#egg=y\nZope.Interface===5.4.0\n"
    )
    inv = analyze_files([PythonLockAnalyzer()], [{"/app/requirements-dev.txt": data}])
    assert sorted((p.name, p.version) for p in inv.packages) == [
        ("flask", "2.0.1"), ("requests", "2.8.1"), ("zope-interface", "5.4.0")]


def test_utf16_requirements() -> None:
    p = LOCKS / "python/requirements/trivy-parser/requirements_utf16le.txt"
    text = p.read_bytes().decode("utf-16")
    expected = sorted((pep503(line.split("==")[0]), line.split("==")[1].strip()) for line in text.splitlines() if "==" in line)
    inv = analyze_files([PythonLockAnalyzer()], [{"/r/requirements.txt": p.read_bytes()}])
    assert sorted((x.name, x.version) for x in inv.packages) == expected


def test_pdm_dev_groups() -> None:
    p = LOCKS / "python/pdm/syft/pdm.lock"
    inv = analyze_files([PythonLockAnalyzer()], [{"/p/pdm.lock": p.read_bytes()}])
    by = {x.name: x for x in inv.packages}
    # Hand-checked: certifi is only in group "security" (dev), chardet in "default".
    assert by["certifi"].dev and not by["chardet"].dev


@pytest.mark.parametrize("name,data", [
    ("poetry.lock", b"[[package]\nname = "),
    ("uv.lock", b"version = 1\n[[package]]\nname = 'a\n"),
    ("Pipfile.lock", b'{"default": {'),
    ("pdm.lock", b"[[package]]\nname = \"x\"\nversion = 1.0.0\n"),
    ("pylock.toml", b"lock-version = \n"),
])
def test_corrupt_lockfile_warns_and_scan_goes_on(name: str, data: bytes) -> None:
    inv = analyze_files([PythonLockAnalyzer()], [{f"/bad/{name}": data, "/good/requirements.txt": b"six==1.16.0\n"}])
    assert any(w.path == f"/bad/{name}" for w in inv.warnings), inv.warnings
    assert [(p.name, p.version) for p in inv.packages] == [("six", "1.16.0")]
