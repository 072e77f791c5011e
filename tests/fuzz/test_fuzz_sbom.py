"""Fuzz: SBOM in: CycloneDX JSON/XML and SPDX JSON/tag-value through load_sbom (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_sbom = fuzz_stage("sbom")
