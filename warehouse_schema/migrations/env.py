"""Alembic environment of the warehouse (PostgreSQL only).

Used two ways: from the command line (``alembic -c warehouse_schema/alembic.ini
-x url=… upgrade head``) and in process by :func:`warehouse_schema.create_all`,
which passes its open connection in ``config.attributes["connection"]``.
Only the ``raw``/``core``/``mart`` schemas are compared by autogenerate.  After the
last migration the mart views are synchronised with ``warehouse_schema.views``
(recreated when their definitions changed, SELECT granted to the analyst role).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from warehouse_schema.tables import SCHEMAS, metadata
from warehouse_schema.views import sync_views

config = context.config
target_metadata = metadata


def include_name(name, type_, parent_names):
    if type_ == "schema":
        return name in SCHEMAS
    return True


def _at_head(connection: sa.Connection) -> bool:
    heads = set(ScriptDirectory.from_config(config).get_heads())
    return bool(heads) and set(MigrationContext.configure(connection).get_current_heads()) == heads


def _configure(connection: sa.Connection) -> None:
    if connection.dialect.name != "postgresql":
        raise RuntimeError(
            "the Alembic migrations are for PostgreSQL; DuckDB is created by warehouse_schema.create_all"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if _at_head(connection):  # not during autogenerate against an empty database
            sync_views(connection)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("BUDGET_WAREHOUSE_URL")
    if not url:
        raise SystemExit("give the warehouse URL: alembic -x url=postgresql+psycopg://… or BUDGET_WAREHOUSE_URL")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported; run against a database")
run()
