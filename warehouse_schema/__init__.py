"""Warehouse schema: SQLAlchemy metadata (tables), the ``mart`` views, and their creation.

PostgreSQL: the Alembic migrations in ``migrations/`` (run in process by
:func:`create_all`, or ``alembic -c warehouse_schema/alembic.ini -x url=… upgrade head``)
create the schemas, tables and the analyst role; the views follow them.
DuckDB: the same metadata through ``metadata.create_all`` (never reflected); an older file gains the columns
added since (:func:`add_missing_columns`) and loses the keys the load now checks (:func:`drop_loader_checked_keys`).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from warehouse_schema.tables import LOADER_CHECKED_TABLES, SCHEMAS, metadata, not_on_duckdb
from warehouse_schema.views import ANALYST_ROLE, VIEW_ORDER, VIEWS, sync_views

__all__ = [
    "ANALYST_ROLE",
    "SCHEMAS",
    "VIEWS",
    "VIEW_ORDER",
    "metadata",
    "create_all",
    "schema_lock",
    "alembic_config",
    "migrate",
    "add_missing_columns",
    "drop_loader_checked_keys",
]

HERE = Path(__file__).resolve().parent
#: session-level advisory lock key serialising schema work on one PostgreSQL database
PG_SCHEMA_LOCK = 7_204_211_001
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(url: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(url, threading.Lock())


class schema_lock:
    """Serialise schema and reference-data changes on one warehouse: a PostgreSQL
    advisory lock (across processes) or a per-URL lock (DuckDB: one process writes)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.conn: sa.Connection | None = None
        self.lock = _process_lock(engine.url.render_as_string(hide_password=False))

    def __enter__(self):
        self.lock.acquire()
        if self.engine.dialect.name == "postgresql":
            try:
                self.conn = self.engine.connect()
                self.conn.exec_driver_sql(f"SELECT pg_advisory_lock({PG_SCHEMA_LOCK})")
            except BaseException:
                self.lock.release()
                raise
        return self

    def __exit__(self, *exc):
        try:
            if self.conn is not None:
                self.conn.exec_driver_sql(f"SELECT pg_advisory_unlock({PG_SCHEMA_LOCK})")
                self.conn.close()
        finally:
            self.lock.release()


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _pg_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on a PostgreSQL engine, in process (views synced after)."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def add_missing_columns(conn: sa.Connection) -> list[str]:
    """DuckDB files made by an older version: add the nullable columns the metadata has
    gained (information_schema, not SQLAlchemy reflection). Returns the columns added."""
    have = {
        (s, t, c)
        for s, t, c in conn.exec_driver_sql(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema IN ({', '.join(repr(s) for s in SCHEMAS)})"
        )
    }
    added = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if (table.schema, table.name, col.name) in have:
                continue
            if not col.nullable and col.server_default is None:
                raise RuntimeError(
                    f"{table.fullname}.{col.name} is NOT NULL without a default: "
                    "rebuild this DuckDB warehouse (re-run the ingest into a new file)"
                )
            ddl = col.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.fullname} ADD COLUMN {col.name} {ddl}")
            added.append(f"{table.fullname}.{col.name}")
    return added


def drop_loader_checked_keys(conn: sa.Connection) -> list[str]:
    """DuckDB files made with keys on the tables of documents (``tables.loader_checked_key``): rebuild each such
    table without its key, rows and columns kept (DuckDB cannot drop a key in place), in the caller's
    transaction. A table holding a column the metadata no longer knows keeps its key (nothing is dropped).
    Returns the tables rebuilt."""
    keyed = {
        name
        for name, kind in conn.exec_driver_sql(
            "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE schema_name = 'core'"
        )
        if kind == "PRIMARY KEY"
    }
    stored: dict[str, list[str]] = {}
    for name, column in conn.exec_driver_sql(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'core' ORDER BY column_index"
    ):
        stored.setdefault(name, []).append(column)
    rebuilt = []
    for table in LOADER_CHECKED_TABLES:
        if table.name not in keyed:
            continue
        names = [c.name for c in table.columns]
        if not set(stored[table.name]) <= set(names):
            continue
        scratch = table.to_metadata(sa.MetaData(), name=f"{table.name}__rebuild")
        scratch.primary_key.ddl_if(callable_=not_on_duckdb)  # a copy does not keep its key's condition
        scratch.create(conn)
        columns = ", ".join(f'"{c}"' for c in stored[table.name])
        conn.exec_driver_sql(f"INSERT INTO {scratch.fullname} ({columns}) SELECT {columns} FROM {table.fullname}")
        conn.exec_driver_sql(f"DROP TABLE {table.fullname}")
        conn.exec_driver_sql(f"ALTER TABLE {scratch.fullname} RENAME TO {table.name}")
        rebuilt.append(table.fullname)
    return rebuilt


def create_all(engine: sa.Engine) -> None:
    """Bring a warehouse to the current schema (idempotent, safe to call concurrently).

    PostgreSQL: Alembic upgrade to head (skipped when already there), then the views
    when their definitions changed. DuckDB: schemas, ``metadata.create_all``, views."""
    with schema_lock(engine):
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                current = _pg_revision(conn)
            if current != _head():
                migrate(engine)
        else:
            with engine.begin() as conn:
                for schema in SCHEMAS:
                    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            metadata.create_all(engine, checkfirst=True)
            with engine.begin() as conn:
                add_missing_columns(conn)
                drop_loader_checked_keys(conn)
        with engine.begin() as conn:
            sync_views(conn)
