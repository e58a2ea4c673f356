"""Dagster assets of the crawl stage: portal → raw store + ``raw.manifest`` (+ the region in ``core.dim_region``).

One ``multi_asset`` (op ``crawled_documents``) with three assets, so what the crawl writes to the warehouse is in
the lineage, not a side effect: ``crawled_documents`` (the manifest entries, handed to the extraction by the IO
manager), ``raw/manifest`` (one row per URL and content version, written as each document is fetched) and
``core/dim_region`` (the region's name as configured).
"""

import time

from dagster import AssetExecutionContext, AssetOut, Backoff, MetadataValue, Nothing, Output, RetryPolicy, multi_asset

from assets.crawl.crawler import CrawlStats, PreviousFetch, crawl_source
from assets.failures import as_failure
from assets.normalize.regions import region_by_code
from assets.partitions import region_partitions
from assets.records import ManifestEntry
from assets.resources import (
    ExtractionResource,
    HttpFetcherResource,
    RawStoreResource,
    SourcesResource,
    WarehouseResource,
)
from assets.stop import Interrupted, stop_requested
from assets.tables import table_key, table_metadata
from warehouse_schema import tables as t

MANIFEST_KEY = table_key(t.manifest)


def source_label(config) -> str:
    """How the summary names a source: region, then its start URL(s) or folder."""
    where = ", ".join(config.start_urls) if config.start_urls else f"folder {config.folder}"
    return f"{config.region_name} ({config.region_code}) {where}"


@multi_asset(
    name="crawled_documents",
    partitions_def=region_partitions,
    retry_policy=RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL),
    # on Celery: the queue of the run's portal host, one crawl at a time per host (pipelines/celery_executor.py)
    op_tags={"dagster-celery/queue": "crawl"},
    outs={
        "crawled_documents": AssetOut(
            key="crawled_documents",
            group_name="crawl",
            description="Every attachment the region's portals publish: fetched (conditionally), kept in the raw "
            "store by sha256 and recorded in raw.manifest. One entry per URL and content version.",
        ),
        "manifest": AssetOut(
            key=MANIFEST_KEY,
            group_name="crawl",
            dagster_type=Nothing,
            metadata=table_metadata(t.manifest),
            description="raw.manifest: one row per URL and content version the crawls fetched (sha256, HTTP "
            "validators, detected year, department, type, status and reason), written as each is fetched.",
        ),
        "dim_region": AssetOut(
            key=table_key(t.dim_region),
            group_name="crawl",
            dagster_type=Nothing,
            metadata=table_metadata(t.dim_region),
            description="core.dim_region: the regions (catalog, with the name the sources file gives each "
            "crawled region).",
        ),
    },
)
def crawled_documents(
    context: AssetExecutionContext,
    sources: SourcesResource,
    fetcher: HttpFetcherResource,
    raw_store: RawStoreResource,
    warehouse: WarehouseResource,
    extraction: ExtractionResource,
):
    region_code = context.partition_key
    configs = sources.by_region(region_code)
    if not configs:
        raise ValueError(f"region {region_code} is not in the sources file {sources.path}")
    wh = warehouse.open()
    try:
        previous = {
            row["url"]: PreviousFetch(sha256=row["sha256"], etag=row["etag"], last_modified=row["last_modified"])
            for row in wh.previous_fetches(region_code)
        }
        store = raw_store.store()
        started = time.monotonic()
        entries: list[ManifestEntry] = []
        problems: list[str] = []
        interrupted = False
        # each document's manifest row is written when it is fetched: a crawl killed part-way keeps them
        record = lambda entry: wh.record_manifest([entry.as_row()])  # noqa: E731
        with fetcher.fetcher() as client:
            for config in configs:
                stats = CrawlStats()
                entries.extend(
                    crawl_source(
                        config,
                        fetcher=client,
                        store=store,
                        previous=previous,
                        stats=stats,
                        limits=extraction.limits(),
                        on_entry=record,
                        should_stop=stop_requested,
                    )
                )
                problems += [f"{source_label(config)}: {p}" for p in stats.problems]
                if stats.interrupted:
                    interrupted = True
                    break
        for problem in problems:
            context.log.warning(f"source problem: {problem}")
        wh.upsert_regions([_region_row(configs[0])])
    finally:
        wh.dispose()
    if interrupted:
        raise as_failure(
            Interrupted(
                f"crawl of {region_code} stopped after {len(entries)} document(s), recorded "
                "in raw.manifest; the next run goes on from there"
            )
        )
    by_status: dict[str, int] = {}
    for e in entries:
        by_status[e.status] = by_status.get(e.status, 0) + 1
    metadata = {
        "documents_found": len(entries),
        "documents_new": sum(1 for e in entries if e.is_new and e.sha256 and e.status != "unchanged"),
        "by_status": MetadataValue.json(by_status),
        "years": MetadataValue.json(sorted({e.year for e in entries if e.year})),
        # the fiscal years with new or changed documents: the sensor process_after_crawl processes only these
        "years_new": MetadataValue.json(
            sorted({e.year for e in entries if e.year and e.is_new and e.sha256 and e.status != "unchanged"})
        ),
        # unreachable / blocked start pages, missing folders, max_pages or max_documents reached
        "source_problems": MetadataValue.json(problems),
        "seconds": round(time.monotonic() - started, 2),
    }
    yield Output(entries, "crawled_documents", metadata=metadata)
    yield Output(None, "manifest", metadata={"rows_recorded": len(entries)})
    yield Output(None, "dim_region", metadata={"region": region_code})


def _region_row(config) -> dict:
    region = region_by_code(config.region_code)
    return {
        "region_code": config.region_code,
        "region_name": config.region_name or (region.name if region else config.region_code),
        "prefecture": region.prefecture if region else None,
        "province": region.province if region else None,
    }
