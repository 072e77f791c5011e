"""The DB's table names and format markers as plain constants (no SQLAlchemy): `schema.py` builds
its tables from these names, and the scan's read path (`reader.py`) writes its SQL with them."""

from __future__ import annotations

#: Bump when the tables change; a DB with another value is "foreign" (rebuild it).
SCHEMA_VERSION = "1"
#: Marker telling our DB apart from any other SQLite file / PostgreSQL schema.
DB_FORMAT = "hullscan-vulndb"

META = "hs_meta"
ADVISORY = "hs_advisory"
ALIAS = "hs_alias"
AFFECTED = "hs_affected"
SEVERITY = "hs_severity"
CWE = "hs_cwe"
REFERENCE = "hs_reference"
KEV = "hs_kev"
EPSS = "hs_epss"
FEED = "hs_feed"

#: Every table of a complete DB.
ALL = frozenset({META, ADVISORY, ALIAS, AFFECTED, SEVERITY, CWE, REFERENCE, KEV, EPSS, FEED})
