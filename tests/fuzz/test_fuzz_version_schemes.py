"""Fuzz: Each version scheme of versions/: parse and compare never raise, comparison is a total preorder (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_versions = fuzz_stage("versions")
