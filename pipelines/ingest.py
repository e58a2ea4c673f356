"""Running the jobs in process for ``budget-etl ingest``: crawl each region, then process each year × region.

This is Dagster, not a second code path: each region's crawl is a ``crawl_job`` run and each year × region a
``process_job`` run of the code location's definitions (bound to this run's data dir, warehouse and sources
file), recorded in ``$DAGSTER_HOME``'s instance when it is set, as runs of the ``budget_etl`` code location
(pipelines/runs.py), so the UI's Runs and Overview pages show them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click
from dagster import DagsterInstance

from assets.crawl.sources import SourceConfig
from assets.records import ManifestEntry
from pipelines.resources import HttpFetcherResource


@dataclass
class IngestSummary:
    crawled: dict[str, list[ManifestEntry]] = field(default_factory=dict)  # region → entries
    documents: dict[str, dict] = field(default_factory=dict)  # sha → status, reason, url, department
    rows: dict[str, int] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    #: region → {url: sha256} of the latest stored fetch before this run's crawl (new vs changed)
    previous: dict[str, dict[str, str]] = field(default_factory=dict)
    #: soft data-quality findings of this run's documents: sha, check_name, page, detail
    warnings: list[dict] = field(default_factory=list)
    #: sources that failed: unreachable or blocked start page, missing folder, max_pages / max_documents reached
    source_problems: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C: what is listed was done, the rest was not
    not_run: list[str] = field(default_factory=list)  # partitions or crawls not run because of the stop

    @property
    def exit_code(self) -> int:
        from pipelines.interrupts import exit_code

        return exit_code(interrupted=self.interrupted, failed_runs=self.failed_runs,
                         source_problems=self.source_problems)


def source_problems_of(result) -> list[str]:
    """The crawl's ``source_problems`` metadata (assets/crawl/assets.py) of a run result."""
    out: list[str] = []
    for mat in result.asset_materializations_for_node("crawled_documents"):
        value = mat.metadata.get("source_problems")
        out += list(value.value) if value is not None else []
    return out


def _root_message(error) -> str:
    """The first line of the innermost cause of a Dagster error (the user code's exception)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return (error.message or error.cls_name or "").strip().splitlines()[0]


def step_errors(result) -> str | None:
    """The failed steps' messages of a run result, one line (no traceback)."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return "; ".join(f"{e.step_key}: {_root_message(e.step_failure_data.error)}"
                     for e in failures if e.step_failure_data and e.step_failure_data.error) or None


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
    from pipelines.backfill import crawl_regions, job_definitions, process_partitions, record_outcomes
    from pipelines.jobs import TAG_TRIGGER
    from pipelines.summary import collect_warnings

    if instance is None:  # made (and disposed) in the thread that runs the ingest
        with _instance() as instance:
            return run_ingest(sources_path, sources, data_dir=data_dir, warehouse_url=warehouse_url, years=years,
                              respect_robots=respect_robots, instance=instance, fetcher=fetcher, progress=progress,
                              extraction=extraction)
    sources_path = str(Path(sources_path).resolve())
    fetcher = fetcher or HttpFetcherResource(respect_robots=respect_robots)
    defs = job_definitions(data_dir, warehouse_url, sources_path, fetcher=fetcher, extraction=extraction)
    summary = IngestSummary()
    tags = {TAG_TRIGGER: "cli"}
    todo = crawl_regions(defs, sorted({s.region_code for s in sources}), instance, summary, years=years,
                         warehouse_url=warehouse_url, tags=tags, progress=progress)
    outcomes = process_partitions(todo, data_dir=data_dir, warehouse_url=warehouse_url, sources_path=sources_path,
                                  instance=instance, job_name="process_job", tags=tags, defs=defs, progress=progress)
    record_outcomes(summary, outcomes, todo)
    collect_warnings(summary, warehouse_url)
    return summary


def print_summary(summary: IngestSummary, seconds: float, warehouse: str) -> None:
    from pipelines.summary import format_summary

    click.echo(format_summary(summary, seconds, warehouse))
