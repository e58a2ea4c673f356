"""Writing to the warehouse: the manifest, reference data, documents, facts and findings.

Loads are idempotent per document and per partition: :meth:`Warehouse.load_documents`
deletes every row of the given documents (document, extracted tables, facts,
findings) and inserts the new ones in **one transaction**, so re-running a
partition leaves the warehouse exactly as after one run, and a crash mid-load
leaves the previous state.  Different partitions touch disjoint documents, so
two loads at once do not interfere (PostgreSQL additionally serialises loads of
the same document with a transaction-scoped advisory lock).

Bulk paths, not row-by-row statements: a load gathers each table's rows once (:class:`TableRows`) and makes
for DuckDB one Arrow table of them in one pass of Arrow's converter (amounts as exact ``decimal128``; a value
that does not fit its column takes a text path that SQL casts), inserted through the relation API; PostgreSQL
reads them in one ``COPY``. The primary keys of the tables of documents are checked by
the load itself before any statement (:func:`check_keys`; on DuckDB they are no constraint, see
``warehouse_schema.tables.loader_checked_key``). Per load, a fixed number of statements whatever the number
of documents, run on the driver's cursor with the document hashes as one array parameter: one advisory-lock
statement (PostgreSQL), one lookup (the documents present and the current versions at their URLs), the
deletes of a reload, one insert per table, and an UPDATE only when a new version supersedes some. Where the
time goes: deploy/README.md *Loads*.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import warehouse_schema
from assets.load.reference import fingerprint, reference_rows
from warehouse_schema import tables as t


class WarehouseUnavailable(RuntimeError):
    """The warehouse URL cannot be reached or opened."""


class ReadOnlyViolation(RuntimeError):
    """A statement tried to write through a read-only connection (``budget-etl query`` / ``report``)."""


def make_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    """An engine on the warehouse; ``read_only``: DuckDB opens the file with ``read_only=True`` (it then
    shares the file with other readers, e.g. notebooks) and PostgreSQL runs every transaction READ ONLY."""
    kw: dict[str, Any] = {}
    if read_only and url.startswith("duckdb"):
        kw["connect_args"] = {"read_only": True}
    elif read_only and url.startswith("postgresql"):
        kw["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    for attempt in (1, 2):
        try:
            engine = sa.create_engine(url, **kw)
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return engine
        except Exception as exc:  # any driver error: say which warehouse and why
            if attempt == 1 and "different configuration" in str(exc):
                # DuckDB: this process still holds the file read-write through an engine nobody uses any more
                import gc

                gc.collect()
                continue
            raise WarehouseUnavailable(open_error(url, exc, read_only)) from exc
    raise AssertionError("unreachable")


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _command_line(pid: int) -> str | None:
    try:
        raw = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return None
    text = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    # never show a password a command line may carry (--warehouse postgresql://user:secret@…)
    text = re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)
    return text if len(text) <= 160 else text[:157] + "..."


def open_error(url: str, exc: BaseException, read_only: bool) -> str:
    """Why a warehouse could not be opened, and what to do (DuckDB's single-writer lock, a missing file)."""
    message = str(exc)
    if url.startswith("duckdb"):
        path = url.split(":///", 1)[-1]
        if "database does not exist" in message:
            return f"no warehouse at {path}: run `budget-etl ingest` first (or pass --warehouse / --data-dir)"
        if "different configuration" in message:
            mode = "read-only" if read_only else "read-write"
            return (
                f"the DuckDB warehouse {path} is already open in this process in another mode: DuckDB cannot "
                f"open it {mode} as well; close (dispose) the other connection first"
            )
        m = _LOCK_HOLDER.search(message)
        if m:
            pid = int(m.group("pid"))
            who = f"PID {pid}: {_command_line(pid) or m.group('program')}"
            if read_only:
                return (
                    f"the DuckDB warehouse {path} is open for writing by another process ({who}). DuckDB "
                    "allows one writing process, or any number of read-only ones, never both at once: wait "
                    "until that ingest or backfill has finished (or close that connection), then run this again."
                )
            return (
                f"the DuckDB warehouse {path} is open in another process ({who}). DuckDB allows one writing "
                "process, or any number of read-only ones, never both at once: close that connection (a "
                "notebook: con.close()), or wait until it ends, then run this again. Notebooks and "
                "`budget-etl query` can read alongside each other (read_only=True), not alongside an ingest."
            )
    return f"cannot open warehouse {redact(url)}: {type(exc).__name__}: {exc}"


def is_read_only_violation(exc: BaseException) -> bool:
    """A driver error saying a write was refused because the connection is read-only."""
    text = f"{type(exc).__name__}: {exc} {getattr(exc, 'orig', '')}"
    return (
        "ReadOnlySqlTransaction" in text
        or "read-only transaction" in text
        or "read-only mode" in text
        or "read_only" in text
        and "Cannot execute" in text
    )


def redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for messages
        return url


@dataclass
class DocumentLoad:
    """Everything the warehouse keeps of one document."""

    document: dict[str, Any]  # a core.document row
    tables: list[dict[str, Any]] = field(default_factory=list)  # core.extracted_table rows
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fact table → rows
    findings: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- bulk insert


def _scale(col: sa.Column) -> int | None:
    return col.type.scale if isinstance(col.type, sa.Numeric) and not isinstance(col.type, sa.Float) else None


def _duckdb_frame(table: sa.Table, cols: list[sa.Column], data: dict[str, list[Any]]):
    """A pandas frame DuckDB scans without guessing types: integers as nullable Int64, booleans as
    nullable boolean, everything else (amounts included) as text that SQL casts exactly."""
    import pandas as pd

    frame = {}
    for col in cols:
        values = data[col.name]
        if isinstance(col.type, sa.Boolean):
            frame[col.name] = pd.array(values, dtype="boolean")
        elif isinstance(col.type, (sa.Integer, sa.BigInteger)):
            frame[col.name] = pd.array(values, dtype="Int64")
        elif isinstance(col.type, sa.Float):
            frame[col.name] = pd.array(values, dtype="Float64")
        else:  # text, and NUMERIC as its exact decimal string (str(Decimal) never uses a float)
            frame[col.name] = pd.array([v if v is None or isinstance(v, str) else str(v) for v in values], dtype=object)
    return pd.DataFrame(frame)


def _arrow_type(col: sa.Column):
    """The Arrow type a column's values travel as (None: no exact one, use :func:`_duckdb_frame`)."""
    import pyarrow as pa

    ty = col.type
    if isinstance(ty, sa.Boolean):
        return pa.bool_()
    if isinstance(ty, (sa.Integer, sa.BigInteger)):
        return pa.int64()
    if isinstance(ty, sa.Float):
        return pa.float64()
    if isinstance(ty, sa.Numeric):
        return pa.decimal128(ty.precision or 38, ty.scale or 0)
    if isinstance(ty, sa.String):  # Text, String(n)
        return pa.string()
    return None


def _arrow_errors() -> tuple[type[BaseException], ...]:
    """Arrow's errors when a value does not fit a column's Arrow type exactly (then the text path takes over)."""
    import pyarrow as pa

    return (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError, OverflowError)


@dataclass
class TableRows:
    """One table's rows in a load: dicts keyed by column name (a missing key is NULL) and, for the tables of
    documents, the document each row came with (its ``document_sha256``, whatever the dict says)."""

    rows: list[dict[str, Any]]
    shas: list[str] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def names(self, table: sa.Table) -> set[str]:
        """The columns these rows give values for; a key that is no column of ``table`` raises ``KeyError``."""
        names = set().union(*self.rows)
        if self.shas is not None:
            names.add("document_sha256")
        unknown = names - set(table.columns.keys())
        if unknown:
            raise KeyError(f"{table.fullname} has no column(s) {sorted(unknown)}")
        return names

    def values(self, name: str) -> list[Any]:
        if name == "document_sha256" and self.shas is not None:
            return self.shas
        return [r.get(name) for r in self.rows]

    def columns(self, table: sa.Table) -> dict[str, list[Any]]:
        """The rows column-wise: each column they give (in the table's order) → its values."""
        names = self.names(table)
        return {c.name: self.values(c.name) for c in table.columns if c.name in names}

    def arrow(self, table: sa.Table):
        """Every column of ``table`` in its order as one Arrow table, typed exactly (amounts as ``decimal128``),
        made by one pass of Arrow's converter over the dicts (a key the dict lacks is NULL, as INSERT gives
        it); None when that is not exact: a value that does not fit its column's type (a Decimal with more
        places than the column: SQL rounds it on the text path; a float where an integer goes, which Arrow
        would truncate), or an absent column with a default."""
        import pyarrow as pa

        names = self.names(table)
        fields = []
        for col in table.columns:
            ty = _arrow_type(col)
            absent = col.name not in names
            if ty is None or absent and (col.server_default is not None or col.default is not None):
                return None
            fields.append(pa.field(col.name, ty))
        # the columns the dicts give (a field the dicts lack costs the converter a lookup per row)
        given = [f for f in fields if f.name in names and (f.name != "document_sha256" or self.shas is None)]
        for f in given:  # Arrow's converter truncates a float into an integer column: no float goes that way
            if pa.types.is_integer(f.type) and not {type(r.get(f.name)) for r in self.rows} <= {int, type(None)}:
                return None
        try:
            struct = pa.array(self.rows, type=pa.struct(given))
        except _arrow_errors():
            return None
        n = len(self.rows)
        arrays = []
        for f in fields:
            if f.name == "document_sha256" and self.shas is not None:
                arrays.append(pa.array(self.shas, type=pa.string()))
            elif f.name in names:
                arrays.append(struct.field(f.name))
            else:
                arrays.append(pa.nulls(n, type=f.type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _select_expr(col: sa.Column, dialect) -> str:
    name = f'"{col.name}"'
    if _scale(col) is not None:
        # decimal text → DECIMAL: exact (a DOUBLE would not be)
        return f"CAST({name} AS {col.type.compile(dialect=dialect)})"
    return name


def _duckdb_insert(conn: sa.Connection, table: sa.Table, data: TableRows, in_table_order: bool) -> None:
    raw = conn.connection.driver_connection
    whole = data.arrow(table)
    if whole is not None and in_table_order:  # every column, in the stored order: the relation API, no view
        raw.from_arrow(whole).insert_into(table.fullname)
        return
    if whole is not None:  # typed exactly: a plain scan, by name
        cols = list(table.columns)
        frame, select = whole, ", ".join(f'"{c.name}"' for c in cols)
    else:  # text for what has no exact Arrow value (amounts: SQL casts them), nullable integers and booleans
        columns = data.columns(table)
        cols = [c for c in table.columns if c.name in columns]
        frame, select = _duckdb_frame(table, cols, columns), ", ".join(_select_expr(c, conn.dialect) for c in cols)
    view = f"bulk_{uuid.uuid4().hex}"
    raw.register(view, frame)
    try:
        collist = ", ".join(f'"{c.name}"' for c in cols)
        raw.execute(f"INSERT INTO {table.fullname} ({collist}) SELECT {select} FROM {view}")
    finally:
        raw.unregister(view)


def _postgresql_copy(conn: sa.Connection, table: sa.Table, data: TableRows) -> None:
    """One ``COPY`` of the columns the rows give, fed row by row by psycopg (text format; Arrow's CSV of the
    same rows measured no faster: the server's work, above all the key index, is most of the time)."""
    columns = data.columns(table)
    cols = [c for c in table.columns if c.name in columns]
    collist = ", ".join(f'"{c.name}"' for c in cols)
    with conn.connection.dbapi_connection.cursor() as cur:
        with cur.copy(f"COPY {table.fullname} ({collist}) FROM STDIN") as copy:
            write = copy.write_row
            for r in zip(*(columns[c.name] for c in cols), strict=True):
                write(r)


def bulk_insert(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]] | TableRows, *, in_table_order: bool = False
) -> int:
    """Insert ``rows`` (dicts keyed by column name, missing keys are NULL, or :class:`TableRows`) into ``table``
    inside the caller's transaction, by the engine's bulk path: one statement whatever the number of rows
    (DuckDB: an Arrow table, through the relation API when ``in_table_order``: the stored columns are the
    metadata's in its order; PostgreSQL: one ``COPY``)."""
    data = rows if isinstance(rows, TableRows) else TableRows(list(rows))
    n = len(data)
    if not n:
        return 0
    dialect = conn.dialect.name
    if dialect == "duckdb":
        _duckdb_insert(conn, table, data, in_table_order)
    elif dialect == "postgresql":
        _postgresql_copy(conn, table, data)
    else:  # any other SQLAlchemy dialect: executemany
        columns = data.columns(table)
        names = list(columns)
        values = zip(*(columns[k] for k in names), strict=True)
        conn.execute(sa.insert(table), [dict(zip(names, r, strict=True)) for r in values])
    return n


class DuplicateKey(ValueError):
    """Two rows of one load share a table's primary key (the load writes nothing)."""


def check_keys(table: sa.Table, data: TableRows) -> None:
    """Raise :class:`DuplicateKey` when two rows of ``data`` share ``table``'s primary key: the check that
    stands for the key on DuckDB, where the tables of documents hold none (``tables.loader_checked_key``), and
    gives both engines the same error before any statement runs."""
    names = [c.name for c in table.primary_key.columns]
    if not names or not len(data):
        return
    keys = list(zip(*(data.values(k) for k in names), strict=True))
    if len(set(keys)) == len(keys):
        return
    seen: set[tuple] = set()
    for key in keys:
        if key in seen:
            raise DuplicateKey(f"{table.fullname}: two rows with the key {dict(zip(names, key, strict=True))}")
        seen.add(key)


def _advisory_key(sha: str) -> int:
    """A 60-bit key for pg_advisory_xact_lock from a document hash (any string)."""
    return int(hashlib.sha256(sha.encode()).hexdigest()[:15], 16)


def _document_rows(loads: Sequence[DocumentLoad]) -> dict[str, TableRows]:
    """Every document table's rows of these documents, in load order; a row belongs to the document it came with
    (its ``document_sha256`` is that document's)."""
    per_table = {tb.name: TableRows([], []) for tb in t.DOCUMENT_TABLES}

    def add(name: str, sha: str, rows: list[dict[str, Any]]) -> None:
        if name not in per_table:
            raise KeyError(f"unknown fact table {name!r}")
        part = per_table[name]
        part.rows.extend(rows)
        part.shas.extend([sha] * len(rows))

    for ld in loads:
        sha = ld.document["document_sha256"]
        add("extracted_table", sha, ld.tables)
        for name, rows in ld.facts.items():
            add(name, sha, rows)
        add("quality_finding", sha, ld.findings)
    return per_table


def _driver_rows(conn: sa.Connection, sql: str, *values: Sequence[str]) -> list[tuple]:
    """Run ``sql`` on the driver's cursor inside the caller's transaction (no SQLAlchemy compilation);
    each ``{in}`` in the text stands for "is one of" the next of ``values``, sent as one array parameter
    (not an IN list of literals)."""
    params = [list(v) for v in values]
    if conn.dialect.name == "duckdb":
        cur = conn.connection.driver_connection.execute(
            sql.replace("{in}", "IN (SELECT unnest(?::VARCHAR[]))"), params or None
        )
        return cur.fetchall() if cur.description else []
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.execute(sql.replace("{in}", "= ANY(%s::text[])"), params or None)
        return cur.fetchall() if cur.description else []


# --------------------------------------------------------------------------- the warehouse


#: DuckDB statements a guarded read-only query may run (see Warehouse.guarded)
_READ_STATEMENTS = {"SELECT", "EXPLAIN"}


class Warehouse:
    def __init__(self, url: str, *, read_only: bool = False):
        self.url = url
        self.read_only = read_only
        #: DuckDB cannot open one file read-only and read-write in the same process: when this process
        #: already holds it read-write (a notebook or a test that also runs the CLI's functions), a read-only
        #: warehouse shares that connection, runs only SELECT / EXPLAIN and rolls every query back
        self.guarded = False
        try:
            self.engine = make_engine(url, read_only=read_only)
        except WarehouseUnavailable as exc:
            if not (read_only and url.startswith("duckdb") and "in another mode" in str(exc)):
                raise
            self.engine = make_engine(url)
            self.guarded = True
        self.dialect = self.engine.dialect.name
        self._tables_in_order: set[str] | None = None

    def ensure_schema(self) -> None:
        """Schema (migrations on PostgreSQL), views, and the reference dimensions, each only
        when out of date."""
        warehouse_schema.create_all(self.engine)
        self._tables_in_order = None  # columns may have been added
        self.load_reference()

    # -- reference data ------------------------------------------------------
    def load_reference(self, *, department_crosswalk: Path | None = None, force: bool = False) -> bool:
        """Replace the reference dimensions (catalogs) in one transaction when their
        fingerprint changed; returns whether they were (re)loaded."""
        rows = reference_rows(department_crosswalk)
        fp = fingerprint(rows)
        rs = t.reference_state
        with warehouse_schema.schema_lock(self.engine):
            with self.engine.begin() as conn:
                current = conn.execute(sa.select(rs.c.fingerprint).where(rs.c.name == "reference_data")).scalar()
                if current == fp and not force:
                    return False
                # keep regions that came only from sources.yaml (not in the catalogs)
                codes = {r["region_code"] for r in rows["dim_region"]}
                extra = [
                    dict(r) for r in conn.execute(sa.select(t.dim_region)).mappings() if r["region_code"] not in codes
                ]
                for table in t.REFERENCE_TABLES:
                    conn.execute(sa.delete(table))
                for table in t.REFERENCE_TABLES:
                    bulk_insert(conn, table, rows[table.name] + (extra if table is t.dim_region else []))
                conn.execute(sa.delete(rs).where(rs.c.name == "reference_data"))
                conn.execute(
                    sa.insert(rs).values(
                        name="reference_data", fingerprint=fp, loaded_at=datetime.now(UTC).isoformat(timespec="seconds")
                    )
                )
        return True

    def upsert_regions(self, rows: Iterable[dict[str, Any]]) -> None:
        """Regions named in sources.yaml (their configured name wins over the catalog's)."""
        r = t.dim_region
        with self.engine.begin() as conn:
            for row in rows:
                old = conn.execute(sa.select(r).where(r.c.region_code == row["region_code"])).mappings().first()
                new = {**(dict(old) if old else {}), **{k: v for k, v in row.items() if v is not None}}
                if old is not None and new == dict(old):
                    continue
                conn.execute(sa.delete(r).where(r.c.region_code == row["region_code"]))
                conn.execute(sa.insert(r), [new])

    # -- manifest ---------------------------------------------------------
    def previous_fetches(self, region_code: str) -> list[dict[str, Any]]:
        """Latest stored fetch per URL of a region (for conditional requests)."""
        m = t.manifest
        q = sa.select(m).where(m.c.region_code == region_code, m.c.sha256 != "").order_by(m.c.url, m.c.fetched_at)
        with self.engine.connect() as conn:
            latest: dict[str, dict[str, Any]] = {}
            for row in conn.execute(q).mappings():
                latest[row["url"]] = dict(row)
        return list(latest.values())

    def record_manifest(self, rows: Iterable[dict[str, Any]]) -> int:
        """Upsert manifest rows by (url, sha256); an unchanged fetch keeps its first fetched_at.

        One ``INSERT … ON CONFLICT`` per row (PostgreSQL and DuckDB): two crawls recording the same
        URL and content at the same time cannot collide on the key (a select-then-insert could)."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        m = t.manifest
        cols = {c.name for c in m.columns}
        keys = [m.c.url, m.c.sha256]
        n = 0
        with self.engine.begin() as conn:
            for row in rows:
                rec = {k: v for k, v in row.items() if k in cols}
                rec["sha256"] = rec.get("sha256") or ""
                stmt = pg_insert(m).values(**rec)
                if rec.get("status") == "unchanged":
                    # keep what we knew of the content; note when we saw it again
                    stmt = stmt.on_conflict_do_nothing(index_elements=keys)
                else:
                    stmt = stmt.on_conflict_do_update(
                        index_elements=keys,
                        set_={
                            c.name: stmt.excluded[c.name]
                            for c in m.columns
                            if c.name in rec and c.name not in ("url", "sha256")
                        },
                    )
                n += conn.execute(stmt).rowcount or 0
        return n

    # -- documents --------------------------------------------------------
    def load_document(self, load: DocumentLoad) -> dict[str, int]:
        """Replace one document's rows everywhere, in one transaction."""
        return self.load_documents([load])

    def load_documents(self, loads: Sequence[DocumentLoad]) -> dict[str, int]:
        """Replace the rows of these documents (e.g. one partition's) everywhere, in one
        transaction; returns the rows inserted per table."""
        counts: dict[str, int] = {"document": 0}
        if not loads:
            return counts
        shas = [ld.document["document_sha256"] for ld in loads]
        if len(set(shas)) != len(shas):
            raise ValueError("a document appears twice in one load")
        per_table = _document_rows(loads)
        for table in t.LOADER_CHECKED_TABLES:
            check_keys(table, per_table[table.name])
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # one statement, keys in sorted order: two loads sharing documents cannot deadlock. Every lookup
                # and DELETE of a load has an index (the keys start with document_sha256, source_url has its
                # own): no sequential scans in this transaction, even before autovacuum's first statistics of a
                # growing table (the planner then took a scan of core.document per load, 20 ms at 20 000)
                keys = ",".join(str(_advisory_key(sha)) for sha in sorted(shas))
                _driver_rows(
                    conn,
                    "SELECT count(pg_advisory_xact_lock(k)), set_config('enable_seqscan', 'off', true) FROM unnest("
                    f"ARRAY[{keys}]::bigint[]) WITH ORDINALITY AS u(k, i) GROUP BY 2",
                )
            d = t.document
            urls = sorted({ld.document["source_url"] for ld in loads if ld.document.get("source_url")})
            # one lookup: these documents (their first fetch time, whether they are present) and the current
            # versions at their URLs (what a new version supersedes)
            cols = "document_sha256, fetched_at, source_url, status"
            if self.dialect == "postgresql":  # one index lookup per hash and per URL, statistics or not
                lookup = (
                    f"SELECT {cols} FROM {d.fullname} WHERE document_sha256 {{in}} UNION "
                    f"SELECT v.* FROM unnest(%s::text[]) AS u(url) CROSS JOIN LATERAL (SELECT {cols} "
                    f"FROM {d.fullname} WHERE source_url = u.url AND status <> 'superseded') AS v"
                )
            else:  # DuckDB: hash joins over the columns
                lookup = (
                    f"SELECT {cols} FROM {d.fullname} "
                    "WHERE document_sha256 {in} OR (source_url {in} AND status <> 'superseded')"
                )
            known = _driver_rows(conn, lookup, shas, urls)
            loading = set(shas)
            found = [(sha, fetched) for sha, fetched, _, _ in known if sha in loading]
            others = [(sha, url) for sha, _, url, status in known if sha not in loading and status != "superseded"]
            first_seen: dict[str, str | None] = dict(found)
            # a document's rows exist only with its core.document row (written in one transaction), so
            # documents never loaded need no deletes; one DELETE per table for all the present ones
            present = [sha for sha, _ in found]
            if present:
                for table in (*t.DOCUMENT_TABLES, d):
                    _driver_rows(conn, f"DELETE FROM {table.fullname} WHERE document_sha256 {{in}}", present)
            # a document keeps the time it was first fetched (as its raw.manifest row does): reloads are identical
            docs = [
                dict(
                    ld.document,
                    fetched_at=first_seen.get(ld.document["document_sha256"]) or ld.document.get("fetched_at"),
                )
                for ld in loads
            ]
            ordered = self._duckdb_tables_in_order(conn) if self.dialect == "duckdb" else set()
            counts["document"] = bulk_insert(conn, d, docs, in_table_order=d.name in ordered)
            for table in t.DOCUMENT_TABLES:
                counts[table.name] = bulk_insert(
                    conn, table, per_table[table.name], in_table_order=table.name in ordered
                )
            counts["superseded"] = self._supersede(conn, docs, others)
        return counts

    def _duckdb_tables_in_order(self, conn: sa.Connection) -> set[str]:
        """The document tables (and core.document) whose stored columns are the metadata's, in its order
        (read once per Warehouse: only ``ensure_schema`` adds columns, before any load)."""
        if self._tables_in_order is None:
            stored: dict[str, list[str]] = {}
            for table, column in _driver_rows(
                conn,
                "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'core' "
                "ORDER BY table_name, column_index",
            ):
                stored.setdefault(table, []).append(column)
            self._tables_in_order = {
                tb.name
                for tb in (t.document, *t.DOCUMENT_TABLES)
                if stored.get(tb.name) == [c.name for c in tb.columns]
            }
        return self._tables_in_order

    def replace_findings(self, shas: Sequence[str], check_prefix: str, rows: Sequence[dict[str, Any]]) -> int:
        """Replace these documents' findings of the checks named ``check_prefix…`` by ``rows`` (a check that
        runs after the load, e.g. the comparison with last year), in one transaction; returns the rows written."""
        qf = t.quality_finding
        shas = list(shas)
        with self.engine.begin() as conn:
            for start in range(0, len(shas), 500):
                conn.execute(
                    sa.delete(qf).where(
                        qf.c.document_sha256.in_(shas[start : start + 500]), qf.c.check_name.startswith(check_prefix)
                    )
                )
            return bulk_insert(conn, qf, list(rows))

    def rows_of_documents(
        self, shas: Sequence[str], tables: Sequence[sa.Table] = (t.document, *t.DOCUMENT_TABLES)
    ) -> dict[str, int]:
        """Rows the warehouse holds for these documents (e.g. one partition's), per table name."""
        counts = {tb.name: 0 for tb in tables}
        shas = list(shas)
        with self.engine.connect() as conn:
            for start in range(0, len(shas), 500):
                chunk = shas[start : start + 500]
                for tb in tables:
                    counts[tb.name] += conn.execute(
                        sa.select(sa.func.count()).select_from(tb).where(tb.c.document_sha256.in_(chunk))
                    ).scalar_one()
        return counts

    @staticmethod
    def _supersede(conn: sa.Connection, docs: Sequence[dict[str, Any]], others: Sequence[tuple[str, str]]) -> int:
        """Older versions of a URL stop being current when a new version is loaded.

        A department that republishes a corrected PDF at the same URL gets a new
        sha256; the old version keeps its rows (and its findings) for the record,
        but its status becomes ``superseded`` so it leaves the analyst views and
        its quarantine no longer shows as open.

        ``others``: the current versions (sha, url) at these URLs outside this load, read before its deletes.
        """
        d = t.document
        # the current versions at these URLs after the inserts: the others (read before the load's deletes)
        # and the loaded documents themselves, so no second lookup
        current = [
            *others,
            *(
                (doc["document_sha256"], doc["source_url"])
                for doc in docs
                if doc.get("source_url") and doc.get("status") != "superseded"
            ),
        ]
        by_url: dict[str, list[str]] = {}
        for sha, url in current:
            by_url.setdefault(url, []).append(sha)
        # the documents in load order, each superseding the other current versions of its URL
        replaced_by: dict[str, str] = {}  # superseded sha → the sha that replaces it
        for doc in docs:
            url, sha = doc.get("source_url"), doc["document_sha256"]
            if not url:
                continue
            for old in by_url.get(url, ()):
                if old != sha and old not in replaced_by:
                    replaced_by[old] = sha
        groups: dict[str, list[str]] = {}
        for old, sha in replaced_by.items():
            groups.setdefault(sha, []).append(old)
        n = 0
        for sha, olds in sorted(groups.items()):
            res = conn.execute(
                sa.update(d)
                .where(d.c.document_sha256.in_(sorted(olds)), d.c.status != "superseded")
                .values(status="superseded", status_reason=f"replaced by {sha[:12]} published at the same URL")
            )
            n += res.rowcount or 0
        return n

    def delete_documents(self, shas: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            for table in (*t.DOCUMENT_TABLES, t.document):
                conn.execute(sa.delete(table).where(table.c.document_sha256.in_(list(shas))))

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one SQL statement as written (no parameters: ``LIKE '%…%'`` needs no escaping on
        PostgreSQL); returns column names and rows.  On a read-only warehouse a write raises
        :class:`ReadOnlyViolation`, and on PostgreSQL the text must be one statement (it is prepared:
        ``COMMIT; SET …; DELETE …`` cannot leave the read-only transaction)."""
        with self.engine.connect() as conn:
            raw = conn.connection
            cur = raw.cursor()
            try:
                if self.guarded:
                    self._check_read_statements(sql)
                    cur.execute("BEGIN TRANSACTION")
                if self.read_only and self.dialect == "postgresql":
                    cur.execute(sql, prepare=True)
                else:
                    cur.execute(sql)
                cols = [d[0] for d in cur.description] if cur.description else []
                data = [tuple(r) for r in cur.fetchall()] if cur.description else []
            except Exception as exc:
                if self.read_only and "cannot insert multiple commands" in str(exc):
                    raise ReadOnlyViolation("one statement at a time: the text holds several") from exc
                if self.read_only and is_read_only_violation(exc):
                    raise ReadOnlyViolation(str(exc).strip().splitlines()[0]) from exc
                raise
            finally:
                cur.close()
            if not self.read_only:
                raw.commit()
            elif self.dialect == "postgresql" or self.guarded:
                raw.rollback()  # end the read-only transaction (DuckDB's read-only connection has none open)
            return cols, data

    @staticmethod
    def _check_read_statements(sql: str) -> None:
        import duckdb

        kinds = [st.type.name for st in duckdb.extract_statements(sql)]
        writes = [k for k in kinds if k not in _READ_STATEMENTS]
        if writes or len(kinds) != 1:
            what = ", ".join(writes) if writes else f"{len(kinds)} statements"
            raise ReadOnlyViolation(f"only one SELECT or EXPLAIN statement is run read-only here, not {what}")

    def dispose(self) -> None:
        self.engine.dispose()
