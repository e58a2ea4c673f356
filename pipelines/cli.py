"""``budget-etl``: the command line.  Every command runs the Dagster assets in process."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import click
from dagster import BetaWarning, PreviewWarning

# the CLI's users cannot act on Dagster's API-stability notices (emitted as the definitions below are imported)
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

from assets.crawl.sources import SourcesError, load_sources  # noqa: E402
from assets.load.warehouse import ReadOnlyViolation, Warehouse, WarehouseUnavailable, redact  # noqa: E402
from assets.partitions import parse_years  # noqa: E402
from pipelines.backfill import run_backfill  # noqa: E402
from pipelines.export import ExportError, export_views, open_engine, select_views  # noqa: E402
from pipelines.html_report import write_html_report  # noqa: E402
from pipelines.ingest import print_summary, run_ingest  # noqa: E402
from pipelines.interrupts import EXIT_INTERRUPTED, run_stoppable  # noqa: E402
from pipelines.output import render  # noqa: E402
from pipelines.progress import make_progress  # noqa: E402
from pipelines.report import document_report, format_report  # noqa: E402


def _data_dir(value: str | None) -> str:
    return value or os.environ.get("BUDGET_DATA_DIR", "./data")


def _warehouse_url(value: str | None, data_dir: str) -> str:
    return value or os.environ.get("BUDGET_WAREHOUSE_URL") or f"duckdb:///{Path(data_dir).resolve() / 'warehouse.duckdb'}"


PROGRESS_OPTION = click.option(
    "--progress", "progress_mode", type=click.Choice(["auto", "live", "plain", "off"]), default="auto",
    show_default=True, help="Progress on stderr: live display on a terminal, timestamped lines otherwise (auto).")


class _Commands(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C outside a run (e.g. while migrating): 130, no traceback
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=_Commands)
@click.version_option(package_name="budget-etl", prog_name="budget-etl")
def main() -> None:
    """ETL of Chinese department budget (部门预算) PDFs into a SQL warehouse.

    Exit codes: 0 everything ran; 1 nothing ran (invalid input, unreachable warehouse, refused query);
    3 a source failed (unreachable, blocked, missing, truncated at a cap); 4 a partition run failed;
    130 stopped by Ctrl-C."""


@main.command()
@click.option("--sources", "sources_path", required=True, help="YAML sources file (one entry per region).")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL; "
              "default duckdb:///<data-dir>/warehouse.duckdb].")
@click.option("--data-dir", default=None, help="Raw store and caches [env BUDGET_DATA_DIR; default ./data].")
@click.option("--years", default=None, help="Fiscal years to load, e.g. 2023-2025 or 2019,2021 (default: all found).")
@click.option("--region", "regions", multiple=True, help="Only these region codes (repeatable).")
@click.option("--no-robots", is_flag=True, help="Ignore robots.txt (for a local mirror you own).")
@PROGRESS_OPTION
def ingest(sources_path, warehouse_url, data_dir, years, regions, no_robots, progress_mode):
    """Crawl every source, then extract, normalize, validate and load each year × region."""
    sources, year_list, data_dir, url = _prepare(sources_path, regions, years, warehouse_url, data_dir)
    started = time.monotonic()
    with make_progress(data_dir, progress_mode) as progress:
        summary = run_stoppable(run_ingest, sources_path, sources, data_dir=data_dir, warehouse_url=url,
                                years=year_list, respect_robots=not no_robots, progress=progress, notice=_notice)
    _report(summary, started, url)


def _notice(message: str) -> None:
    click.echo(message, err=True)


def _prepare(sources_path, regions, years, warehouse_url, data_dir, *, years_required=False):
    """Validate what a run needs before any work: sources, years, a reachable warehouse."""
    if not sources_path:
        raise click.ClickException("--sources FILE (or env BUDGET_SOURCES) is required")
    data_dir = _data_dir(data_dir)
    url = _warehouse_url(warehouse_url, data_dir)
    try:
        sources = load_sources(sources_path)
    except SourcesError as exc:
        raise click.ClickException(f"invalid sources file: {exc}")
    try:
        year_list = parse_years(years) if years else None
    except ValueError as exc:
        raise click.ClickException(f"--years: {exc}")
    if years_required and not year_list:
        raise click.ClickException("--years: no year given")
    if regions:
        sources = [s for s in sources if s.region_code in regions]
        if not sources:
            raise click.ClickException(f"no source in {sources_path} has region code {', '.join(regions)}")
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    try:
        wh = Warehouse(url)
        wh.ensure_schema()
        wh.dispose()
    except WarehouseUnavailable as exc:
        raise click.ClickException(str(exc))
    return sources, year_list, data_dir, url


def _report(summary, started: float, url: str) -> None:
    """The summary, then the exit code of the run (pipelines/interrupts.py)."""
    print_summary(summary, time.monotonic() - started, redact(url))
    code = summary.exit_code
    if summary.interrupted:
        click.echo("stopped by Ctrl-C", err=True)
    elif summary.failed_runs:
        click.echo(f"Error: {len(summary.failed_runs)} run(s) failed: {', '.join(summary.failed_runs)}", err=True)
    elif summary.source_problems:
        click.echo(f"Error: {len(summary.source_problems)} source problem(s): "
                   + "; ".join(summary.source_problems), err=True)
    if code:
        raise click.exceptions.Exit(code)


@main.command()
@click.option("--years", required=True, help="Fiscal years to backfill, e.g. 2019-2024 or 2019,2021.")
@click.option("--region", "regions", multiple=True, help="Only these region codes (repeatable; default: all).")
@click.option("--sources", "sources_path", default=lambda: os.environ.get("BUDGET_SOURCES"),
              help="YAML sources file [env BUDGET_SOURCES].")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="Raw store and caches [env BUDGET_DATA_DIR; default ./data].")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Partition runs at the same time, each in its own process.")
@click.option("--no-robots", is_flag=True, help="Ignore robots.txt (for a local mirror you own).")
@PROGRESS_OPTION
def backfill(years, regions, sources_path, warehouse_url, data_dir, workers, no_robots, progress_mode):
    """Crawl the regions, then run backfill_job for every year × region of the range (in process; runs are
    recorded in $DAGSTER_HOME's instance when set)."""
    sources, year_list, data_dir, url = _prepare(sources_path, regions, years, warehouse_url, data_dir,
                                                 years_required=True)
    started = time.monotonic()
    with make_progress(data_dir, progress_mode) as progress:
        summary = run_stoppable(run_backfill, sources_path, sources, years=year_list, data_dir=data_dir,
                                warehouse_url=url, workers=workers, respect_robots=not no_robots, progress=progress,
                                notice=_notice)
    _report(summary, started, url)


@main.command()
@click.argument("sql")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: aligned columns (Chinese text included); csv: with a header row; json: an array of "
              "objects (amounts as exact numbers).")
