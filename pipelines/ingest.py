"""Running the jobs in process for ``budget-etl ingest``: crawl each region, then process each year × region.

This is Dagster, not a second code path: each region's crawl is a ``crawl_job`` run and each year × region a
``process_job`` run of the code location's definitions (bound to this run's data dir, warehouse and sources
file), recorded in ``$DAGSTER_HOME``'s instance when it is set, as runs of the ``budget_etl`` code location
(pipelines/runs.py), so the UI's Runs and Overview pages show them.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from dagster import DagsterInstance

from assets.crawl.sources import SourceConfig
from assets.resources import HttpFetcherResource
from pipelines.backfill import crawl_regions, job_definitions, process_partitions, record_outcomes
from pipelines.jobs import TAG_TRIGGER
from pipelines.outcomes import IngestSummary
from pipelines.summary import collect_warnings, format_summary


def _instance() -> DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def run_ingest(
    sources_path: str,
    sources: list[SourceConfig],
    *,
    data_dir: str,
    warehouse_url: str,
    years: list[int] | None = None,
    respect_robots: bool = True,
    instance: DagsterInstance | None = None,
    fetcher: HttpFetcherResource | None = None,
    progress=None,
    extraction=None,
) -> IngestSummary:
    """Crawl every region of ``sources`` (``crawl_job``), then run ``process_job`` for every year × region the
    crawl found (only ``years`` when given). ``progress``: a :class:`pipelines.progress.Progress`.  After a
    request to stop (Ctrl-C) nothing more starts; the summary says what was not run."""
    if instance is None:  # made (and disposed) in the thread that runs the ingest
        with _instance() as instance:
            return run_ingest(
                sources_path,
                sources,
                data_dir=data_dir,
                warehouse_url=warehouse_url,
                years=years,
                respect_robots=respect_robots,
                instance=instance,
                fetcher=fetcher,
                progress=progress,
                extraction=extraction,
            )
    sources_path = str(Path(sources_path).resolve())
    fetcher = fetcher or HttpFetcherResource(respect_robots=respect_robots)
    defs = job_definitions(data_dir, warehouse_url, sources_path, fetcher=fetcher, extraction=extraction)
    summary = IngestSummary()
    tags = {TAG_TRIGGER: "cli"}
    todo = crawl_regions(
        defs,
        sorted({s.region_code for s in sources}),
        instance,
        summary,
        years=years,
        warehouse_url=warehouse_url,
        tags=tags,
        progress=progress,
    )
    outcomes = process_partitions(
        todo,
        data_dir=data_dir,
        warehouse_url=warehouse_url,
        sources_path=sources_path,
        instance=instance,
        job_name="process_job",
        tags=tags,
        defs=defs,
        progress=progress,
    )
    record_outcomes(summary, outcomes, todo)
    collect_warnings(summary, warehouse_url)
    return summary


def print_summary(summary: IngestSummary, seconds: float, warehouse: str) -> None:
    click.echo(format_summary(summary, seconds, warehouse))
