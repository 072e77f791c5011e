"""The DB schema, defined once: SQLAlchemy Core tables, the same on SQLite and PostgreSQL.

The writer (store.py) creates and fills them through SQLAlchemy. The read path (reader.py) names them
in plain SQL without importing SQLAlchemy; tests/vulndb/test_vulndb_schema.py runs every one of its
queries against a DB created from these tables and checks every table and column it names (and that
reader.TABLES, which recognizes a complete DB, lists exactly these tables). Changing a table means
bumping reader.SCHEMA_VERSION.

Every child row carries (feed, advisory_id) so a feed can be replaced, or one advisory upserted,
with plain indexed DELETEs. JSON-shaped values (ranges, version lists) are stored as JSON text:
they are only ever read whole and handed to the range evaluator.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

meta = Table(
    "hs_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

advisory = Table(
    "hs_advisory",
    metadata,
    Column("feed", String(32), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("summary", Text),
    Column("details", Text),
    Column("published", String(40)),
    Column("modified", String(40)),
    Column("withdrawn", String(40)),
    Column("severity", String(40)),
)
Index("hs_advisory_id", advisory.c.id)

alias = Table(
    "hs_alias",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("alias", String(200), nullable=False),
)
Index("hs_alias_adv", alias.c.feed, alias.c.advisory_id)
Index("hs_alias_alias", alias.c.alias)
Index("hs_alias_id", alias.c.advisory_id)

affected = Table(
    "hs_affected",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("ecosystem", String(100), nullable=False),
    Column("package", String(400), nullable=False),
    Column("ranges", Text, nullable=False),
    Column("versions", Text, nullable=False),
    Column("status", String(24), nullable=False),
    Column("fixed", Text, nullable=False),
    Column("severity", String(40)),
    Column("withdrawn", Boolean, nullable=False, default=False),
)
Index("hs_affected_pkg", affected.c.ecosystem, affected.c.package)
Index("hs_affected_adv", affected.c.feed, affected.c.advisory_id)

severity = Table(
    "hs_severity",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("vector", Text),
    Column("score", Float),
)
Index("hs_severity_adv", severity.c.feed, severity.c.advisory_id)

cwe = Table(
    "hs_cwe",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("cwe", String(32), nullable=False),
)
Index("hs_cwe_adv", cwe.c.feed, cwe.c.advisory_id)

reference = Table(
    "hs_reference",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("type", String(32)),
    Column("url", Text, nullable=False),
)
Index("hs_reference_adv", reference.c.feed, reference.c.advisory_id)

kev = Table(
    "hs_kev",
    metadata,
    Column("cve", String(40), primary_key=True),
    Column("vendor", Text),
    Column("product", Text),
    Column("name", Text),
    Column("date_added", String(40)),
    Column("due_date", String(40)),
    Column("ransomware", Boolean),
    Column("required_action", Text),
    Column("notes", Text),
)

epss = Table(
    "hs_epss",
    metadata,
    Column("cve", String(40), primary_key=True),
    Column("score", Float, nullable=False),
    Column("percentile", Float, nullable=False),
    Column("date", String(40)),
)

feed_state = Table(
    "hs_feed",
    metadata,
    Column("feed", String(32), primary_key=True),
    Column("source", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("fetched_at", String(40)),
    Column("imported_at", String(40)),
    Column("advisories", Integer, nullable=False, default=0),
    Column("affected", Integer, nullable=False, default=0),
    Column("records", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("last_error", Text),
)

#: Tables holding advisory data, each with (feed, advisory_id) columns.
ADVISORY_CHILDREN = (alias, affected, severity, cwe, reference)
