"""Dagster asset of the extract stage: stored PDFs of one year × region → tables."""

import time
from collections import Counter

from dagster import AssetExecutionContext, AssetIn, MetadataValue, MultiToSingleDimensionPartitionMapping, asset

from assets.extract.batch import documents_of_year, extract_documents
from assets.failures import as_failure
from assets.partitions import year_region_partitions
from assets.records import ExtractionResult, ManifestEntry
from assets.resources import ExtractionResource, RawStoreResource
from assets.stop import Interrupted


@asset(
    partitions_def=year_region_partitions,
    group_name="extract",
    ins={"crawled_documents": AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping("region"))},
    description="Every template table of each budget document of the year × region, with page and row provenance "
    "(camelot; cached by sha256 so unchanged documents are not extracted again).",
)
def extracted_documents(
    context: AssetExecutionContext,
    crawled_documents: list[ManifestEntry],
    raw_store: RawStoreResource,
    extraction: ExtractionResource,
) -> dict[str, tuple[ManifestEntry, ExtractionResult]]:
    year = int(context.partition_key.keys_by_dimension["year"])
    started = time.monotonic()
    try:
        out, fresh = extract_documents(
            documents_of_year(crawled_documents, year),
            raw_store.store(),
            raw_store.cache_dir("extracted"),
            extraction.pool(),
            log=context.log.info,
        )
    except Interrupted as exc:  # Ctrl-C: the partition is not loaded half-extracted
        raise as_failure(exc) from None
    pages = sum(r.page_count for _, r in out.values())
    accuracies = [t.accuracy for _, r in out.values() for t in r.tables if t.accuracy is not None]
    context.add_output_metadata(
        {
            "documents": len(out),
            "extracted_now": fresh,
            "pages": pages,
            "rejected": MetadataValue.json({s[:12]: r.reason for s, (_, r) in out.items() if r.status != "ok"}),
            "tables": sum(len(r.tables) for _, r in out.values()),
            "min_accuracy": min(accuracies) if accuracies else None,
            "mean_accuracy": round(sum(accuracies) / len(accuracies), 2) if accuracies else None,
            "documents_rejected": sum(1 for _, r in out.values() if r.status != "ok"),
            # the camelot path that read each table (lattice/vector is the fast one; others are fallbacks)
            "flavors": MetadataValue.json(
                dict(Counter(t.flavor for _, r in out.values() for t in r.tables if t.flavor))
            ),
            "empty_tables": sum(1 for _, r in out.values() for t in r.tables if t.empty),
            "unrecognised": sum(len(r.unrecognised) for _, r in out.values()),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return out
