"""Warehouse schema: SQLAlchemy metadata (tables) and the ``mart`` views."""

from __future__ import annotations

import sqlalchemy as sa

from warehouse_schema.tables import SCHEMAS, metadata
from warehouse_schema.views import VIEW_ORDER, VIEWS


def create_all(engine: sa.Engine) -> None:
    """Create schemas, tables and views (idempotent; DuckDB and PostgreSQL)."""
    with engine.begin() as conn:
        for schema in SCHEMAS:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        for name in reversed(VIEW_ORDER):
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
        for name in VIEW_ORDER:
            conn.exec_driver_sql(f"CREATE VIEW {name} AS {VIEWS[name]}")
