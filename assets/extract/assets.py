"""Dagster asset of the extract stage: stored PDFs of one year × region → tables."""


import pickle
import time
from collections import Counter
from pathlib import Path

from dagster import AssetExecutionContext, AssetIn, MetadataValue, MultiToSingleDimensionPartitionMapping, asset

from assets.extract.document import EXTRACTOR_VERSION
from assets.extract.worker import Limits, WorkerPool, extract_many, limit_of
from assets.failures import as_failure
from assets.partitions import year_region_partitions
from assets.records import DOC_BUDGET, STATUS_FAILED, STATUS_REJECTED, ExtractionResult, ManifestEntry
from assets.resources import ExtractionResource, RawStoreResource
from assets.stop import Interrupted, stop_requested


def documents_of_year(entries: list[ManifestEntry], year: int) -> list[ManifestEntry]:
    """The budget documents of one fiscal year, one entry per content version (sha256)."""
    seen: dict[str, ManifestEntry] = {}
    for e in entries:
        if e.sha256 and e.year == year and e.doc_type == DOC_BUDGET and e.status not in (STATUS_REJECTED, STATUS_FAILED):
            seen.setdefault(e.sha256, e)
    return list(seen.values())


def _limit_value(kind: str, limits: Limits) -> float:
    return limits.memory_bytes if kind == "memory" else limits.seconds


def _cache_path(cache_dir: Path, sha256: str, kind: str | None = None, value: float | None = None) -> Path:
    suffix = f".{kind}-{value:g}" if kind else ""
    return cache_dir / f"{sha256}.v{EXTRACTOR_VERSION}{suffix}.pickle"


def cached_extraction(cache_dir: Path, sha256: str, limits: Limits) -> ExtractionResult | None:
    """The cached extraction of a document (by content hash and extractor version), or None.  A rejection
    for a limit is reused only while the limit is not raised above the one it was rejected under."""
    path = _cache_path(cache_dir, sha256)
    if path.exists():
        return pickle.loads(path.read_bytes())
    for kind in ("memory", "time"):
        for p in cache_dir.glob(f"{sha256}.v{EXTRACTOR_VERSION}.{kind}-*.pickle"):
            if _limit_value(kind, limits) <= float(p.name.split(f".{kind}-", 1)[1].removesuffix(".pickle")):
                return pickle.loads(p.read_bytes())
    return None


def store_extraction(cache_dir: Path, result: ExtractionResult, limits: Limits) -> None:
    """Cache a result; a crashed or failed worker is not cached (the next run tries again)."""
    reason = result.reason or ""
    if result.status == STATUS_REJECTED and reason.startswith(("worker crashed", "worker failed", "worker exited")):
        return
    kind = limit_of(reason)
    path = _cache_path(cache_dir, result.document_sha256, kind, _limit_value(kind, limits) if kind else None)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(result))
    tmp.replace(path)


def extract_documents(entries: list[ManifestEntry], raw_store: RawStoreResource, pool: WorkerPool,
                      log=None) -> tuple[dict[str, tuple[ManifestEntry, ExtractionResult]], int]:
    """Every document's extraction (cached, else in the worker pool, in input order) and how many were
    extracted now.  Stops between documents when asked (Ctrl-C): :class:`Interrupted`, finished documents
    are cached, so the rerun does not extract them again."""
    cache_dir = raw_store.cache_dir("extracted")
    results: dict[str, ExtractionResult] = {}
    todo: list[ManifestEntry] = []
    for entry in entries:
        cached = cached_extraction(cache_dir, entry.sha256, pool.limits)
        if cached is not None:
            results[entry.sha256] = cached
        else:
            todo.append(entry)
    store = raw_store.store()
    paths = []
    for entry in todo:
        try:
            paths.append((store.path(entry.sha256), entry.sha256))
        except FileNotFoundError as exc:  # a raw file removed by hand: recorded, the partition goes on
            results[entry.sha256] = ExtractionResult(entry.sha256, 0, [], status="rejected", reason=str(exc))
    fresh = 0

    def keep(result: ExtractionResult) -> None:  # cached as soon as it is done: a stopped run keeps it
        nonlocal fresh
        fresh += 1
        if result.status == STATUS_REJECTED and log is not None:
            log(f"{result.document_sha256[:12]} rejected: {result.reason}")
        store_extraction(cache_dir, result, pool.limits)
        results[result.document_sha256] = result

    extract_many(paths, pool, should_stop=stop_requested, on_result=keep)
    missing = [e for e in entries if e.sha256 not in results]
    if missing:
        raise Interrupted(f"stopped after {len(entries) - len(missing)} of {len(entries)} documents "
                          f"({fresh} extracted now and cached); {len(missing)} not extracted")
    return {e.sha256: (e, results[e.sha256]) for e in entries}, fresh


@asset(
    partitions_def=year_region_partitions,
    group_name="extract",
    ins={"crawled_documents": AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping("region"))},
    description="Every template table of each budget document of the year × region, with page and row provenance "
    "(camelot; cached by sha256 so unchanged documents are not extracted again).",
)
def extracted_documents(
    context: AssetExecutionContext, crawled_documents: list[ManifestEntry], raw_store: RawStoreResource,
    extraction: ExtractionResource,
) -> dict[str, tuple[ManifestEntry, ExtractionResult]]:
    year = int(context.partition_key.keys_by_dimension["year"])
    started = time.monotonic()
    try:
        out, fresh = extract_documents(documents_of_year(crawled_documents, year), raw_store, extraction.pool(),
                                       log=context.log.info)
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
            "flavors": MetadataValue.json(dict(Counter(t.flavor for _, r in out.values() for t in r.tables
                                                       if t.flavor))),
            "empty_tables": sum(1 for _, r in out.values() for t in r.tables if t.empty),
            "unrecognised": sum(len(r.unrecognised) for _, r in out.values()),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return out
