"""Hypothesis profiles for the fuzz tests. `ci` (the default) is derandomized, keeps no example
database and runs 50 examples per target, so the whole directory stays within ~2 minutes on one core
and every run tries the same inputs; HYPOTHESIS_PROFILE=dev (random, 500 examples) digs further."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example]
settings.register_profile("ci", derandomize=True, deadline=None, database=None, max_examples=50,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("dev", deadline=None, database=None, max_examples=500, suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
