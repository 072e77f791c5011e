"""Fuzz: The tar reader (image/tarstream.py), from memory and from a file, and a layer through the real walker
(the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_tar = fuzz_stage("tar")
