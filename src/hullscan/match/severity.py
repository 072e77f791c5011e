"""Severity and CVSS of a finding: vendor first, then NVD, then the advisory's own.

The `cvss` library computes base scores from vectors (v2, v3.x, v4) when a feed gives only a vector,
as most OSV records do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")

# vendor words → our scale (Debian urgency, Red Hat, Ubuntu priority, GHSA, Alpine…)
_WORDS = {
    "critical": "CRITICAL",
    "important": "HIGH",
    "high": "HIGH",
    "moderate": "MEDIUM",
    "medium": "MEDIUM",
    "low": "LOW",
    "negligible": "LOW",
    "unimportant": "LOW",
    "minor": "LOW",
    "none": "UNKNOWN",
    "unknown": "UNKNOWN",
    "not yet assigned": "UNKNOWN",
}


def normalize_word(word: str | None) -> str | None:
    if not word:
        return None
    w = word.strip().lower().rstrip("*").strip()
    return _WORDS.get(w)


def from_score(score: float | None, version: str = "3") -> str:
    """CVSS qualitative rating (v3/v4 scale; v2 has no CRITICAL)."""
    if score is None:
        return "UNKNOWN"
    if version.startswith("2"):
        return "HIGH" if score >= 7.0 else "MEDIUM" if score >= 4.0 else "LOW" if score > 0 else "UNKNOWN"
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0:
        return "LOW"
    return "UNKNOWN"


@dataclass(frozen=True)
class Cvss:
    version: str
    vector: str
    score: float | None
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "vector": self.vector, "score": self.score, "source": self.source}


def score_vector(vector: str) -> tuple[str, float | None]:
    """(version, base score) of a CVSS vector string; score None when the vector cannot be parsed."""
    from cvss import CVSS2, CVSS3, CVSS4

    try:
        if vector.startswith("CVSS:4"):
            return "4.0", float(CVSS4(vector).base_score)
        if vector.startswith("CVSS:3"):
            return vector[5:8], float(CVSS3(vector).base_score)
        return "2.0", float(CVSS2(vector).base_score)
    except Exception:  # the cvss library raises its own errors for malformed vectors
        return ("4.0" if vector.startswith("CVSS:4") else "3.1" if vector.startswith("CVSS:3") else "2.0"), None


_PREFERENCE = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}


def best_cvss(severities: list[tuple[str, str | None, float | None]], source: str) -> Cvss | None:
    """The most useful CVSS of an advisory: v3 first (what most tools and policies speak), then v4, v2."""
    candidates = []
    for typ, vector, score in severities:
        if typ not in _PREFERENCE or not vector:
            continue
        version, computed = score_vector(vector)
        candidates.append((_PREFERENCE[typ], Cvss(version, vector, score if score is not None else computed, source)))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[0])
    return candidates[0][1]
