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
    BigInteger,
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

#: endoflife.date release cycles (the `eol` feed; vulndb/eol.py reads them instead of its built-in table).
eol = Table(
    "hs_eol",
    metadata,
    Column("product", String(64), primary_key=True),
    Column("cycle", String(64), primary_key=True),
    Column("release_date", String(10)),
    Column("eol", String(10)),
    Column("support", String(10)),
    Column("extended", String(10)),
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

#: Red Hat's repository-to-CPE map (the `redhat-repo-cpe` feed): which CPE streams a content set (an RPM
#: repository label of /root/buildinfo/content_manifests) belongs to; match/rpm.py scopes Red Hat images by it.
repo_cpe = Table(
    "hs_repo_cpe",
    metadata,
    Column("repo", String(200), primary_key=True),
    Column("cpe", String(200), primary_key=True),
)

#: Coverage per (feed, ecosystem), recomputed from hs_affected whenever a feed's write commits (store.py):
#: `db status` and every scan read this small table instead of scanning hs_affected.
ecosystem = Table(
    "hs_ecosystem",
    metadata,
    Column("feed", String(32), primary_key=True),
    Column("ecosystem", String(100), primary_key=True),
    Column("advisories", Integer, nullable=False),
    Column("affected", Integer, nullable=False),
    Column("newest", String(40)),
)

# ---------------------------------------------------------------- the change log (store.py `_ChangeLog`)

#: One row per import that changed anything (a "generation"; hs_meta `generation` is the current one). Numbers
#: only grow: a DB's first generation is the Unix time of its first change, so a rebuilt DB never reuses one.
#: `previous` links each to the one before it (NULL for a DB's first), which tells whether the log reaches back
#: to a given generation after retention trimmed it. `full`: why a rescan must re-match everything (a bundle
#: load, a feed that had no digests yet), NULL when the rows below say exactly what changed.
generation = Table(
    "hs_generation",
    metadata,
    Column("generation", BigInteger, primary_key=True, autoincrement=False),
    Column("previous", BigInteger),
    Column("created_at", String(40), nullable=False),
    Column("feeds", Text, nullable=False),
    Column("added", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("withdrawn", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("kev", Integer, nullable=False),
    Column("epss", Integer, nullable=False),
    Column("full_rematch", Text),
)

#: Per generation, every advisory it added / changed / withdrew / removed (gone from a feed replaced whole),
#: with the (ecosystem, package) pairs it touches as JSON `[[eco, pkg], ...]` (a change: before ∪ after).
change = Table(
    "hs_change",
    metadata,
    Column("generation", BigInteger, nullable=False),
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("pairs", Text, nullable=False),
)
Index("hs_change_gen", change.c.generation)

#: Per generation, the CVEs whose KEV flag moved (kind `kev`) or whose EPSS moved enough (kind `epss`).
change_cve = Table(
    "hs_change_cve",
    metadata,
    Column("generation", BigInteger, nullable=False),
    Column("cve", String(40), nullable=False),
    Column("kind", String(8), nullable=False),
)
Index("hs_change_cve_gen", change_cve.c.generation)

#: A content digest per stored (feed, advisory): the next import compares digests instead of advisories.
digest = Table(
    "hs_digest",
    metadata,
    Column("feed", String(32), primary_key=True),
    Column("advisory_id", String(200), primary_key=True),
    Column("digest", String(32), nullable=False),
    Column("withdrawn", Boolean, nullable=False),
)

#: The change log's own tables: a DB's history, never exported in a bundle.
LOG_TABLES = (generation, change, change_cve)

imports = Table(
    "hs_imports",
    metadata,
    Column("feed", String(32), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("ecosystem", String(100), nullable=False),
    Column("package", String(400), nullable=False),
    Column("imports", Text, nullable=False),
)
"""OSV `ecosystem_specific.imports` of an affected row, JSON `[{"path", "symbols"}]` (Go vulndb records):
which packages of the module hold the vulnerable symbols, read by hullscan.reach after matching."""
Index("hs_imports_adv", imports.c.advisory_id)

#: Tables holding advisory data, each with (feed, advisory_id) columns.
ADVISORY_CHILDREN = (alias, affected, severity, cwe, reference, imports)
