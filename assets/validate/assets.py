"""Dagster asset of the validate stage, with its asset checks.

``validated_documents`` runs the Great Expectations suites of ``expectations/``
over every document of the year × region (one GX validation per suite per
partition) and decides, per document, whether it may reach the analyst views:
a hard finding quarantines the document (its facts are loaded but hidden from
``mart``), soft findings are warnings.

Asset checks (all ``partitions_def=year_region_partitions``):

* one per suite (``totals_reconcile``, ``codes_valid_and_unique``,
  ``amounts_non_negative``, ``required_tables_present``: severity ERROR;
  ``narrative_matches_tables``, ``previous_year_matches``: WARN) reports each
  expectation's rows evaluated / failed and the failed rows (document,
  expected, actual, page, row).  Not blocking: a bad document is quarantined,
  it must not stop the good documents of its partition.
* ``loadable_documents_valid`` is **blocking**: inside the check, the hard
  suites run again on exactly the documents about to be loaded (status
  ``loaded``), plus the uniqueness of the fact rows as the load will key them.
  If anything that reaches the analyst views would violate a hard expectation
  (a verdict out of step with the suites, a duplicated fact key), that
  partition's ``warehouse_tables`` is not materialized; other partitions load.
"""


from dataclasses import dataclass, field
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetIn,
    MetadataValue,
    asset,
    asset_check,
)

from assets.extract.document_sets import linked_narratives, unrecognised_findings
from assets.normalize.facts import NormalizedDocument
from assets.records import STATUS_LOADED, STATUS_QUARANTINED, ExtractionResult, ManifestEntry
from assets.validate.quality import DocumentInput, Evaluation, evaluate, outcomes_of, run_frames
from expectations.suites import HARD_SUITES, SOFT_SUITES, SUITE_CHECKS
from pipelines.partitions import year_region_partitions
from assets.extract.worker import Limits
from pipelines.resources import ExtractionResource, RawStoreResource, WarehouseResource


@dataclass
class Verdict:
    document_sha256: str
    status: str  # loaded | quarantined
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hard(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "hard"]

    @property
    def soft(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "soft"]


class Verdicts(dict):
    """document sha256 → :class:`Verdict`, plus the partition's GX runs (for the asset checks)."""

    def __init__(self, *args, evaluation: Evaluation | None = None, **kw):
        super().__init__(*args, **kw)
        self.evaluation = evaluation


