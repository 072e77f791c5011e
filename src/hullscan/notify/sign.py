"""The webhook signature: HMAC-SHA256 with the endpoint's secret over `<timestamp>.<body>`.

The timestamp (Unix seconds, `X-Hullscan-Timestamp`) is inside the signed content, so a receiver that
refuses timestamps older than a few minutes refuses a replayed request: changing the header breaks the
signature. docs/notifications.md shows the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hullscan-Signature"
TIMESTAMP_HEADER = "X-Hullscan-Timestamp"


def signed_content(timestamp: int, body: bytes) -> bytes:
    """What the HMAC covers: the decimal timestamp, a dot, the body's exact bytes."""
    return str(timestamp).encode("ascii") + b"." + body


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The `X-Hullscan-Signature` value: `sha256=` and the HMAC's lowercase hex."""
    return "sha256=" + hmac.new(secret, signed_content(timestamp, body), hashlib.sha256).hexdigest()
