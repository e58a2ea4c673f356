"""``budget-etl backfill``: crawl the regions, then run ``backfill_job`` for every fiscal year × region.

Runs in process, like ``budget-etl ingest`` (no daemon needed): each region's crawl is a ``crawl_job`` run, each
year × region a ``backfill_job`` run, all recorded in the instance (``DAGSTER_HOME``'s when set) as runs of the code
location's jobs (pipelines/runs.py), so they show in the UI's Runs and Overview. ``workers`` > 1 runs that many
partition runs at the same time, each in its own worker process (camelot is CPU-bound; one Python process uses one
core). DuckDB allows one writing process, so with a DuckDB warehouse the workers run extract + normalize and this
process then runs validate + load (and their asset checks) partition by partition: two runs per partition; on
PostgreSQL each worker runs the whole partition. With a daemon running, the same backfill can instead be launched
from the UI (Materialize → backfill over the partitions) and the run queue's ``max_concurrent_runs`` plays the role
of ``workers`` (deploy/README.md).

A failed partition (a crashed step, a failed blocking asset check) is reported and the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetKey, DagsterInstance, Definitions

from assets.crawl.sources import SourceConfig
from assets.load.assets import DOCUMENT_KEY, LOAD_NODE, LOADED_KEYS
from assets.load.warehouse import Warehouse
from assets.partitions import FIRST_YEAR, LAST_YEAR, region_partitions, year_region_key
from assets.resources import HttpFetcherResource, machine_cores
from assets.stop import stop_requested
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, build_resources
from pipelines.interrupts import install_worker_handler, run_stoppable
from pipelines.jobs import TAG_TRIGGER, backfill_job, crawl_job, nightly_crawl, process_job
from pipelines.outcomes import IngestSummary, source_problems_of, step_errors
from pipelines.progress import NullProgress
from pipelines.runs import execute
from pipelines.sensors import discover_regions, process_after_crawl
from pipelines.summary import collect_warnings

#: stages that never open the warehouse (run in parallel worker processes even on DuckDB)
PARALLEL_ASSETS = ["extracted_documents", "normalized_documents"]
#: stages that read or write the warehouse
WAREHOUSE_ASSETS = ["validated_documents", *(k.to_user_string() for k in LOADED_KEYS), "previous_year_compared"]
#: the CLI prints its own summary; Dagster's per-event console log only above INFO
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class PartitionOutcome:
    year: int
    region: str
    success: bool
    seconds: float
    run_id: str
    loaded: dict | None = None  # what the load did: {"documents": {sha: {...}}, "rows": {table: n}}
    failed_checks: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.year}|{self.region}"


def loaded_summary(result) -> dict:
    """What the load of a partition run did, from its materializations (assets/load/assets.py): every
    document's status, reason, URL and department (core/document's ``documents``), and the rows loaded per
    core table (each table's ``rows_loaded``; ``superseded``: older versions of republished files)."""
    loaded: dict = {"documents": {}, "rows": {}}
    for mat in result.asset_materializations_for_node(LOAD_NODE):
        meta = mat.metadata
        if mat.asset_key == DOCUMENT_KEY:
            loaded["documents"] = dict(meta["documents"].value)
            loaded["rows"]["superseded"] = meta["superseded"].value
        else:
            loaded["rows"][mat.asset_key.path[-1]] = meta["rows_loaded"].value
    return loaded


def job_definitions(
    data_dir: str,
    warehouse_url: str,
    sources_path: str,
    fetcher: HttpFetcherResource | None = None,
    extra_checks: tuple = (),
    extraction=None,
) -> Definitions:
    """The code location's assets and jobs bound to this run's data dir, warehouse and sources file."""
    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=[*ALL_CHECKS, *extra_checks],
        jobs=[crawl_job, process_job, backfill_job],
        schedules=[nightly_crawl],
        sensors=[discover_regions, process_after_crawl],
        resources=build_resources(
            data_dir=data_dir,
            warehouse_url=warehouse_url,
            sources_path=sources_path,
            fetcher=fetcher,
            extraction=extraction,
        ),
    )


def run_partition(
    defs: Definitions,
    job_name: str,
    year: int,
    region: str,
    instance: DagsterInstance,
    tags: dict | None = None,
    assets: list[str] | None = None,
) -> PartitionOutcome:
    """One year × region run of ``job_name`` (process_job or backfill_job), in this process; ``assets``: only
    these assets of the job (with their checks), the others' outputs are read from the IO manager."""
    started = time.monotonic()
    result = execute(
        defs.resolve_job_def(job_name),
        instance=instance,
        partition_key=year_region_key(year, region),
        raise_on_error=False,
        run_config=QUIET,
        tags=tags or {},
        asset_selection=[AssetKey.from_user_string(a) for a in assets] if assets else None,
    )
    outcome = PartitionOutcome(year, region, result.success, 0.0, result.run_id)
    outcome.failed_checks = sorted(
        f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed
    )
    if result.success and (assets is None or DOCUMENT_KEY.to_user_string() in assets):
        outcome.loaded = loaded_summary(result)
    else:
        outcome.error = step_errors(result)
    outcome.seconds = time.monotonic() - started
    return outcome


