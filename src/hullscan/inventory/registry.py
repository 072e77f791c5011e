"""Every analyzer hullscan runs, grouped by the scanner that needs it.

Add an analyzer: write its module in `hullscan/inventory/` (a `walk.analyzer.Analyzer` with its
`files` table and `assemble`) and append one line below.
"""

from __future__ import annotations

from hullscan.walk.analyzer import Analyzer


def all_analyzers() -> list[Analyzer]:
    """One instance of each analyzer, OS detection first."""
    from hullscan.inventory.os_release import OSReleaseAnalyzer

    found: list[Analyzer] = [OSReleaseAnalyzer()]
    # -- package analyzers (one import + append each) --
    from hullscan.inventory.rpm.analyzer import RpmAnalyzer
    found.append(RpmAnalyzer())
    from hullscan.inventory.dpkg import DpkgAnalyzer
    found.append(DpkgAnalyzer())
    from hullscan.inventory.apk import ApkAnalyzer
    found.append(ApkAnalyzer())
    from hullscan.inventory.java_archive import JavaArchiveAnalyzer
    found.append(JavaArchiveAnalyzer())
    from hullscan.inventory.java_declared import JavaDeclaredAnalyzer
    found.append(JavaDeclaredAnalyzer())
    from hullscan.inventory.node_lock import NodeLockAnalyzer
    found.append(NodeLockAnalyzer())
    from hullscan.inventory.node_package import NodePackageAnalyzer
    found.append(NodePackageAnalyzer())
    from hullscan.inventory.python_dist import PythonDistAnalyzer
    found.append(PythonDistAnalyzer())
    from hullscan.inventory.python_lock import PythonLockAnalyzer
    found.append(PythonLockAnalyzer())
    from hullscan.inventory.golang import GoBinaryAnalyzer, GoModAnalyzer
    found += [GoBinaryAnalyzer(), GoModAnalyzer()]
    from hullscan.inventory.rust import CargoLockAnalyzer, RustBinaryAnalyzer
    found += [RustBinaryAnalyzer(), CargoLockAnalyzer()]
    from hullscan.inventory.ruby import RubyGemsAnalyzer
    found.append(RubyGemsAnalyzer())
    from hullscan.inventory.php import ComposerAnalyzer
    found.append(ComposerAnalyzer())
    from hullscan.inventory.dotnet import DotnetAnalyzer
    found.append(DotnetAnalyzer())
    from hullscan.secrets.analyzer import SecretAnalyzer
    found.append(SecretAnalyzer())
    return found


def analyzers_for(scanners: set[str]) -> list[Analyzer]:
    """Analyzers needed by the chosen scanners (`vuln`, `secret`, `config`, `license`)."""
    chosen = []
    for an in all_analyzers():
        if an.detects_os or an.scanners & scanners:
            chosen.append(an)
    return chosen
