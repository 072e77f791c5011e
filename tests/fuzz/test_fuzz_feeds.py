"""Fuzz: Each feed importer of vulndb/feeds, by forced --format and by detection, through the importer's per-file
entry (the contract: fuzz_targets.py)."""

from fuzz_case import fuzz_stage

test_fuzz_feeds = fuzz_stage("feeds")
