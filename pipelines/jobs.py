"""Jobs, and the nightly schedule that starts the chain crawl → process.

* ``crawl_job``: one run per region (partition of the dynamic ``region`` dimension) fetches new or changed
  attachments of the region's portals.
* ``process_job``: one run per fiscal year × region: extract → normalize → validate (with the asset checks)
  → load. Started by the sensor ``process_after_crawl`` (pipelines/sensors.py) once a region's crawl
  succeeded, for the years that crawl asked for.
* ``backfill_job``: the same assets as ``process_job`` over a year range (``budget-etl backfill`` or a
  backfill launched from the UI), tagged so the run queue runs it after nightly work.

Run tags carry what the sensors and the run queue need (see deploy/README.md): the portal host of a crawl
(``budget-etl/portal-host``, for per-host concurrency limits) and the fiscal years to process after it
(``budget-etl/process-years``).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from assets.crawl.assets import crawled_documents
from assets.crawl.sources import SourceConfig, SourcesError
from assets.load.assets import warehouse_tables
from assets.partitions import nightly_years, region_partitions
from assets.resources import SourcesResource

#: what started a run: nightly | discovery | chain | backfill | cli
TAG_TRIGGER = "budget-etl/trigger"
#: on a crawl run: the fiscal years to process once it succeeded ("2025,2026", or "all" = every year found)
TAG_PROCESS_YEARS = "budget-etl/process-years"
#: on a crawl run: the portal host it fetches from (run-queue limit per unique value: one crawl per host)
TAG_PORTAL_HOST = "budget-etl/portal-host"
#: Dagster's run-queue priority: backfills yield to nightly runs
TAG_PRIORITY = "dagster/priority"

PROCESS_ASSETS = AssetSelection.groups("extract", "normalize", "validate") | AssetSelection.assets(warehouse_tables)

#: crawl every configured portal (one run per region)
crawl_job = define_asset_job(
    "crawl_job",
    selection=AssetSelection.assets(crawled_documents),
    description="Crawl one region's portals into the raw store and raw.manifest (one run per region).",
)
#: extract → normalize → validate → load one fiscal year of one region (asset checks included)
process_job = define_asset_job(
    "process_job",
    selection=PROCESS_ASSETS,
    description="Extract, normalize, validate (asset checks) and load one fiscal year × region.",
)
#: the same over a year range, behind nightly work in the run queue
backfill_job = define_asset_job(
    "backfill_job",
    selection=PROCESS_ASSETS,
    run_tags={TAG_TRIGGER: "backfill", TAG_PRIORITY: "-1"},
    description="Backfill: process a range of fiscal years × regions (budget-etl backfill, or a backfill "
    "launched from the UI); queued behind nightly runs.",
)

NIGHTLY_CRON = os.environ.get("BUDGET_NIGHTLY_CRON", "0 2 * * *")
NIGHTLY_TIMEZONE = "Asia/Shanghai"
#: schedules and the discovery sensor start STOPPED (turn on in the UI, or BUDGET_AUTOMATION=on)
AUTOMATION_ON = os.environ.get("BUDGET_AUTOMATION", "off").lower() in ("1", "on", "true", "yes")


def portal_host(configs: list[SourceConfig]) -> str:
    """The host a region's crawl is polite to: the first start URL's host, "local" for folders / file://."""
    for config in configs:
        for url in config.start_urls:
            host = urlsplit(url).hostname
            if host:
                return host.lower()
    return "local"


def crawl_request(region: str, configs: list[SourceConfig], *, trigger: str, years: str, run_key: str) -> RunRequest:
    """A crawl run for one region, tagged with its host and with the years to process after it."""
    return RunRequest(
        run_key=run_key,
        partition_key=region,
        job_name="crawl_job",
        tags={TAG_TRIGGER: trigger, TAG_PROCESS_YEARS: years, TAG_PORTAL_HOST: portal_host(configs)},
    )


@schedule(
    job=crawl_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=NIGHTLY_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING if AUTOMATION_ON else DefaultScheduleStatus.STOPPED,
    description="Every night (cron from BUDGET_NIGHTLY_CRON, Asia/Shanghai): crawl every registered region that "
    "is still in the sources file; process_after_crawl then processes the previous and current fiscal year.",
)
def nightly_crawl(context: ScheduleEvaluationContext, sources: SourcesResource):
    try:
        configured = sources.sources()
    except (SourcesError, OSError) as exc:
        yield SkipReason(f"sources file {sources.path} unreadable: {exc}")
        return
    registered = set(context.instance.get_dynamic_partitions(region_partitions.name))
    by_region: dict[str, list[SourceConfig]] = {}
    for config in configured:
        by_region.setdefault(config.region_code, []).append(config)
    when = context.scheduled_execution_time
    stamp = when.strftime("%Y%m%d") if when else "manual"
    years = ",".join(str(y) for y in nightly_years(when.date() if when else None))
    regions = sorted(set(by_region) & registered)
    if not regions:
        yield SkipReason("no registered region is in the sources file (the discovery sensor registers them)")
        return
    for region in regions:
        yield crawl_request(
            region, by_region[region], trigger="nightly", years=years, run_key=f"nightly-{region}-{stamp}"
        )
