"""Secret scanning: rules as data (`rules.yaml`), a keyword-prefiltered engine, masked findings.

`scan_bytes(path, data)` scans one file; `SecretAnalyzer` (analyzer.py) runs it over every layer of
an image, deleted files included; `scan_image_config` (config_scan.py) covers the image config.
"""

from hullscan.secrets.engine import MAX_SIZE, compile_ruleset, is_binary, scan_bytes
from hullscan.secrets.finding import Finding, mask_secret
from hullscan.secrets.rules import Ruleset, build_ruleset, default_ruleset, load_config, load_ruleset


def prepare(ruleset: Ruleset | None = None) -> Ruleset:
    """Build and compile the ruleset now (~0.1 s), e.g. in a parent before it forks layer walkers,
    which then inherit it instead of each building their own."""
    ruleset = ruleset or default_ruleset()
    compile_ruleset(ruleset)
    return ruleset


__all__ = [
    "MAX_SIZE",
    "compile_ruleset",
    "prepare",
    "Finding",
    "Ruleset",
    "build_ruleset",
    "default_ruleset",
    "is_binary",
    "load_config",
    "load_ruleset",
    "mask_secret",
    "scan_bytes",
]
