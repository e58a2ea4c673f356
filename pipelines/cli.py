"""``budget-etl``: the command line.  Every command runs the Dagster assets in process."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import click

from assets.crawl.sources import SourcesError, load_sources
from assets.load.warehouse import ReadOnlyViolation, Warehouse, WarehouseUnavailable, redact
from pipelines.interrupts import EXIT_INTERRUPTED, run_stoppable

from dagster import BetaWarning, PreviewWarning  # noqa: E402

# the CLI's users cannot act on Dagster's API-stability notices
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)


def _data_dir(value: str | None) -> str:
    return value or os.environ.get("BUDGET_DATA_DIR", "./data")


def _warehouse_url(value: str | None, data_dir: str) -> str:
    return value or os.environ.get("BUDGET_WAREHOUSE_URL") or f"duckdb:///{Path(data_dir).resolve() / 'warehouse.duckdb'}"


class _Commands(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C outside a run (e.g. while migrating): 130, no traceback
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=_Commands)
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
def ingest(sources_path, warehouse_url, data_dir, years, regions, no_robots):
    """Crawl every source, then extract, normalize, validate and load each year × region."""
    from pipelines.ingest import run_ingest

    sources, year_list, data_dir, url = _prepare(sources_path, regions, years, warehouse_url, data_dir)
    started = time.monotonic()
    summary = run_stoppable(run_ingest, sources_path, sources, data_dir=data_dir, warehouse_url=url,
                            years=year_list, respect_robots=not no_robots, notice=_notice)
    _report(summary, started, url)


def _notice(message: str) -> None:
    click.echo(message, err=True)


def _prepare(sources_path, regions, years, warehouse_url, data_dir, *, years_required=False):
    """Validate what a run needs before any work: sources, years, a reachable warehouse."""
    from pipelines.partitions import parse_years

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
    from pipelines.ingest import print_summary

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
def backfill(years, regions, sources_path, warehouse_url, data_dir, workers, no_robots):
    """Crawl the regions, then run backfill_job for every year × region of the range (in process; runs are
    recorded in $DAGSTER_HOME's instance when set)."""
    from pipelines.backfill import run_backfill

    sources, year_list, data_dir, url = _prepare(sources_path, regions, years, warehouse_url, data_dir,
                                                 years_required=True)
    started = time.monotonic()
    summary = run_stoppable(run_backfill, sources_path, sources, years=year_list, data_dir=data_dir,
                            warehouse_url=url, workers=workers, respect_robots=not no_robots, notice=_notice)
    _report(summary, started, url)


@main.command()
@click.argument("sql")
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
def query(sql, warehouse_url, data_dir):
    """Print the result of a SQL query as a table (e.g. SELECT * FROM mart.documents).  The warehouse is
    opened read-only: a write is refused, and a DuckDB file can be read while notebooks read it too."""
    from tabulate import tabulate

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
    click.echo(tabulate(rows, headers=columns, tablefmt="simple", disable_numparse=True))
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


@main.command()
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="[env BUDGET_DATA_DIR; default ./data]")
@click.option("--document", "document", default=None, help="Only the document whose sha256 starts with this.")
def report(warehouse_url, data_dir, document):
    """Per document: status, document set, tables found, rows loaded, checks passed and failed (mart.document_report)."""
    from pipelines.report import document_report, format_report

    url = _warehouse_url(warehouse_url, _data_dir(data_dir))
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
