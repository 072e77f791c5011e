"""Every analyzer hullscan runs, grouped by the scanner that needs it.

Add an analyzer: write its module in `hullscan/inventory/` (a `walk.analyzer.Analyzer` with its
`files` table and `assemble`), import it and add one line below.
"""

from __future__ import annotations

from hullscan.inventory.apk import ApkAnalyzer
from hullscan.inventory.dotnet import DotnetAnalyzer
from hullscan.inventory.dpkg import DpkgAnalyzer
from hullscan.inventory.elf_dynamic import ElfDynamicAnalyzer
from hullscan.inventory.go_symbols import GoSymbolsAnalyzer
from hullscan.inventory.golang import GoBinaryAnalyzer, GoModAnalyzer
from hullscan.inventory.java_archive import JavaArchiveAnalyzer
from hullscan.inventory.java_declared import JavaDeclaredAnalyzer
from hullscan.inventory.node_lock import NodeLockAnalyzer
from hullscan.inventory.node_package import NodePackageAnalyzer
from hullscan.inventory.os_release import OSReleaseAnalyzer
from hullscan.inventory.php import ComposerAnalyzer
from hullscan.inventory.python_dist import PythonDistAnalyzer
from hullscan.inventory.python_lock import PythonLockAnalyzer
from hullscan.inventory.redhat_content import RedHatContentAnalyzer
from hullscan.inventory.rpm.analyzer import RpmAnalyzer
from hullscan.inventory.ruby import RubyGemsAnalyzer
from hullscan.inventory.rust import CargoLockAnalyzer, RustBinaryAnalyzer
from hullscan.inventory.symlinks import SymlinkAnalyzer
from hullscan.secrets.analyzer import SecretAnalyzer
from hullscan.walk.analyzer import Analyzer


def all_analyzers() -> list[Analyzer]:
    """One instance of each analyzer, OS detection first."""
    return [
        OSReleaseAnalyzer(),
        RedHatContentAnalyzer(),  # refines the OS found above: after it
        # -- package analyzers (one line each) --
        RpmAnalyzer(),
        DpkgAnalyzer(),
        ApkAnalyzer(),
        JavaArchiveAnalyzer(),
        JavaDeclaredAnalyzer(),
        NodeLockAnalyzer(),
        NodePackageAnalyzer(),
        PythonDistAnalyzer(),
        PythonLockAnalyzer(),
        GoBinaryAnalyzer(),
        GoModAnalyzer(),
        RustBinaryAnalyzer(),
        CargoLockAnalyzer(),
        RubyGemsAnalyzer(),
        ComposerAnalyzer(),
        DotnetAnalyzer(),
        SecretAnalyzer(),
        # -- reachability facts (hullscan.reach) --
        SymlinkAnalyzer(),
        ElfDynamicAnalyzer(),
        GoSymbolsAnalyzer(),
    ]


def import_analyzers() -> list[Analyzer]:
    """The Python and Node import analyzers (reach/python.py, reach/node.py): opt-in, with
    `--import-reachability` — parsing every .py and .js file costs more than the rest of a cold scan
    (bench/README "Reachability"). Imported here only when asked for (tree-sitter stays unloaded)."""
    from hullscan.inventory.node_imports import NodeImportsAnalyzer
    from hullscan.inventory.python_imports import PythonImportsAnalyzer

    return [PythonImportsAnalyzer(), NodeImportsAnalyzer()]


def analyzers_for(scanners: set[str], *, import_reachability: bool = False) -> list[Analyzer]:
    """Analyzers needed by the chosen scanners (`vuln`, `secret`, `config`, `license`), with the import
    analyzers when `import_reachability` (they serve `vuln`)."""
    chosen = []
    for an in [*all_analyzers(), *(import_analyzers() if import_reachability else ())]:
        if an.detects_os or an.scanners & scanners:
            chosen.append(an)
    return chosen
