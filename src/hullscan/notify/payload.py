"""What a notification says: its id, its pages (the JSON bodies sent), and the CloudEvents envelope.

The shape follows Clair's notifier — a notification id, the image (manifest digest), the changed
findings, paginated — but a receiver cannot page back to hullscan (it may be offline or behind a
firewall), so every page is sent as its own delivery carrying the same `notification_id`, its `page`
index and the page count. The schema is docs/notification.schema.json (`schema_version` 1.x only ever
gains optional fields).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

SCHEMA_VERSION = "1.0"
PAGE_SIZE = 100
"""Changes per page (per delivery) unless the caller asks otherwise."""

CATEGORIES = ("new", "changed", "fix_available", "no_longer_affected", "withdrawn", "exception_expired")
"""Each change's `category`: the rescan's categories (issue #23 item 3)."""

VerdictChange = Literal["pass_to_fail", "fail_to_pass", "unchanged", "none"]
"""As `hullscan diff` says it (diff.schema.json `verdict_change`); `none`: no policy judged the image."""
VERDICT_CHANGES: tuple[str, ...] = get_args(VerdictChange)

SCHEMA_ID = "https://hullscan.invalid/notification.schema.json"
CE_TYPE = "dev.hullscan.image.changed"
CE_SOURCE = "urn:hullscan:notify"
CE_CONTENT_TYPE = "application/cloudevents+json"
JSON_CONTENT_TYPE = "application/json"


def notification_id(image_digest: str, change_id: int) -> str:
    """sha256 hex of `<image digest>\\n<change id>`: the same image and DB change always name the same
    notification, whoever computes it (a receiver can too)."""
    return hashlib.sha256(f"{image_digest}\n{change_id}".encode()).hexdigest()


def encode(doc: Mapping[str, Any]) -> bytes:
    """Compact JSON, keys sorted: the bytes stored, signed and sent."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_changes(changes: Sequence[Mapping[str, Any]]) -> None:
    """A change is an object with a known `category` and an `id` (the advisory); anything else is a bug
    of the caller, refused before anything is stored."""
    for i, change in enumerate(changes):
        if not isinstance(change, Mapping):
            raise ValueError(f"change {i}: not an object")
        if change.get("category") not in CATEGORIES:
            raise ValueError(f"change {i}: category {change.get('category')!r} is not one of {', '.join(CATEGORIES)}")
        if not isinstance(change.get("id"), str) or not change["id"]:
            raise ValueError(f"change {i}: no advisory `id`")


def pages(nid: str, *, image_digest: str, image_names: Sequence[str], change_id: int, created_at: str,
          changes: Sequence[Mapping[str, Any]], verdict_change: str, page_size: int = PAGE_SIZE) -> list[bytes]:
    """The notification's pages, each a whole document (encoded): at least one, so a verdict change
    with no finding change is still said."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    chunks = [list(changes[i:i + page_size]) for i in range(0, len(changes), page_size)] or [[]]
    out = []
    for index, chunk in enumerate(chunks):
        out.append(encode({
            "schema_version": SCHEMA_VERSION,
            "notification_id": nid,
            "created_at": created_at,
            "image": {"digest": image_digest, "names": sorted(set(image_names))},
            "db_change_id": change_id,
            "verdict_change": verdict_change,
            "page": {"index": index, "count": len(chunks), "size": page_size, "changes_total": len(changes),
                     "next": index + 1 if index + 1 < len(chunks) else None},
            "changes": chunk,
        }))
    return out


def cloudevent(page: bytes) -> bytes:
    """A page inside a CloudEvents 1.0 structured-mode envelope (sent as `application/cloudevents+json`).
    `id` is `<notification id>:<page index>`: a redelivery repeats it, as the spec asks of a retry."""
    doc = json.loads(page)
    return encode({
        "specversion": "1.0",
        "type": CE_TYPE,
        "source": CE_SOURCE,
        "id": f"{doc['notification_id']}:{doc['page']['index']}",
        "time": doc["created_at"],
        "subject": doc["image"]["digest"],
        "datacontenttype": JSON_CONTENT_TYPE,
        "dataschema": SCHEMA_ID,
        "data": doc,
    })