def _worker(args: tuple) -> PartitionOutcome:
    """Entry point of a worker process: its own instance handle (or an ephemeral one), the same definitions.
    The partition runs in a thread so that Ctrl-C stops it after the current document (pipelines/interrupts.py)."""
    job_name, year, region, data_dir, warehouse_url, sources_path, instance_ref, tags, assets = args
    instance = DagsterInstance.from_ref(instance_ref) if instance_ref else DagsterInstance.ephemeral()
    if instance.is_ephemeral:
        instance.add_dynamic_partitions(region_partitions.name, [region])
    try:
        defs = job_definitions(data_dir, warehouse_url, sources_path)
        return run_stoppable(run_partition, defs, job_name, year, region, instance, tags, assets)
    finally:
        instance.dispose()


def _run_in_workers(
    ctx, workers: int, partitions: list[tuple[int, str]], progress, single_writer: bool, common: tuple, job_name: str
) -> list[PartitionOutcome]:
    """``_worker`` for every partition in ``workers`` spawned processes; outcomes in input order."""
    data_dir, warehouse_url, sources_path, ref, tags, assets = common
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=install_worker_handler) as pool:
        futures = [
            pool.submit(_worker, (job_name, y, r, data_dir, warehouse_url, sources_path, ref, tags, assets))
            for y, r in partitions
        ]
        progress.partitions_submitted(
            {(y, r): f for (y, r), f in zip(partitions, futures, strict=False)}, final=not single_writer
        )
        outcomes = []
        for future in futures:
            if stop_requested() and future.cancel():
                continue
            outcomes.append(future.result())
    return outcomes