def query(sql, warehouse_url, data_dir, fmt):
    """Print the result of a SQL query (e.g. SELECT * FROM mart.documents).  The warehouse is opened
    read-only: a write is refused, and a DuckDB file can be read while notebooks read it too."""
    url = _warehouse_url(warehouse_url, _data_dir(data_dir))
    try:
        wh = Warehouse(url, read_only=True)
    except WarehouseUnavailable as exc:
        raise click.ClickException(str(exc))
    try:
        columns, rows = wh.query(sql)
        wh.dispose()
    except ReadOnlyViolation as exc:
        raise click.ClickException(f"query refused: `budget-etl query` opens the warehouse read-only and never "
                                   f"writes ({exc}); the warehouse changes only through ingest and backfill")
    except Exception as exc:  # SQL errors: show the database's message
        raise click.ClickException(f"query failed: {getattr(exc, 'orig', exc)}")
    click.echo(render(columns, rows, fmt))


@main.command()
@click.option("--views", "views", multiple=True, default=("mart.*",), show_default=True,
              help="Views to export: names or glob patterns, repeatable or comma-separated (mart.*, mart.three_public).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="parquet: one directory per view partitioned by fiscal_year (exact decimals); csv: one file per view.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Directory to write to.")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
def export(views, fmt, out, warehouse_url, data_dir):
    """Write mart views to files (Parquet or CSV) for notebooks and spreadsheets: they need no warehouse lock."""
    url = _warehouse_url(warehouse_url, _data_dir(data_dir))
    try:
        chosen = select_views(list(views))
        done = export_views(url, chosen, fmt, out)
    except ExportError as exc:
        raise click.ClickException(str(exc))
    except Exception as exc:  # an unreachable or locked warehouse: the driver's message
        raise click.ClickException(f"export failed: {redact(url)}: {getattr(exc, 'orig', exc)}")
    width = max(len(e.view) for e in done)
    for e in done:
        click.echo(f"{e.view:<{width}}  {e.rows:>8} rows  {e.path}")
    click.echo(f"({len(done)} view{'s' if len(done) != 1 else ''} in {Path(out).resolve()}; "
               f"columns and descriptions in {Path(out).resolve() / 'export.json'})")


@main.command()
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
@click.option("--document", "document", default=None, help="Only the document whose sha256 starts with this.")
@click.option("--html", "html_dir", default=None, type=click.Path(file_okay=False),
              help="Write a static, offline HTML report to this directory (index.html) instead.")
def report(warehouse_url, data_dir, document, html_dir):
    """Per document: status, document set, tables found, rows loaded, checks passed and failed (mart.document_report).
    With --html DIR: charts and tables per region, and every document's data-quality state, as HTML files."""
    url = _warehouse_url(warehouse_url, _data_dir(data_dir))
    if html_dir:
        _html_report(url, html_dir)
        return
    try:
        wh = Warehouse(url, read_only=True)
        rows = document_report(wh, document)
        wh.dispose()
    except WarehouseUnavailable as exc:
        raise click.ClickException(str(exc))
    except Exception as exc:  # a warehouse without the view (never ingested): the database's message
        raise click.ClickException(f"report failed: {getattr(exc, 'orig', exc)}")
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
        raise click.ClickException(f"report failed: {redact(url)}: {getattr(exc, 'orig', exc)}")
    click.echo(f"wrote {len(files)} files: open {files[0].resolve()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
