"""Persistence: SQLAlchemy 2 over SQLite (WAL) by default, schema managed by Alembic."""
