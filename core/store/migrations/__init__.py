"""Alembic migrations of the SCIS schema; run them with `scis db upgrade` or core.store.migrate."""
