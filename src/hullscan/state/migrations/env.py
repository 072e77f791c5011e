"""Alembic's environment, driven from code: `hullscan.state.store.migrate` passes an open connection
(inside its write transaction) as `config.attributes["connection"]`; there is no alembic.ini and no URL.

A new revision: change `models.py`, autogenerate a script against a scratch store at HEAD
(docs/base-images.md "Changing the state store"), review it, and set `location.HEAD` to its revision.
"""

from __future__ import annotations

from alembic import context

from hullscan.state.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the state store's migrations run through hullscan.state.store.migrate, not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():  # inside the caller's transaction: committed (or not) by it
    context.run_migrations()
