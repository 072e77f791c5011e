"""The DB schema: SQLAlchemy Core tables shared by SQLite and PostgreSQL (names in `tables.py`).

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

from hullscan.vulndb import tables as T
from hullscan.vulndb.tables import DB_FORMAT, SCHEMA_VERSION  # noqa: F401  (re-exported)

metadata = MetaData()

meta = Table(
    T.META,
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

advisory = Table(
    T.ADVISORY,
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
    T.ALIAS,
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("alias", String(200), nullable=False),
)
Index("hs_alias_adv", alias.c.feed, alias.c.advisory_id)
Index("hs_alias_alias", alias.c.alias)
Index("hs_alias_id", alias.c.advisory_id)

affected = Table(
    T.AFFECTED,
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
    T.SEVERITY,
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("vector", Text),
    Column("score", Float),
)
Index("hs_severity_adv", severity.c.feed, severity.c.advisory_id)

cwe = Table(
    T.CWE,
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("cwe", String(32), nullable=False),
)
Index("hs_cwe_adv", cwe.c.feed, cwe.c.advisory_id)

reference = Table(
    T.REFERENCE,
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("type", String(32)),
    Column("url", Text, nullable=False),
)
Index("hs_reference_adv", reference.c.feed, reference.c.advisory_id)

kev = Table(
    T.KEV,
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
    T.EPSS,
    metadata,
    Column("cve", String(40), primary_key=True),
    Column("score", Float, nullable=False),
    Column("percentile", Float, nullable=False),
    Column("date", String(40)),
)

feed_state = Table(
    T.FEED,
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