def _merge(gx_findings: list[dict[str, Any]], normalize_findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GX findings plus the normalize stage's code findings it did not already report (e.g. variant names)."""
    seen = {(f["check_name"], f.get("table_type"), f.get("row_index")) for f in gx_findings}
    extra = [f for f in normalize_findings if (f["check_name"], f.get("table_type"), f.get("row_index")) not in seen]
    return list(gx_findings) + extra


def judge_documents(docs: list[DocumentInput]) -> Verdicts:
    """Every document's findings and whether it is quarantined (pure apart from GX)."""
    evaluation = evaluate(docs)
    out = Verdicts(evaluation=evaluation)
    for d in docs:
        sha = d.result.document_sha256
        findings = _merge(evaluation.findings.get(sha, []), d.normalized.findings)
        findings += unrecognised_findings(d.result)  # info: tables no template knows, recorded with their page
        status = STATUS_QUARANTINED if any(f["severity"] == "hard" for f in findings) else STATUS_LOADED
        out[sha] = Verdict(sha, status, findings)
    return out


def judge(result: ExtractionResult, normalized: NormalizedDocument, **kw) -> Verdict:
    """One document's verdict (see :func:`judge_documents`)."""
    return judge_documents([DocumentInput(result, normalized, **kw)])[result.document_sha256]


def _page_texts(raw_store: RawStoreResource, shas: list[str], pool) -> dict[str, list[tuple[int, str]] | None]:
    """``(page number, text)`` of every page of each document, read in the worker pool (the extraction's: the
    same limits, several documents at once); None for a document that cannot be read."""
    from assets.extract.worker import _page_texts as read

    store = raw_store.store()
    paths: dict[str, str] = {}
    for sha in shas:
        try:
            paths[sha] = str(store.path(sha))
        except FileNotFoundError:
            pass
    outcomes = pool.map(read, [(paths[sha],) for sha in paths]) if paths else []
    texts: dict[str, list[tuple[int, str]] | None] = dict.fromkeys(shas)
    texts.update({sha: o.value if o is not None and o.ok else None for sha, o in zip(paths, outcomes)})
    return texts


def _narrative_pages(raw_store: RawStoreResource, result: ExtractionResult,
                     limits: Limits | None = None, texts: dict | None = None) -> list[tuple[int | None, str]] | None:
    """Text of the pages without tables, with their page numbers (None: use ``result.narrative``); read in a
    worker process under the PDF limits, as every PDF parse is (``texts``: already read, by sha256)."""
    from assets.extract.worker import page_texts_limited

    if texts is not None and result.document_sha256 in texts:
        pages = texts[result.document_sha256]
    else:
        try:
            path = raw_store.store().path(result.document_sha256)
        except FileNotFoundError:
            return None
        pages = page_texts_limited(path, limits)
    if pages is None:
        return None
    table_pages = {p for t in result.tables for p in t.pages}
    return [(n, text) for n, text in pages if n not in table_pages]


@asset(
    partitions_def=year_region_partitions,
    group_name="validate",
    description="Data-quality verdict per document (Great Expectations suites of expectations/): totals reconcile "
    "within and across tables, codes are valid for the year, amounts are not negative, required tables are present "
    "(hard: quarantine); the 说明 matches the tables and last year's loaded document (soft: warning).",
)
def validated_documents(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    raw_store: RawStoreResource,
    extraction: ExtractionResource,
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
) -> dict[str, Verdict]:
    from assets.validate.previous import previous_year

    year = int(context.partition_key.keys_by_dimension["year"])
    region = context.partition_key.keys_by_dimension["region"]
    wh = warehouse.open()
    limits = extraction.limits()
    docs = []
    # a table PDF is checked against the 说明 of the narrative-only PDF of its document set (江苏 公开文件 / 公开表)
    linked = linked_narratives(extracted_documents)
    # every document's pages read at once on the extraction's pool (ExtractionResource.workers processes)
    wanted = list(dict.fromkeys([*normalized_documents, *(o for sha in normalized_documents
                                                          for o in linked.get(sha, []))]))
    texts = _page_texts(raw_store, wanted, extraction.pool())
    try:
        for sha, doc in normalized_documents.items():
            entry, result = extracted_documents[sha]
            department = result.department or entry.department
            pages = _narrative_pages(raw_store, result, limits, texts)
            for other in linked.get(sha, []):
                pages = (pages or []) + (_narrative_pages(raw_store, extracted_documents[other][1], limits, texts)
                                         or [])
            docs.append(DocumentInput(result, doc, year=entry.year or year, pages=pages,
                                      previous=previous_year(wh.engine, region, entry.year or year, department)))
    finally:
        wh.dispose()
    out = judge_documents(docs)
    runs = out.evaluation.runs
    context.add_output_metadata(
        {
            "documents": len(out),
            "quarantined": sum(1 for v in out.values() if v.status == STATUS_QUARANTINED),
            "hard_findings": sum(len(v.hard) for v in out.values()),
            "soft_findings": sum(len(v.soft) for v in out.values()),
            "previous_year_documents": sum(1 for d in docs if d.previous),
            "gx_seconds": MetadataValue.json({k: round(r.seconds, 3) for k, r in runs.items()}),
        }
    )
    return out


# --------------------------------------------------------------------------- asset checks


def _suite_check_result(verdicts: dict[str, Verdict], suite_name: str, severity: AssetCheckSeverity) -> AssetCheckResult:
    from expectations.runner import outcome_metadata

    evaluation: Evaluation | None = getattr(verdicts, "evaluation", None)
    if evaluation is None:  # output of an older code version: no GX runs to report
        return AssetCheckResult(passed=False, severity=severity,
                                metadata={"error": "validated_documents carries no GX results; re-materialize it"})
    outcomes = outcomes_of(evaluation, suite_name)
    failures = evaluation.failures.get(suite_name, {})
    failed_docs = sorted({f["document_sha256"][:12] for rows in failures.values() for f in rows})
    run = evaluation.runs.get(suite_name)
    return AssetCheckResult(
        passed=all(o.success for o in outcomes),
        severity=severity,
        metadata={
            "documents": len(verdicts),
            "documents_failing": len(failed_docs),
            "rows_validated": run.rows if run else 0,
            "expectations": MetadataValue.json(outcome_metadata(outcomes, failures)),
            "gx_seconds": round(run.seconds, 3) if run else 0.0,
        },
    )


def _make_suite_check(suite_name: str, severity: AssetCheckSeverity):
    @asset_check(asset=validated_documents, name=suite_name, partitions_def=year_region_partitions,
                 description=SUITE_CHECKS[suite_name])
    def _check(validated_documents: dict[str, Verdict]) -> AssetCheckResult:
        return _suite_check_result(validated_documents, suite_name, severity)

    return _check


SUITE_ASSET_CHECKS = [_make_suite_check(s, AssetCheckSeverity.ERROR) for s in HARD_SUITES] + [
    _make_suite_check(s, AssetCheckSeverity.WARN) for s in SOFT_SUITES
]


def loadable_check(year: int, extracted: dict[str, tuple[ManifestEntry, ExtractionResult]],
                   normalized: dict[str, NormalizedDocument], verdicts: dict[str, Verdict]) -> tuple[bool, dict]:
    """The hard suites and the fact-key uniqueness on the documents about to be loaded (pure apart from GX)."""
    from assets.load.assets import build_loads
    from assets.validate.quality import build_frames, facts_frame
    from expectations.runner import outcome_metadata

    loadable = [sha for sha, v in verdicts.items() if v.status == STATUS_LOADED]
    docs = [DocumentInput(extracted[sha][1], normalized[sha], year=extracted[sha][0].year or year) for sha in loadable]
    frames = build_frames(docs, HARD_SUITES)
    loads = [ld for ld in build_loads([], year, {s: extracted[s] for s in loadable}, normalized, verdicts)
             if ld.document["status"] == STATUS_LOADED]
    frames["fact_keys_unique"] = facts_frame(loads)
    evaluation = run_frames(frames)
    outcomes = [o for r in evaluation.runs.values() for o in r.outcomes]
    failures = {k: v for per in evaluation.failures.values() for k, v in per.items()}
    return all(o.success for o in outcomes), {
        "documents_to_load": len(loadable),
        "documents_quarantined": sum(1 for v in verdicts.values() if v.status == STATUS_QUARANTINED),
        "expectations": MetadataValue.json(outcome_metadata(outcomes, failures)),
    }


@asset_check(
    asset=validated_documents,
    partitions_def=year_region_partitions,
    blocking=True,
    additional_ins={"extracted_documents": AssetIn(), "normalized_documents": AssetIn()},
    description="Blocking: the documents about to be loaded (not quarantined) pass every hard expectation and their "
    "fact rows are unique by the load's key. Quarantined documents do not fail it; a failure stops this "
    "partition's load only.",
)
def loadable_documents_valid(
    context: AssetCheckExecutionContext,
    validated_documents: dict[str, Verdict],
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
) -> AssetCheckResult:
    year = int(context.partition_key.keys_by_dimension["year"])
    passed, metadata = loadable_check(year, extracted_documents, normalized_documents, validated_documents)
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.ERROR, metadata=metadata)


VALIDATION_CHECKS = [*SUITE_ASSET_CHECKS, loadable_documents_valid]
