"""The risk score (0–100) of a finding, and the few words that explain it.

    score = 5.5 × CVSS base score        (0–55; without a CVSS score, from the severity word:
                                          CRITICAL 9.5, HIGH 7.5, MEDIUM 5.0, LOW 2.5, UNKNOWN 4.0)
          + 20 × EPSS probability         (0–20: the chance of exploitation in the next 30 days)
          + 15 when in CISA KEV           (exploited in the wild)
          +  5 when a fixed version exists (it can be fixed now)
          +  5 when not inherited: an application layer added the package (the team's own change
                                          fixes it; inherited findings wait for a new base image).
                                          Read from the finding's `inherited`, so it holds for any
                                          image whose base is known, squashed or not
    capped at 100, then × 0.5 when reachability says the code cannot run (`not_present`: no affected
    Go symbol in the binary; `not_loaded`: not in the entrypoint's ELF closure; `not_imported`: never
    imported) — `reachable` and `unknown` keep the full score (docs/reachability.md); rounded to one decimal.

Secrets have no CVSS: their score is 5.5 × (CRITICAL 9.5, HIGH 7.5, MEDIUM 5.0, LOW 2.5) + 5 in an
application layer + 15 when the file is still present in the final image. Documented in docs/policy.md.
"""

from __future__ import annotations

from hullscan.model.findings import Risk

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from hullscan.model.findings import Finding, SecretFinding

SEVERITY_AS_CVSS = {"CRITICAL": 9.5, "HIGH": 7.5, "MEDIUM": 5.0, "LOW": 2.5, "UNKNOWN": 4.0}
UNREACHABLE_WEIGHT = 0.5
"""The factor of a finding whose code cannot run by its reachability level (UNREACHABLE below)."""
UNREACHABLE = {"not_present": "not present", "not_loaded": "not loaded", "not_imported": "not imported"}
"""Reachability levels that lower the score, and their words in the explanation."""


def vulnerability_risk(f: Finding) -> Risk:
    base = f.cvss.score if f.cvss is not None else None
    parts: list[str] = []
    if base is None:
        base = SEVERITY_AS_CVSS.get(f.severity or "UNKNOWN", 4.0)
    else:
        parts.append(f"CVSS {base:g}")
    score = 5.5 * base
    if f.kev is not None:
        score += 15
        parts.insert(0, "KEV")
    if f.epss is not None:
        score += 20 * f.epss.score
        parts.append(f"EPSS {f.epss.score:.2f}")
    if f.fixed_version:
        score += 5
        parts.append(f"fix {f.fixed_version}")
    else:
        parts.append("no fix")
    # the finding's own `inherited` (not its layer's `base`): the scan sets it wherever the base is known
    if f.inherited is False:
        score += 5
        parts.append("app layer")
    elif f.inherited is True:
        parts.append("base layer")
    score = min(score, 100.0)
    reach = f.reachability
    if reach is not None and reach.level in UNREACHABLE:
        score *= UNREACHABLE_WEIGHT
        parts.append(f"{UNREACHABLE[reach.level]} ×{UNREACHABLE_WEIGHT:g}")
    elif reach is not None and reach.level == "reachable":
        parts.append("reachable")
    return Risk(round(score, 1), " · ".join(parts))


def secret_risk(s: SecretFinding) -> Risk:
    score = 5.5 * SEVERITY_AS_CVSS.get(s.severity or "UNKNOWN", 4.0)
    parts = [s.severity or "UNKNOWN"]
    if s.removed_in is None:
        score += 15
        parts.append("still in image")
    else:
        parts.append("deleted, still in a layer")
    if s.inherited is False:
        score += 5
        parts.append("app layer")
    return Risk(round(min(score, 100.0), 1), " · ".join(parts))
