"""Scores from CVSS vectors (the `cvss` library), so every stored severity has a number."""

from __future__ import annotations

from functools import lru_cache

import cvss


@lru_cache(maxsize=8192)
def score(kind: str, vector: str | None) -> float | None:
    """Base score of a CVSS v2/v3.x/v4 vector, None when it does not parse."""
    if not vector:
        return None
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return float(cvss.CVSS3(vector).base_score)
        if kind == "CVSS_V2":
            return float(cvss.CVSS2(vector).base_score)
    except Exception:  # the library raises its own error types for every malformed vector
        return None
    return None


def kind_of(vector: str) -> str:
    """OSV severity type for a vector string."""
    if vector.startswith("CVSS:4"):
        return "CVSS_V4"
    if vector.startswith("CVSS:3"):
        return "CVSS_V3"
    return "CVSS_V2"
