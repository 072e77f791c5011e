"""Python import level (reach/python.py) on real wheels: four installed with `pip install --target`
(idna 3.7, certifi 2024.2.2, attrs 23.2.0, iniconfig 2.0.0, from PyPI, cached), an application written
here that imports two of them. The expected levels follow from the application's text; Python's own
`modulefinder`, run on the same tree, is the independent oracle of which distributions load."""

from __future__ import annotations

import modulefinder
from pathlib import Path

import pytest
from _reach_lang import SITE, image_root, levels, python_site

TOP_LEVEL = {"idna": "idna", "certifi": "certifi", "attr": "attrs", "attrs": "attrs", "iniconfig": "iniconfig"}
# the app imports idna and attr (attrs' old name): two of four
APP = {
    "/app/main.py": "import idna\nfrom attr import define\n\n\ndef main():\n    return idna.encode('a.example'), define\n",
    "/app/mypkg/__init__.py": "from .core import run\n",
    "/app/mypkg/core.py": "from certifi import where\n\n\ndef run():\n    return where()\n",
    "/app/mypkg/__main__.py": "from . import core\ncore.run()\n",
    "/app/dyn.py": "import importlib\nimport sys\n\nmod = importlib.import_module(sys.argv[1])\n",
    "/usr/local/bin/mycli": "#!/usr/local/bin/python3.11\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
                            "from mypkg.core import run\nif __name__ == '__main__':\n    sys.exit(run())\n",
}


@pytest.fixture(scope="module")
def site() -> Path:
    return python_site()


@pytest.fixture
def root(tmp_path: Path, site: Path) -> Path:
    return image_root(tmp_path, site, APP, executables=("/usr/local/bin/mycli",))


def _oracle(root: Path, script: str, extra: list[str]) -> set[str]:
    """Distributions modulefinder loads from the site-packages when running `script`."""
    finder = modulefinder.ModuleFinder(path=[*extra, str(root / SITE)])
    if script.startswith("/"):
        finder.run_script(str(root / script.lstrip("/")))
    else:  # a module, as python -m runs it
        finder.import_hook(script)
    site = str(root / SITE)
    return {TOP_LEVEL[name.split(".")[0]] for name, mod in finder.modules.items()
            if mod.__file__ and mod.__file__.startswith(site)}


def test_script_imports_two_of_four(root: Path) -> None:
    got = levels(root, ("python3", "main.py"))
    assert {n for n, r in got.items() if r.level == "reachable"} == {"idna", "attrs"}
    assert _oracle(root, "/app/main.py", [str(root / "app")]) == {"idna", "attrs"}
    assert got["certifi"].level == got["iniconfig"].level == "not_imported"
    assert got["idna"].evidence == ("/app/main.py", "idna") and got["idna"].method == "python-imports"
    assert got["attrs"].evidence == ("/app/main.py", "attr")


def test_module_entrypoint_follows_relative_imports(root: Path) -> None:
    # python -m mypkg runs mypkg/__init__ (from .core) and mypkg/__main__: core imports certifi
    got = levels(root, ("python", "-m", "mypkg"))
    assert {n for n, r in got.items() if r.level == "reachable"} == {"certifi"}
    assert got["certifi"].evidence == ("python -m mypkg", "mypkg", "mypkg.core", "certifi")
    assert _oracle(root, "mypkg.__main__", [str(root / "app")]) == {"certifi"}


def test_console_script(root: Path) -> None:
    # the stub pip writes for `mycli = mypkg.core:run`, run by its name along PATH
    got = levels(root, ("mycli",), workdir="/", env=("PYTHONPATH=/app",))
    assert got["certifi"].level == "reachable" and got["idna"].level == "not_imported"
    assert got["certifi"].evidence[0] == "/usr/local/bin/mycli"


def test_non_literal_import_module_is_unknown(root: Path) -> None:
    got = levels(root, ("python3", "/app/dyn.py"))
    assert {r.level for r in got.values()} == {"unknown"}
    assert "/app/dyn.py:4 imports a module named at run time" in got["idna"].evidence


def test_shell_form_and_runner(root: Path) -> None:
    got = levels(root, ("/bin/sh", "-c", "exec python3 main.py"))
    assert got["idna"].level == "reachable" and got["certifi"].level == "not_imported"
    assert levels(root, ("/bin/sh", "-c", "python3 main.py && echo done"))["idna"].level == "unknown"
    # gunicorn is not installed here: the runner's own script is missing, so nothing is decided
    assert levels(root, ("gunicorn", "main:app"))["idna"].level == "unknown"
    assert levels(root, ("python3",))["idna"].evidence == ("the interpreter runs without a script or module",)


def test_not_python(root: Path) -> None:
    got = levels(root, ("/usr/bin/env", "node", "x.js"))
    assert got["idna"].level == "unknown" and got["idna"].evidence == ("the entrypoint is not a Python program",)
