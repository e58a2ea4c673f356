"""``budget-etl ingest`` and ``budget-etl backfill``: the commands that run the Dagster assets (in process)."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import click
from dagster import BetaWarning, PreviewWarning

# the CLI's users cannot act on Dagster's API-stability notices (emitted as the definitions below are imported)
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

from assets.crawl.sources import SourcesError, load_sources  # noqa: E402
from assets.load.warehouse import Warehouse, WarehouseUnavailable, redact  # noqa: E402
from assets.partitions import parse_years  # noqa: E402
from pipelines.backfill import run_backfill  # noqa: E402
from pipelines.cli_common import PROGRESS_OPTION, data_dir_of, warehouse_url_of  # noqa: E402
from pipelines.ingest import print_summary, run_ingest  # noqa: E402
from pipelines.interrupts import run_stoppable  # noqa: E402
from pipelines.progress import make_progress  # noqa: E402


@click.command()
@click.option("--sources", "sources_path", required=True, help="YAML sources file (one entry per region).")
@click.option(
    "--warehouse",
    "warehouse_url",
    default=None,
    help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL; default duckdb:///<data-dir>/warehouse.duckdb].",
)
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
        summary = run_stoppable(
            run_ingest,
            sources_path,
            sources,
            data_dir=data_dir,
            warehouse_url=url,
            years=year_list,
            respect_robots=not no_robots,
            progress=progress,
            notice=_notice,
        )
    _report(summary, started, url)


def _notice(message: str) -> None:
    click.echo(message, err=True)


def _prepare(sources_path, regions, years, warehouse_url, data_dir, *, years_required=False):
    """Validate what a run needs before any work: sources, years, a reachable warehouse."""
    if not sources_path:
        raise click.ClickException("--sources FILE (or env BUDGET_SOURCES) is required")
    data_dir = data_dir_of(data_dir)
    url = warehouse_url_of(warehouse_url, data_dir)
    try:
        sources = load_sources(sources_path)
    except SourcesError as exc:
        raise click.ClickException(f"invalid sources file: {exc}") from exc
    try:
        year_list = parse_years(years) if years else None
    except ValueError as exc:
        raise click.ClickException(f"--years: {exc}") from exc
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
        raise click.ClickException(str(exc)) from exc
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
        click.echo(
            f"Error: {len(summary.source_problems)} source problem(s): " + "; ".join(summary.source_problems), err=True
        )
    if code:
        raise click.exceptions.Exit(code)


@click.command()
@click.option("--years", required=True, help="Fiscal years to backfill, e.g. 2019-2024 or 2019,2021.")
@click.option("--region", "regions", multiple=True, help="Only these region codes (repeatable; default: all).")
@click.option(
    "--sources",
    "sources_path",
    default=lambda: os.environ.get("BUDGET_SOURCES"),
    help="YAML sources file [env BUDGET_SOURCES].",
)
@click.option("--warehouse", "warehouse_url", default=None, help="SQLAlchemy URL [env BUDGET_WAREHOUSE_URL].")
@click.option("--data-dir", default=None, help="Raw store and caches [env BUDGET_DATA_DIR; default ./data].")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Partition runs at the same time, each in its own process.",
)
@click.option("--no-robots", is_flag=True, help="Ignore robots.txt (for a local mirror you own).")
@PROGRESS_OPTION
def backfill(years, regions, sources_path, warehouse_url, data_dir, workers, no_robots, progress_mode):
    """Crawl the regions, then run backfill_job for every year × region of the range (in process; runs are
    recorded in $DAGSTER_HOME's instance when set)."""
    sources, year_list, data_dir, url = _prepare(
        sources_path, regions, years, warehouse_url, data_dir, years_required=True
    )
    started = time.monotonic()
    with make_progress(data_dir, progress_mode) as progress:
        summary = run_stoppable(
            run_backfill,
            sources_path,
            sources,
            years=year_list,
            data_dir=data_dir,
            warehouse_url=url,
            workers=workers,
            respect_robots=not no_robots,
            progress=progress,
            notice=_notice,
        )
    _report(summary, started, url)
