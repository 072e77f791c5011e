"""Secret scanning: rules as data (`rules.yaml`), a keyword-prefiltered engine, masked findings.

`scan_bytes(path, data)` scans one file; `SecretAnalyzer` (analyzer.py) runs it over every layer of
an image, deleted files included; `scan_image_config` (config_scan.py) covers the image config.
"""

from hullscan.secrets.engine import MAX_SIZE, is_binary, scan_bytes
from hullscan.secrets.finding import Finding, mask_secret
from hullscan.secrets.rules import Ruleset, build_ruleset, default_ruleset, load_config, load_ruleset

__all__ = [
    "MAX_SIZE",
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
