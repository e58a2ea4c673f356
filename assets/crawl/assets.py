"""Dagster asset of the crawl stage: portal → raw store + manifest."""


import time

from dagster import AssetExecutionContext, Backoff, MetadataValue, RetryPolicy, asset

from assets.crawl.crawler import CrawlStats, PreviousFetch, crawl_source
from assets.records import ManifestEntry
from assets.stop import Interrupted, as_failure, stop_requested
from pipelines.partitions import region_partitions
from pipelines.resources import (
    ExtractionResource,
    HttpFetcherResource,
    RawStoreResource,
    SourcesResource,
    WarehouseResource,
)


def source_label(config) -> str:
    """How the summary names a source: region, then its start URL(s) or folder."""
    where = ", ".join(config.start_urls) if config.start_urls else f"folder {config.folder}"
    return f"{config.region_name} ({config.region_code}) {where}"


@asset(
    partitions_def=region_partitions,
    group_name="crawl",
    retry_policy=RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL),
    # on Celery: the queue of the run's portal host, one crawl at a time per host (pipelines/celery_executor.py)
    op_tags={"dagster-celery/queue": "crawl"},
    description="Every attachment the region's portals publish: fetched (conditionally), kept in the raw store "
    "by sha256 and recorded in raw.manifest. One row per URL and content version.",
)
def crawled_documents(
    context: AssetExecutionContext,
    sources: SourcesResource,
    fetcher: HttpFetcherResource,
    raw_store: RawStoreResource,
    warehouse: WarehouseResource,
    extraction: ExtractionResource,
) -> list[ManifestEntry]:
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
                entries.extend(crawl_source(config, fetcher=client, store=store, previous=previous, stats=stats,
                                            limits=extraction.limits(), on_entry=record, should_stop=stop_requested))
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
        raise as_failure(Interrupted(f"crawl of {region_code} stopped after {len(entries)} document(s), recorded "
                                     "in raw.manifest; the next run goes on from there"))
    by_status: dict[str, int] = {}
    for e in entries:
        by_status[e.status] = by_status.get(e.status, 0) + 1
    context.add_output_metadata(
        {
            "documents_found": len(entries),
            "documents_new": sum(1 for e in entries if e.is_new and e.sha256 and e.status != "unchanged"),
            "by_status": MetadataValue.json(by_status),
            "years": MetadataValue.json(sorted({e.year for e in entries if e.year})),
            # the fiscal years with new or changed documents: the sensor process_after_crawl processes only these
            "years_new": MetadataValue.json(sorted({e.year for e in entries
                                                    if e.year and e.is_new and e.sha256 and e.status != "unchanged"})),
            # unreachable / blocked start pages, missing folders, max_pages or max_documents reached
            "source_problems": MetadataValue.json(problems),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return entries


def _region_row(config) -> dict:
    from assets.normalize.regions import region_by_code

    region = region_by_code(config.region_code)
    return {
        "region_code": config.region_code,
        "region_name": config.region_name or (region.name if region else config.region_code),
        "prefecture": region.prefecture if region else None,
        "province": region.province if region else None,
    }
