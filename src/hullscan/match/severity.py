"""Severity and CVSS of a finding: vendor first, then NVD, then the advisory's own.

The `cvss` library computes base scores from vectors (v2, v3.x, v4) when a feed gives only a vector,
as most OSV records do.
"""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4, CVSSError

from hullscan.model.findings import Cvss
from hullscan.model.inventory import Package
from hullscan.vulndb.model import Advisory, AffectedRecord, Severity

#: Feeds written by a distro vendor: their word for their package comes before anyone else's.
DISTRO_FEEDS = frozenset({"debian", "alpine", "wolfi", "chainguard", "ubuntu", "redhat", "rhel", "suse", "alma", "rocky",
                          "amazon", "oracle", "photon", "mariner"})

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


def score_vector(vector: str) -> tuple[str, float | None]:
    """(version, base score) of a CVSS vector string; score None when the vector cannot be parsed."""
    try:
        if vector.startswith("CVSS:4"):
            return "4.0", float(CVSS4(vector).base_score)
        if vector.startswith("CVSS:3"):
            return vector[5:8], float(CVSS3(vector).base_score)
        return "2.0", float(CVSS2(vector).base_score)
    except CVSSError:  # a malformed vector: its version, no score
        return ("4.0" if vector.startswith("CVSS:4") else "3.1" if vector.startswith("CVSS:3") else "2.0"), None


_PREFERENCE = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}


def best_cvss(severities: list[Severity], source: str) -> Cvss | None:
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


def choose(cve: str | None, recs: list[AffectedRecord], advisories: dict[str, Advisory],
           pkg: Package) -> tuple[str, str, Cvss | None]:
    """(severity, who said it, CVSS) of one vulnerability of `pkg` from its matched records (deciding
    record first): the vendor's word first (for OS packages the distro's, for language packages the
    record's own), then NVD's CVSS of the CVE, then the advisory's own word, else its vector's score."""
    nvd_adv = advisories.get(cve) if cve else None
    nvd_cvss = best_cvss(nvd_adv.severities, "nvd") if nvd_adv and "nvd" in (nvd_adv.feeds or [nvd_adv.feed]) else None
    own_cvss = None
    for rec in recs:
        adv = advisories.get(rec.advisory_id)
        if adv and own_cvss is None:
            own_cvss = best_cvss(adv.severities, rec.feed)
    cvss = nvd_cvss or own_cvss
    for rec in recs:
        word = normalize_word(rec.severity)
        if word is None and pkg.is_os and rec.feed in DISTRO_FEEDS and rec.advisory_id in advisories:
            word = normalize_word(advisories[rec.advisory_id].severity)
        if word and word != "UNKNOWN":
            return word, rec.feed, cvss
    if nvd_cvss and nvd_cvss.score is not None:
        return from_score(nvd_cvss.score, nvd_cvss.version), "nvd", cvss
    for rec in recs:
        adv = advisories.get(rec.advisory_id)
        word = normalize_word(adv.severity) if adv else None
        if word and word != "UNKNOWN":
            return word, rec.feed, cvss
    if own_cvss and own_cvss.score is not None:
        return from_score(own_cvss.score, own_cvss.version), recs[0].feed, cvss
    return "UNKNOWN", "", cvss
