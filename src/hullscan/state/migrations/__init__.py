"""Alembic migrations of the state store (run from code by `hullscan.state.store.migrate`)."""
