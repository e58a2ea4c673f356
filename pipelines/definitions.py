"""The one Definitions object of the code location (``dagster dev -w workspace.yaml``)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions, FilesystemIOManager

from assets.crawl.assets import crawled_documents
from assets.extract.assets import extracted_documents
from assets.load.assets import REFERENCE_SPECS, warehouse_tables
from assets.normalize.assets import normalized_documents
from assets.resources import (
    ExtractionResource,
    HttpFetcherResource,
    RawStoreResource,
    SourcesResource,
    default_data_dir,
    warehouse_resource,
)
from assets.validate.assets import VALIDATION_CHECKS, previous_year_compared, validated_documents
from pipelines.celery_executor import selected_executor
from pipelines.conventions import mart_view_specs, spec_attributes, with_attributes
from pipelines.jobs import backfill_job, crawl_job, nightly_crawl, process_job
from pipelines.sensors import discover_regions, process_after_crawl

#: the pipeline's assets with their kinds, owners and code versions (pipelines/assets.yaml)
ALL_ASSETS = with_attributes(
    [
        crawled_documents,
        extracted_documents,
        normalized_documents,
        validated_documents,
        warehouse_tables,
        previous_year_compared,
    ]
)
ALL_CHECKS = [*VALIDATION_CHECKS]
#: the mart views, downstream of the core tables they read, with the data dictionary's column schema
MART_VIEWS = mart_view_specs()
#: the reference dimensions (loaded with the warehouse schema), upstream of the mart views
REFERENCE_TABLES = spec_attributes(REFERENCE_SPECS, "reference_tables")


def build_resources(
    data_dir: str | None = None,
    warehouse_url: str | None = None,
    sources_path: str | None = None,
    fetcher: HttpFetcherResource | None = None,
    extraction: ExtractionResource | None = None,
) -> dict:
    data_dir = str(Path(data_dir or default_data_dir()).resolve())
    return {
        "sources": SourcesResource(path=sources_path or os.environ.get("BUDGET_SOURCES", "examples/sources.yaml")),
        "fetcher": fetcher or HttpFetcherResource(),
        "raw_store": RawStoreResource(data_dir=data_dir),
        "extraction": extraction or ExtractionResource(),
        # the URL through the environment (dagster.EnvVar): a password never reaches run storage or the UI
        "warehouse": warehouse_resource(warehouse_url, data_dir),
        "io_manager": FilesystemIOManager(base_dir=str(Path(data_dir) / "dagster_storage")),
    }


defs = Definitions(
    assets=[*ALL_ASSETS, *REFERENCE_TABLES, *MART_VIEWS],
    asset_checks=ALL_CHECKS,
    jobs=[crawl_job, process_job, backfill_job],
    schedules=[nightly_crawl],
    sensors=[discover_regions, process_after_crawl],
    resources=build_resources(),
    # BUDGET_EXECUTOR=celery: steps on Celery workers (pipelines/celery_executor.py, deploy/celery.yaml)
    executor=selected_executor(),
)
