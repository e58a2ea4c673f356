"""The blocking check's logic: the hard suites and the fact-key uniqueness on exactly the documents about to be
loaded (pure apart from GX)."""

from __future__ import annotations

from assets.load.planning import build_loads
from assets.normalize.facts import NormalizedDocument
from assets.records import STATUS_LOADED, STATUS_QUARANTINED, ExtractionResult, ManifestEntry
from assets.validate.quality import DocumentInput, build_frames, facts_frame, run_frames
from assets.validate.verdicts import Verdict
from expectations.runner import outcome_metadata
from expectations.suites import HARD_SUITES


def loadable_check(
    year: int,
    extracted: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized: dict[str, NormalizedDocument],
    verdicts: dict[str, Verdict],
) -> tuple[bool, dict]:
    """Whether every document about to be loaded passes the hard expectations, and the check's metadata
    (``expectations``: each expectation's outcome and failed rows)."""
    loadable = [sha for sha, v in verdicts.items() if v.status == STATUS_LOADED]
    docs = [DocumentInput(extracted[sha][1], normalized[sha], year=extracted[sha][0].year or year) for sha in loadable]
    frames = build_frames(docs, HARD_SUITES)
    loads = [
        ld
        for ld in build_loads([], year, {s: extracted[s] for s in loadable}, normalized, verdicts)
        if ld.document["status"] == STATUS_LOADED
    ]
    frames["fact_keys_unique"] = facts_frame(loads)
    evaluation = run_frames(frames)
    outcomes = [o for r in evaluation.runs.values() for o in r.outcomes]
    failures = {k: v for per in evaluation.failures.values() for k, v in per.items()}
    return all(o.success for o in outcomes), {
        "documents_to_load": len(loadable),
        "documents_quarantined": sum(1 for v in verdicts.values() if v.status == STATUS_QUARANTINED),
        "expectations": outcome_metadata(outcomes, failures),
    }
