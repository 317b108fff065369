"""Alembic migrations of the metadata store, shipped with the package."""