def process_partitions(
    partitions: list[tuple[int, str]],
    *,
    data_dir: str,
    warehouse_url: str,
    sources_path: str,
    instance: DagsterInstance,
    workers: int = 1,
    job_name: str = "backfill_job",
    tags: dict | None = None,
    defs: Definitions | None = None,
    progress=None,
) -> list[PartitionOutcome]:
    """Run ``job_name`` for every (year, region), ``workers`` at a time; outcomes in input order.
    ``progress`` (pipelines.progress) hears when each partition starts and ends.  After a request to stop
    (Ctrl-C) no partition starts: the outcomes end with the partitions that ran."""
    progress = progress or NullProgress()
    if workers <= 1 or len(partitions) <= 1:
        defs = defs or job_definitions(data_dir, warehouse_url, sources_path)
        outcomes = []
        for y, r in partitions:
            if stop_requested():
                break
            progress.partition_started(y, r)
            outcomes.append(run_partition(defs, job_name, y, r, instance, tags))
            progress.partition_finished(outcomes[-1])
        return outcomes
    ref = None if instance.is_ephemeral else instance.get_ref()
    # DuckDB has one writing process at a time: the workers then run the CPU-bound stages that never open the
    # warehouse, and this process runs validate + load (and their checks) partition by partition
    single_writer = warehouse_url.startswith("duckdb")
    assets = PARALLEL_ASSETS if single_writer else None
    # spawn, not fork: the parent holds Dagster's threads and database connections
    ctx = multiprocessing.get_context("spawn")
    # each partition worker extracts its documents on its share of the cores (not on all of them each), unless
    # BUDGET_EXTRACT_WORKERS says otherwise; the spawned workers read it from the environment they inherit
    share = os.environ.get("BUDGET_EXTRACT_WORKERS")
    os.environ["BUDGET_EXTRACT_WORKERS"] = share or str(max(1, machine_cores() // workers))
    try:
        outcomes = _run_in_workers(
            ctx,
            workers,
            partitions,
            progress,
            single_writer,
            (data_dir, warehouse_url, sources_path, ref, tags, assets),
            job_name,
        )
    finally:
        if share is None:
            del os.environ["BUDGET_EXTRACT_WORKERS"]
    if not single_writer:
        return outcomes
    defs = defs or job_definitions(data_dir, warehouse_url, sources_path)
    done = []
    for first in outcomes:
        if not first.success:
            done.append(first)
            progress.partition_finished(first)
            continue
        progress.partition_started(first.year, first.region, stage="validate + load")
        second = run_partition(defs, job_name, first.year, first.region, instance, tags, WAREHOUSE_ASSETS)
        second.seconds += first.seconds
        second.failed_checks = sorted({*first.failed_checks, *second.failed_checks})
        done.append(second)
        progress.partition_finished(second)
    return done


def crawl_regions(
    defs: Definitions,
    regions: list[str],
    instance: DagsterInstance,
    summary,
    *,
    years: list[int] | None,
    warehouse_url: str,
    tags: dict,
    progress=None,
) -> list[tuple[int, str]]:
    """A ``crawl_job`` run per region; fills ``summary`` (entries, the fetches known before, failed crawls) and
    returns the (year, region) partitions to process: the years found (only ``years`` when given)."""
    progress = progress or NullProgress()
    instance.add_dynamic_partitions(region_partitions.name, regions)
    crawl = defs.resolve_job_def("crawl_job")
    todo: list[tuple[int, str]] = []
    for i, region in enumerate(regions):
        if stop_requested():  # Ctrl-C: nothing more is crawled, nothing processed (the rerun completes)
            summary.interrupted = True
            summary.not_run += [f"crawl {r}" for r in regions[i:]]
            return []
        progress.crawl_started(region, i, len(regions))
        wh = Warehouse(warehouse_url)
        try:  # what was stored before this crawl: tells a changed document from a new one
            wh.ensure_schema()  # (a no-op when up to date; the crawl needs it too)
            summary.previous[region] = {r["url"]: r["sha256"] for r in wh.previous_fetches(region)}
        finally:
            wh.dispose()
        result = execute(
            crawl, instance=instance, partition_key=region, raise_on_error=False, run_config=QUIET, tags=tags
        )
        summary.source_problems += source_problems_of(result)
        if not result.success:
            progress.crawl_finished(region, None)
            if stop_requested():  # Ctrl-C during the crawl: what was fetched is in the manifest
                summary.interrupted = True
                summary.not_run += [f"crawl {r}" for r in regions[i:]]
                return []
            summary.failed_runs.append(f"crawl {region}: {step_errors(result)}")
            continue
        entries = result.output_for_node("crawled_documents", "crawled_documents")
        summary.crawled[region] = entries
        progress.crawl_finished(region, entries)
        found = {e.year for e in entries if e.year and FIRST_YEAR <= e.year <= LAST_YEAR}
        todo += [(y, region) for y in sorted(found) if years is None or y in years]
    progress.plan(todo, summary.crawled)
    return todo


def record_outcomes(summary, outcomes: list[PartitionOutcome], todo: list[tuple[int, str]] | None = None) -> None:
    """Partition outcomes into the summary: documents, rows loaded, failed runs; after a stop (Ctrl-C), the
    partitions of ``todo`` that did not run, or were stopped before their load, as not run."""
    ran = {o.key for o in outcomes}
    for y, r in todo or []:
        if f"{y}|{r}" not in ran:
            summary.interrupted = True
            summary.not_run.append(f"process {y}|{r}")
    for outcome in outcomes:
        if not outcome.success and stop_requested():
            summary.interrupted = True
            summary.not_run.append(f"process {outcome.key} (stopped during extraction, not loaded)")
            continue
        summary.partitions.append(outcome.key)
        if not outcome.success:
            why = (
                f" (failed checks: {', '.join(outcome.failed_checks)})"
                if outcome.failed_checks
                else f": {outcome.error}"
                if outcome.error
                else ""
            )
            summary.failed_runs.append(f"process {outcome.key}{why}")
            continue
        summary.documents.update(outcome.loaded["documents"])
        for k, v in outcome.loaded["rows"].items():
            summary.rows[k] = summary.rows.get(k, 0) + v


def run_backfill(
    sources_path: str,
    sources: list[SourceConfig],
    *,
    years: list[int],
    data_dir: str,
    warehouse_url: str,
    workers: int = 1,
    respect_robots: bool = True,
    instance: DagsterInstance | None = None,
    fetcher: HttpFetcherResource | None = None,
    progress=None,
):
    """Crawl every region of ``sources``, then backfill ``years`` × region for the years the crawl found.

    Returns the same summary as ``budget-etl ingest`` (pipelines.ingest.IngestSummary).
    """
    if instance is None:
        import os

        with DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral() as instance:
            return run_backfill(
                sources_path,
                sources,
                years=years,
                data_dir=data_dir,
                warehouse_url=warehouse_url,
                workers=workers,
                respect_robots=respect_robots,
                instance=instance,
                fetcher=fetcher,
                progress=progress,
            )
    sources_path = str(Path(sources_path).resolve())
    fetcher = fetcher or HttpFetcherResource(respect_robots=respect_robots)
    defs = job_definitions(data_dir, warehouse_url, sources_path, fetcher=fetcher)
    summary = IngestSummary()
    todo = crawl_regions(
        defs,
        sorted({s.region_code for s in sources}),
        instance,
        summary,
        years=years,
        warehouse_url=warehouse_url,
        tags={TAG_TRIGGER: "backfill"},
        progress=progress,
    )
    outcomes = process_partitions(
        todo,
        data_dir=data_dir,
        warehouse_url=warehouse_url,
        sources_path=sources_path,
        instance=instance,
        workers=workers,
        defs=defs,
        progress=progress,
    )
    record_outcomes(summary, outcomes, todo)
    collect_warnings(summary, warehouse_url)
    return summary
