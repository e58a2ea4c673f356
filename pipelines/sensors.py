"""Sensors: region discovery, and processing after a successful crawl.

* ``discover_regions`` reads the sources file (``SourcesResource``); every region code not yet a partition of
  the dynamic ``region`` dimension is added and crawled, and every fiscal year that crawl finds is processed.
* ``process_after_crawl`` watches ``crawl_job`` runs that succeeded. A crawl started by the nightly schedule
  or by discovery carries the years to process in its tags; the sensor requests one ``process_job`` run per
  year × region, skipping partitions whose crawl found nothing new (a quiet night extracts nothing).

The decisions are pure functions (``years_to_process``, ``new_regions``) tested without Dagster; the
sensors are thin wrappers that read the instance.
"""

from __future__ import annotations

from typing import Any

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from assets.crawl.sources import SourceConfig, SourcesError
from assets.load.assets import DOCUMENT_KEY
from assets.partitions import FIRST_YEAR, LAST_YEAR, region_partitions, split_key, year_region_key
from assets.resources import SourcesResource
from pipelines.jobs import (
    AUTOMATION_ON,
    TAG_PROCESS_YEARS,
    TAG_TRIGGER,
    crawl_job,
    crawl_request,
    process_job,
)

CRAWL_ASSET = AssetKey("crawled_documents")
#: a partition is loaded when the load's core.document is materialized for it
LOAD_ASSET = DOCUMENT_KEY
#: on a process run: the crawl run it follows
TAG_CRAWL_RUN = "budget-etl/crawl-run"


def new_regions(configured: list[SourceConfig], registered: set[str]) -> dict[str, list[SourceConfig]]:
    """Regions of the sources file that are not partitions yet, with their source entries."""
    out: dict[str, list[SourceConfig]] = {}
    for config in configured:
        if config.region_code not in registered:
            out.setdefault(config.region_code, []).append(config)
    return dict(sorted(out.items()))


def years_to_process(
    years_tag: str,
    region: str,
    crawl: dict[str, Any],
    materialized: set[tuple[int, str]],
) -> list[int]:
    """The fiscal years of ``region`` to process after its crawl (pure).

    ``years_tag``: "all" or "2025,2026" (the crawl run's tag); ``crawl``: the crawl materialization's
    metadata (``years`` found, ``documents_new``, and ``years_new`` when the crawl reports it);
    ``materialized``: (year, region) partitions already loaded (core/document materialized).
    A year is processed when the crawl found documents of it and either it was never loaded or the crawl
    found something new for it (for the whole region when the crawl does not say which years).
    """
    found = {int(y) for y in crawl.get("years") or [] if FIRST_YEAR <= int(y) <= LAST_YEAR}
    if years_tag.strip() == "all":
        wanted = found
    else:
        wanted = {int(y) for y in years_tag.split(",") if y.strip()} & found
    years_new = crawl.get("years_new")
    new = {int(y) for y in years_new} if years_new is not None else (found if crawl.get("documents_new") else set())
    return sorted(y for y in wanted if (y, region) not in materialized or y in new)


def crawl_metadata(instance, run_id: str) -> dict[str, Any] | None:
    """The metadata of the crawled_documents materialization a run produced (plain values)."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    for record in records:
        mat = record.event_log_entry.asset_materialization
        if mat is not None and mat.asset_key == CRAWL_ASSET:
            return {k: v.value for k, v in mat.metadata.items()}
    return None


def loaded_partitions(instance) -> set[tuple[int, str]]:
    return {split_key(k) for k in instance.get_materialized_partitions(LOAD_ASSET)}


@sensor(
    job=crawl_job,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING if AUTOMATION_ON else DefaultSensorStatus.STOPPED,
    description="Adds every region of the sources file that is not a partition yet, crawls it, and (through "
    "process_after_crawl) processes every fiscal year the crawl finds.",
)
def discover_regions(context: SensorEvaluationContext, sources: SourcesResource):
    try:
        configured = sources.sources()
    except (SourcesError, OSError) as exc:
        return SkipReason(f"sources file {sources.path} unreadable: {exc}")
    registered = set(context.instance.get_dynamic_partitions(region_partitions.name))
    new = new_regions(configured, registered)
    if not new:
        return SkipReason(f"no new region in {sources.path} ({len(registered)} registered)")
    return SensorResult(
        run_requests=[
            crawl_request(region, configs, trigger="discovery", years="all", run_key=f"discover-{region}")
            for region, configs in new.items()
        ],
        dynamic_partitions_requests=[region_partitions.build_add_request(list(new))],
    )


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[crawl_job],
    request_job=process_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After a nightly or discovery crawl of a region succeeded: one process_job run per fiscal year "
    "it asked for, skipping years with nothing new that are already loaded.",
)
def process_after_crawl(context: RunStatusSensorContext):
    run = context.dagster_run
    years_tag = run.tags.get(TAG_PROCESS_YEARS)
    region = run.tags.get("dagster/partition")
    if not years_tag or not region:
        return SkipReason(
            f"crawl run {run.run_id} carries no {TAG_PROCESS_YEARS} tag (started by hand or by "
            "budget-etl, which processes itself)"
        )
    crawl = crawl_metadata(context.instance, run.run_id)
    if crawl is None:
        return SkipReason(f"crawl run {run.run_id} recorded no crawled_documents materialization")
    years = years_to_process(years_tag, region, crawl, loaded_partitions(context.instance))
    if not years:
        return SkipReason(
            f"region {region}: nothing new for years {years_tag} "
            f"(found {crawl.get('years')}, new documents {crawl.get('documents_new')})"
        )
    return [
        RunRequest(
            run_key=f"{run.run_id}-{year}",
            partition_key=year_region_key(year, region),
            tags={TAG_TRIGGER: "chain", TAG_CRAWL_RUN: run.run_id},
        )
        for year in years
    ]
