"""The vulnerability DB: one schema (SQLite file or PostgreSQL), feed importers, update/import/status/export.

Readers go through `hullscan.vulndb.read.AdvisoryReader` (`read.open_reader(location)`); writing is
`hullscan.vulndb.store.VulnDB`'s. See docs/vulndb.md.
"""
