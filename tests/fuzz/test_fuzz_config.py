"""Fuzz: User-written files: the policy, .trivyignore, .trivyignore.yaml, VEX (OpenVEX, CycloneDX, CSAF) and the
secret config (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_config = fuzz_stage("config")
