"""A secret finding, its masking and its fingerprint.

The secret itself never leaves the engine: a finding holds the masked line and a fingerprint
(a truncated SHA-256 of rule id, path and secret) that stays the same when the file is rebuilt
into another layer, so a suppression by fingerprint survives rebuilds.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

MASK = "*"


def mask_secret(secret: str) -> str:
    """The secret with every character starred, except the first 4 of long ones (usually the
    vendor's fixed prefix: `ghp_`, `AKIA`, `sk-p`), so a reader can tell which credential it was."""
    keep = 4 if len(secret) >= 16 else 0
    return secret[:keep] + MASK * (len(secret) - keep)


def fingerprint(rule_id: str, path: str, secret: bytes) -> str:
    """Stable id of one secret in one file for one rule (hex, 32 chars)."""
    h = hashlib.sha256()
    h.update(b"hullscan-secret-v1\0" + rule_id.encode() + b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
    h.update(secret)
    return h.hexdigest()[:32]


@dataclass(frozen=True)
class Finding:
    """One secret found in one file (or in the image config)."""

    rule_id: str
    category: str
    severity: str
    """UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL."""
    title: str
    path: str
    """File path in the image, or `config:Env`, `config:history[3]`, `config:Labels` for the image config."""
    start_line: int
    """1-based line where the secret starts."""
    end_line: int
    match: str
    """The line holding the secret, secret(s) masked, cut to ~100 characters either side."""
    fingerprint: str
    offset: int = 0
    """Byte offset of the secret in the file."""
    source: str = "file"
    """`file`, `env`, `history` or `label`."""
    layer: int | None = None
    """Index of the layer that added the file (set when the image is assembled)."""
    removed_in: int | None = None
    """Index of the layer that deleted or replaced the file; None while it is still in the image."""

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/secrets.md)."""
        d = asdict(self)
        start, end = d.pop("start_line"), d.pop("end_line")
        d["line"] = {"start": start, "end": end}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        d = dict(d)
        line = d.pop("line", {}) or {}
        return cls(start_line=line.get("start", 0), end_line=line.get("end", 0), **d)
