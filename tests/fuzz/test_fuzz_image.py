"""Fuzz: Image documents: OCI index, manifest and config through open_layout, the config parser, docker-archive
manifest.json and whole archives (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_image = fuzz_stage("image")
