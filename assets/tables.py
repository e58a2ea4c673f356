"""Warehouse tables as Dagster assets: their keys and the metadata their asset pages show (a Dagster definition
module; the tables themselves are ``warehouse_schema.tables``)."""

from __future__ import annotations

import sqlalchemy as sa
from dagster import AssetKey, TableColumn, TableSchema


def table_key(table: sa.Table) -> AssetKey:
    """``core.document`` → AssetKey(["core", "document"])."""
    return AssetKey([table.schema, table.name])


def table_metadata(table: sa.Table) -> dict:
    """The table's name and column schema (name, SQL type, comment), shown on its asset page."""
    columns = [TableColumn(c.name, str(c.type), description=c.comment) for c in table.columns]
    return {"dagster/table_name": f"{table.schema}.{table.name}", "dagster/column_schema": TableSchema(columns=columns)}
