"""Warehouse schema: SQLAlchemy metadata (tables), the ``mart`` views, and their creation.

PostgreSQL: the Alembic migrations in ``migrations/`` (run in process by
:func:`create_all`, or ``alembic -c warehouse_schema/alembic.ini -x url=… upgrade head``)
create the schemas, tables and the analyst role; the views follow them.
DuckDB: the same metadata through ``metadata.create_all`` (never reflected, never migrated).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from warehouse_schema.tables import SCHEMAS, metadata
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
        with engine.begin() as conn:
            sync_views(conn)
