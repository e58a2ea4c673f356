"""Jobs, with the schedule and sensor that launch them."""

from __future__ import annotations

import datetime as dt
import os

from dagster import AssetSelection, RunRequest, ScheduleEvaluationContext, define_asset_job, schedule

from assets.crawl.assets import crawled_documents
from pipelines.partitions import region_partitions, year_region_key

PROCESS_ASSETS = AssetSelection.groups("extract", "normalize", "validate", "load")

#: crawl every configured portal (one run per region)
crawl_job = define_asset_job("crawl_job", selection=AssetSelection.assets(crawled_documents))
#: extract → normalize → validate → load one fiscal year of one region
process_job = define_asset_job("process_job", selection=PROCESS_ASSETS)

NIGHTLY_CRON = os.environ.get("BUDGET_NIGHTLY_CRON", "0 2 * * *")


@schedule(job=crawl_job, cron_schedule=NIGHTLY_CRON, execution_timezone="Asia/Shanghai")
def nightly_crawl(context: ScheduleEvaluationContext):
    """Every night: crawl every region, then process the current and previous fiscal year."""
    regions = context.instance.get_dynamic_partitions(region_partitions.name)
    stamp = context.scheduled_execution_time.strftime("%Y%m%d") if context.scheduled_execution_time else "manual"
    for region in regions:
        yield RunRequest(run_key=f"crawl-{region}-{stamp}", partition_key=region, job_name="crawl_job")


def nightly_years(today: dt.date | None = None) -> list[int]:
    today = today or dt.date.today()
    return [today.year - 1, today.year]


def process_requests(regions: list[str], years: list[int], stamp: str):
    for region in regions:
        for year in years:
            yield RunRequest(run_key=f"process-{year}-{region}-{stamp}", partition_key=year_region_key(year, region),
                             job_name="process_job")
