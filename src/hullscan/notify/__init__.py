"""Webhook notifications of what a rescan found changed (docs/notifications.md).

- `endpoints.py`: the webhooks, kept in the state store (`hullscan notify add|list|rm`); a secret is
  stored as where to read it (an environment variable or a file), never as its value.
- `payload.py`: the notification id (a digest of image digest and DB change id), the paginated JSON
  pages (docs/notification.schema.json) and the CloudEvents 1.0 envelope.
- `sign.py`: the `X-Hullscan-Signature` HMAC-SHA256 over `<timestamp>.<body>`.
- `queue.py`: `enqueue` — what the rescan calls, once per image and DB change: one record, created
  exactly once (its id is the primary key) — and the dead letters (`status`, `retry`).
- `deliver.py`: delivery at least once: a deliverer leases a due page, POSTs it through the project's
  HTTP client, and records the attempt; failures back off exponentially with jitter until the give-up
  age sends them to the dead letters.

Reads the state store (`state/`) and speaks HTTP (`http.py`); imports nothing to its right.
"""
