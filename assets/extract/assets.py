"""Dagster asset of the extract stage: stored PDFs of one year × region → tables."""


import pickle
import time
from collections import Counter

from dagster import AssetExecutionContext, AssetIn, MetadataValue, MultiToSingleDimensionPartitionMapping, asset

from assets.extract.document import EXTRACTOR_VERSION, extract_document
from assets.records import DOC_BUDGET, STATUS_FAILED, STATUS_REJECTED, ExtractionResult, ManifestEntry
from pipelines.partitions import year_region_partitions
from pipelines.resources import RawStoreResource


def documents_of_year(entries: list[ManifestEntry], year: int) -> list[ManifestEntry]:
    """The budget documents of one fiscal year, one entry per content version (sha256)."""
    seen: dict[str, ManifestEntry] = {}
    for e in entries:
        if e.sha256 and e.year == year and e.doc_type == DOC_BUDGET and e.status not in (STATUS_REJECTED, STATUS_FAILED):
            seen.setdefault(e.sha256, e)
    return list(seen.values())


def extract_cached(raw_store: RawStoreResource, sha256: str) -> tuple[ExtractionResult, bool]:
    """Extraction of a stored document, cached by content hash and extractor version."""
    cache = raw_store.cache_dir("extracted") / f"{sha256}.v{EXTRACTOR_VERSION}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes()), True
    result = extract_document(raw_store.store().path(sha256), sha256)
    tmp = cache.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(result))
    tmp.replace(cache)
    return result, False


@asset(
    partitions_def=year_region_partitions,
    group_name="extract",
    ins={"crawled_documents": AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping("region"))},
    description="Every template table of each budget document of the year × region, with page and row provenance "
    "(camelot; cached by sha256 so unchanged documents are not extracted again).",
)
def extracted_documents(
    context: AssetExecutionContext, crawled_documents: list[ManifestEntry], raw_store: RawStoreResource
) -> dict[str, tuple[ManifestEntry, ExtractionResult]]:
    year = int(context.partition_key.keys_by_dimension["year"])
    started = time.monotonic()
    out: dict[str, tuple[ManifestEntry, ExtractionResult]] = {}
    fresh = pages = 0
    for entry in documents_of_year(crawled_documents, year):
        try:
            result, cached = extract_cached(raw_store, entry.sha256)
        except Exception as exc:  # one bad document never fails the partition
            context.log.error(f"extraction of {entry.url} ({entry.sha256[:12]}) failed: {exc}")
            result = ExtractionResult(entry.sha256, 0, [], status="rejected",
                                      reason=f"extraction failed: {type(exc).__name__}: {exc}")
            cached = False
        fresh += 0 if cached else 1
        pages += result.page_count
        out[entry.sha256] = (entry, result)
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
            "flavors": MetadataValue.json(dict(Counter(t.flavor for _, r in out.values() for t in r.tables
                                                       if t.flavor))),
            "empty_tables": sum(1 for _, r in out.values() for t in r.tables if t.empty),
            "unrecognised": sum(len(r.unrecognised) for _, r in out.values()),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return out
