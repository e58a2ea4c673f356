"""``budget-etl query``, ``export`` and ``report``: the commands that read the warehouse (read-only).

They import neither Dagster nor the extraction stack, so an analyst's query starts at once."""

from __future__ import annotations

from pathlib import Path

import click

from assets.load.warehouse import ReadOnlyViolation, Warehouse, WarehouseUnavailable, redact
from pipelines.cli_common import data_dir_of, warehouse_url_of
from pipelines.export import ExportError, export_views, open_engine, select_views
from pipelines.html_report import write_html_report
from pipelines.output import render
from pipelines.report import document_report, format_report


@click.command()
@click.argument("sql")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: aligned columns (Chinese text included); csv: with a header row; json: an array of "
    "objects (amounts as exact numbers).",
)
def query(sql, warehouse_url, data_dir, fmt):
    """Print the result of a SQL query (e.g. SELECT * FROM mart.documents).  The warehouse is opened
    read-only: a write is refused, and a DuckDB file can be read while notebooks read it too."""
    url = warehouse_url_of(warehouse_url, data_dir_of(data_dir))
    try:
        wh = Warehouse(url, read_only=True)
    except WarehouseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        columns, rows = wh.query(sql)
        wh.dispose()
    except ReadOnlyViolation as exc:
        raise click.ClickException(
            f"query refused: `budget-etl query` opens the warehouse read-only and never "
            f"writes ({exc}); the warehouse changes only through ingest and backfill"
        ) from exc
    except Exception as exc:  # SQL errors: show the database's message
        raise click.ClickException(f"query failed: {getattr(exc, 'orig', exc)}") from exc
    click.echo(render(columns, rows, fmt))


@click.command()
@click.option(
    "--views",
    "views",
    multiple=True,
    default=("mart.*",),
    show_default=True,
    help="Views to export: names or glob patterns, repeatable or comma-separated (mart.*, mart.three_public).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="parquet: one directory per view partitioned by fiscal_year (exact decimals); csv: one file per view.",
)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Directory to write to.")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
def export(views, fmt, out, warehouse_url, data_dir):
    """Write mart views to files (Parquet or CSV) for notebooks and spreadsheets: they need no warehouse lock."""
    url = warehouse_url_of(warehouse_url, data_dir_of(data_dir))
    try:
        chosen = select_views(list(views))
        done = export_views(url, chosen, fmt, out)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # an unreachable or locked warehouse: the driver's message
        raise click.ClickException(f"export failed: {redact(url)}: {getattr(exc, 'orig', exc)}") from exc
    width = max(len(e.view) for e in done)
    for e in done:
        click.echo(f"{e.view:<{width}}  {e.rows:>8} rows  {e.path}")
    click.echo(
        f"({len(done)} view{'s' if len(done) != 1 else ''} in {Path(out).resolve()}; "
        f"columns and descriptions in {Path(out).resolve() / 'export.json'})"
    )


@click.command()
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
@click.option("--document", "document", default=None, help="Only the document whose sha256 starts with this.")
@click.option(
    "--html",
    "html_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write a static, offline HTML report to this directory (index.html) instead.",
)
def report(warehouse_url, data_dir, document, html_dir):
    """Per document: status, document set, tables found, rows loaded, checks passed and failed (mart.document_report).
    With --html DIR: charts and tables per region, and every document's data-quality state, as HTML files."""
    url = warehouse_url_of(warehouse_url, data_dir_of(data_dir))
    if html_dir:
        _html_report(url, html_dir)
        return
    try:
        wh = Warehouse(url, read_only=True)
        rows = document_report(wh, document)
        wh.dispose()
    except WarehouseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # a warehouse without the view (never ingested): the database's message
        raise click.ClickException(f"report failed: {getattr(exc, 'orig', exc)}") from exc
    if document and not rows:
        raise click.ClickException(f"no document with sha256 starting {document!r}")
    click.echo(format_report(rows))


def _html_report(url: str, out: str) -> None:
    try:
        engine = open_engine(url)
        try:
            files = write_html_report(engine, out, warehouse=redact(url))
        finally:
            engine.dispose()
    except Exception as exc:  # no warehouse, or never ingested: the database's message
        raise click.ClickException(f"report failed: {redact(url)}: {getattr(exc, 'orig', exc)}") from exc
    click.echo(f"wrote {len(files)} files: open {files[0].resolve()}")
