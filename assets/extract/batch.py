"""The documents of one year × region and their extractions: cached by content hash and extractor version,
else extracted in the worker pool (pure apart from the raw store and the cache directory it is given)."""

from __future__ import annotations

import pickle
from pathlib import Path

from assets.crawl.raw_store import RawStore
from assets.extract.document import EXTRACTOR_VERSION
from assets.extract.worker import Limits, WorkerPool, extract_many, limit_of
from assets.records import DOC_BUDGET, STATUS_FAILED, STATUS_REJECTED, ExtractionResult, ManifestEntry
from assets.stop import Interrupted, stop_requested


def documents_of_year(entries: list[ManifestEntry], year: int) -> list[ManifestEntry]:
    """The budget documents of one fiscal year, one entry per content version (sha256)."""
    seen: dict[str, ManifestEntry] = {}
    for e in entries:
        if (
            e.sha256
            and e.year == year
            and e.doc_type == DOC_BUDGET
            and e.status not in (STATUS_REJECTED, STATUS_FAILED)
        ):
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


def extract_documents(
    entries: list[ManifestEntry], store: RawStore, cache_dir: Path, pool: WorkerPool, log=None
) -> tuple[dict[str, tuple[ManifestEntry, ExtractionResult]], int]:
    """Every document's extraction (cached, else in the worker pool, in input order) and how many were
    extracted now.  Stops between documents when asked (Ctrl-C): :class:`Interrupted`, finished documents
    are cached, so the rerun does not extract them again."""
    results: dict[str, ExtractionResult] = {}
    todo: list[ManifestEntry] = []
    for entry in entries:
        cached = cached_extraction(cache_dir, entry.sha256, pool.limits)
        if cached is not None:
            results[entry.sha256] = cached
        else:
            todo.append(entry)
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
        raise Interrupted(
            f"stopped after {len(entries) - len(missing)} of {len(entries)} documents "
            f"({fresh} extracted now and cached); {len(missing)} not extracted"
        )
    return {e.sha256: (e, results[e.sha256]) for e in entries}, fresh
