"""The vulnerability DB: a normalized store (SQLite or PostgreSQL), feed importers, update/import/status/export.

`hullscan.vulndb.store.VulnDB` is the API the matcher uses; see docs/vulndb.md.
"""
