"""``budget-etl export``: the ``mart`` views as files, for notebooks and spreadsheets.

One output per view, named after the view without its schema:

* Parquet: ``DIR/<view>/fiscal_year=<year>/part-0.parquet`` (Hive partitioning; undated rows of
  ``mart.documents`` under ``fiscal_year=__HIVE_DEFAULT_PARTITION__``), or ``DIR/<view>.parquet`` for a view
  without ``fiscal_year``. Column types come from the data dictionary: amounts are ``decimal128`` (exact),
  so ``pandas.read_parquet("DIR/expenditure_by_function")`` or DuckDB's
  ``read_parquet('DIR/expenditure_by_function/*/*.parquet', hive_partitioning = true)`` read them exactly;
* CSV: ``DIR/<view>.csv``, UTF-8 with a header row, amounts as written, NULL as an empty field;
* ``DIR/export.json``: what was exported (views, rows, files, column names, types and descriptions).

A view's previous output is replaced as a whole (a year that disappeared leaves no file behind). The warehouse
is opened read-only when it is a DuckDB file, once, for the time of the export: the files need no warehouse lock.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipelines.output import cell_text
from warehouse_schema.dictionary import Dictionary, View, load
from warehouse_schema.views import VIEW_ORDER

FORMATS = ("parquet", "csv")
PARTITION_COLUMN = "fiscal_year"
BATCH_ROWS = 50_000


class ExportError(RuntimeError):
    """Nothing to export, or a warehouse whose views are not the ones this version describes."""


@dataclass
class ExportedView:
    view: str
    path: Path  # file or directory
    rows: int
    files: list[Path] = field(default_factory=list)


def select_views(patterns: list[str]) -> list[str]:
    """``mart.*`` / ``mart.three_public`` / ``three_public`` (glob patterns) → view names in creation order."""
    chosen: list[str] = []
    for pattern in patterns or ["mart.*"]:
        for part in (p.strip() for p in pattern.split(",")):
            if not part:
                continue
            full = part if "." in part else f"mart.{part}"
            found = [v for v in VIEW_ORDER if fnmatch.fnmatchcase(v, full)]
            if not found:
                raise ExportError(f"no mart view matches {part!r} (views: {', '.join(VIEW_ORDER)})")
            chosen += [v for v in found if v not in chosen]
    return [v for v in VIEW_ORDER if v in chosen]


def open_engine(url: str) -> sa.Engine:
    """The warehouse for reading: a DuckDB file read-only (another process may read it at the same time).
    A DuckDB file this process already has open for writing is read through that configuration."""
    if not url.startswith("duckdb"):
        return sa.create_engine(url)
    engine = sa.create_engine(url, connect_args={"read_only": True})
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        if "different configuration" not in str(exc):
            raise
        return sa.create_engine(url)
    return engine


def arrow_type(logical: str):
    import pyarrow as pa

    if logical == "text":
        return pa.string()
    if logical == "integer":
        return pa.int32()
    if logical == "bigint":
        return pa.int64()
    if logical == "boolean":
        return pa.bool_()
    if logical.startswith("decimal("):
        precision, scale = (int(x) for x in logical[len("decimal(") : -1].split(","))
        return pa.decimal128(precision, scale)
    raise ValueError(f"no Arrow type for {logical!r}")


def arrow_schema(view: View, without: str | None = None):
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(c.name, arrow_type(c.type), metadata={"description": c.description})
            for c in view.columns
            if c.name != without
        ],
        metadata={"view": view.name, "description": view.description},
    )


def _check_columns(conn: sa.Connection, view: View) -> list[str]:
    cur = conn.exec_driver_sql(f"SELECT * FROM {view.name} WHERE 1 = 0")
    got = list(cur.keys())
    cur.close()
    want = [c.name for c in view.columns]
    if got != want:
        missing = [c for c in want if c not in got]
        raise ExportError(
            f"{view.name} in this warehouse has other columns than this version of budget-etl "
            f"describes (missing: {', '.join(missing) or 'none'}): run `budget-etl ingest` (or any "
            "command that writes) once to bring its views up to date"
        )
    return got


def _batches(conn: sa.Connection, sql: str, params: dict | None = None):
    result = conn.execute(sa.text(sql), params or {})
    try:
        while True:
            chunk = result.fetchmany(BATCH_ROWS)
            if not chunk:
                return
            yield chunk
    finally:
        result.close()


def _write_parquet(conn: sa.Connection, view: View, target: Path) -> tuple[int, list[Path]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [c.name for c in view.columns]
    partitioned = PARTITION_COLUMN in names

    def write(sql: str, params: dict | None, path: Path, schema) -> int:
        keep = [i for i, n in enumerate(names) if n in schema.names]
        n = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(str(path), schema) as writer:
            for chunk in _batches(conn, sql, params):
                columns = list(zip(*chunk, strict=False))
                writer.write_batch(
                    pa.record_batch(
                        [pa.array(list(columns[i]), type=schema.field(names[i]).type) for i in keep], schema=schema
                    )
                )
                n += len(chunk)
            if n == 0:
                writer.write_table(schema.empty_table())
        return n

    cols = ", ".join(names)
    if not partitioned:
        path = target.with_suffix(".parquet")
        return write(f"SELECT {cols} FROM {view.name}", None, path, arrow_schema(view)), [path]
    schema = arrow_schema(view, without=PARTITION_COLUMN)
    years = [r[0] for r in conn.exec_driver_sql(f"SELECT DISTINCT {PARTITION_COLUMN} FROM {view.name}")]
    total, files = 0, []
    for year in sorted(years, key=lambda y: (y is None, y)):
        label = "__HIVE_DEFAULT_PARTITION__" if year is None else str(year)
        where = f"{PARTITION_COLUMN} IS NULL" if year is None else f"{PARTITION_COLUMN} = :year"
        path = target / f"{PARTITION_COLUMN}={label}" / "part-0.parquet"
        total += write(f"SELECT {cols} FROM {view.name} WHERE {where}", {"year": year}, path, schema)
        files.append(path)
    target.mkdir(parents=True, exist_ok=True)  # a view without rows: an empty directory
    return total, files


def _write_csv(conn: sa.Connection, view: View, target: Path) -> tuple[int, list[Path]]:
    import csv

    path = target.with_suffix(".csv")
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([c.name for c in view.columns])
        for chunk in _batches(conn, f"SELECT {', '.join(c.name for c in view.columns)} FROM {view.name}"):
            writer.writerows([[cell_text(v) for v in r] for r in chunk])
            n += len(chunk)
    return n, [path]


def export_views(
    url: str, views: list[str], fmt: str, out: str | Path, *, dictionary: Dictionary | None = None
) -> list[ExportedView]:
    """Write ``views`` of the warehouse at ``url`` to ``out`` in ``fmt`` (parquet | csv)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    d = dictionary or load()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    engine = open_engine(url)
    done: list[ExportedView] = []
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            for name in views:
                view = d.views[name]
                _check_columns(conn, view)
                short = name.split(".", 1)[1]
                staging = out / f".{short}.tmp"
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
                writer = _write_parquet if fmt == "parquet" else _write_csv
                rows, _ = writer(conn, view, staging / short)
                (produced,) = list(staging.iterdir())
                # replace this format's previous output of the view as a whole
                previous = [out / short, out / f"{short}.parquet"] if fmt == "parquet" else [out / f"{short}.csv"]
                for old in previous:
                    if old.is_dir():
                        shutil.rmtree(old)
                    elif old.exists():
                        old.unlink()
                final = out / produced.name
                produced.replace(final)
                staging.rmdir()
                files = sorted(final.rglob("*.parquet")) if final.is_dir() else [final]
                done.append(ExportedView(name, final, rows, files))
    finally:
        engine.dispose()
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "format": fmt,
        "seconds": round(time.monotonic() - started, 2),
        "views": {
            e.view: {
                "path": e.path.name,
                "rows": e.rows,
                "partitioned_by": PARTITION_COLUMN if e.path.is_dir() else None,
                "description": d.views[e.view].description,
                "columns": [
                    {"name": c.name, "type": c.type, "description": c.description} for c in d.views[e.view].columns
                ],
            }
            for e in done
        },
    }
    (out / "export.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return done


def read_back(path: Path, view: View) -> list[dict[str, Any]]:
    """Rows of an exported Parquet view (file or Hive-partitioned directory) with their exported types."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    if path.is_dir():
        partitioning = ds.partitioning(pa.schema([pa.field(PARTITION_COLUMN, arrow_type("integer"))]), flavor="hive")
        table = ds.dataset(str(path), format="parquet", partitioning=partitioning).to_table()
    else:
        table = ds.dataset(str(path), format="parquet").to_table()
    return table.select([c.name for c in view.columns]).to_pylist()
