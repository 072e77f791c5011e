"""The state store: what hullscan remembers between runs that is neither the vulnerability DB (replaced
wholesale by `db update`) nor the layer cache (`cache clean` may delete it) — today the base image
catalog; later stored inventories, rescans, notifications, tokens and jobs (DESIGN.md "The state store").

SQLite at `$XDG_DATA_HOME/hullscan/state.sqlite` by default, a PostgreSQL schema (`hullscan_state`) in
service mode. The tables are SQLAlchemy models (`models.py`); their history is Alembic migrations shipped
in `migrations/`, applied whenever the store is opened for writing (`store.py`). The read side a scan
uses (`catalog.py`) is plain SQL through the driver, so reading the catalog costs no SQLAlchemy import.
"""
