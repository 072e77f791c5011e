"""Imports point one way (docs/architecture.md "The packages, left to right"): a module may import its own
package and packages to its left, never one to its right. Read from the source with `ast`, so imports
inside functions and `if TYPE_CHECKING:` blocks count as much as the ones at the top."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from testsupport import REPO

SRC = REPO / "src" / "hullscan"

# Left to right. One rank may hold several packages that do not import each other.
LAYERS: list[set[str]] = [
    {"errors", "record", "digests", "schemas", "__init__"},
    {"fsio", "http", "userfile", "bundlefile"},
    {"model"},
    {"versions"},
    {"vulndb"},
    {"image"},
    {"cache"},
    {"walk"},
    {"secrets"},
    {"inventory"},
    {"sbom_in"},
    {"state"},
    {"base", "notify"},
    {"match"},
    {"reach"},
    {"policy"},
    {"plan"},
    {"report"},
    {"delta"},
    {"rescan"},
    {"scan"},
    {"k8s"},
    {"service"},
    {"cli", "__main__"},
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _unit(module: str) -> str:
    """`hullscan.walk.walker` -> `walk`; `hullscan.errors` -> `errors`; `hullscan` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] if len(parts) > 1 else parts
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported hullscan module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "hullscan"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "hullscan":
                continue
            if mod == "hullscan":  # `from hullscan import x`: x is a module or a name of hullscan/__init__.py
                found += [(node.lineno, f"hullscan.{a.name}") if (SRC / a.name).exists() or (SRC / f"{a.name}.py").exists()
                          else (node.lineno, "hullscan") for a in node.names]
            else:
                found.append((node.lineno, mod))
    return found


def _violations() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_of(path)
        unit = _unit(module)
        assert unit in RANK, f"{module}: package {unit!r} has no place in LAYERS (docs/architecture.md)"
        for line, imported in _imports(path):
            target = _unit(imported)
            assert target in RANK, f"{path}:{line}: imports {imported}, whose package has no place in LAYERS"
            if RANK[target] > RANK[unit]:
                out.append(f"{path.relative_to(SRC.parent)}:{line}: {unit} imports {imported} (to its right)")
    return out


def test_imports_point_left():
    assert _violations() == []


def test_the_check_sees_imports_in_functions_and_type_checking_blocks(tmp_path, monkeypatch):
    """The check itself: a right-pointing import hidden in a function or a TYPE_CHECKING block is caught."""
    fake = tmp_path / "hullscan"
    (fake / "model").mkdir(parents=True)
    (fake / "model" / "__init__.py").write_text("")
    (fake / "model" / "x.py").write_text(
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from hullscan.report.table import render\n"
        "def f():\n    from hullscan.cli import main\n    from . import y\n")
    (fake / "model" / "y.py").write_text("from hullscan.errors import InputError\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    found = _violations()
    assert [v.split(": ", 1)[1] for v in found] == ["model imports hullscan.report.table (to its right)",
                                                    "model imports hullscan.cli (to its right)"]
