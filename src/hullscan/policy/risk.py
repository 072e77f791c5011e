"""The risk score (0–100) of a finding, and the few words that explain it.

    score = 5.5 × CVSS base score        (0–55; without a CVSS score, from the severity word:
                                          CRITICAL 9.5, HIGH 7.5, MEDIUM 5.0, LOW 2.5, UNKNOWN 4.0)
          + 20 × EPSS probability         (0–20: the chance of exploitation in the next 30 days)
          + 15 when in CISA KEV           (exploited in the wild)
          +  5 when a fixed version exists (it can be fixed now)
          +  5 when an application layer added the package (the team's own change fixes it;
                                          base-layer findings wait for a new base image)
    capped at 100, rounded to one decimal.

Secrets have no CVSS: their score is 5.5 × (CRITICAL 9.5, HIGH 7.5, MEDIUM 5.0, LOW 2.5) + 5 in an
application layer + 15 when the file is still present in the final image. Documented in docs/policy.md.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

SEVERITY_AS_CVSS = {"CRITICAL": 9.5, "HIGH": 7.5, "MEDIUM": 5.0, "LOW": 2.5, "UNKNOWN": 4.0}


def _layer_is_app(layer: Any) -> bool:
    return isinstance(layer, dict) and layer.get("base") is False


def vulnerability_risk(f: dict[str, Any]) -> dict[str, Any]:
    cvss = f.get("cvss") or {}
    base = cvss.get("score")
    parts: list[str] = []
    if base is None:
        base = SEVERITY_AS_CVSS.get(f.get("severity") or "UNKNOWN", 4.0)
    else:
        parts.append(f"CVSS {base:g}")
    score = 5.5 * float(base)
    kev = f.get("kev")
    if kev:
        score += 15
        parts.insert(0, "KEV")
    epss = (f.get("epss") or {}).get("score")
    if epss is not None:
        score += 20 * float(epss)
        parts.append(f"EPSS {float(epss):.2f}")
    if f.get("fixed_version"):
        score += 5
        parts.append(f"fix {f['fixed_version']}")
    else:
        parts.append("no fix")
    if _layer_is_app(f.get("layer")):
        score += 5
        parts.append("app layer")
    elif isinstance(f.get("layer"), dict) and f["layer"].get("base") is True:
        parts.append("base layer")
    return {"score": round(min(score, 100.0), 1), "reason": " · ".join(parts)}


def secret_risk(s: dict[str, Any]) -> dict[str, Any]:
    score = 5.5 * SEVERITY_AS_CVSS.get(s.get("severity") or "UNKNOWN", 4.0)
    parts = [s.get("severity") or "UNKNOWN"]
    if s.get("removed_in") is None:
        score += 15
        parts.append("still in image")
    else:
        parts.append("deleted, still in a layer")
    if _layer_is_app(s.get("layer")):
        score += 5
        parts.append("app layer")
    return {"score": round(min(score, 100.0), 1), "reason": " · ".join(parts)}
