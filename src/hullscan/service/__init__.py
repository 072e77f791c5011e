"""Service mode (docs/service.md): `hullscan server` (the APIs) and `hullscan worker` (Celery jobs)."""
