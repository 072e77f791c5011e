"""Fuzz: Every analyzer of inventory/registry.py and secrets/analyzer.py, rule by rule, under a file name its
rule covers: parse (guarded, as the walker does) then assemble (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_analyzers = fuzz_stage("analyzers")
