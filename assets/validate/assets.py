"""Dagster assets of the validate stage, with their asset checks.

``validated_documents`` runs the Great Expectations suites of ``expectations/``
over every document of the year × region (one GX validation per suite per
partition) and decides, per document, whether it may reach the analyst views:
a hard finding quarantines the document (its facts are loaded but hidden from
``mart``), soft findings are warnings.

``previous_year_compared`` runs after the load: it compares each document's 说明
with last year's loaded document of the same department, read from the
warehouse's core tables of this year and the previous one (a declared
dependency: ``THIS_AND_PREVIOUS_YEAR`` maps the year dimension of its partition
to that year and the year before), and writes its soft findings to
``core.quality_finding``.

Asset checks (all ``partitions_def=year_region_partitions``):

* one per suite (``totals_reconcile``, ``codes_valid_and_unique``,
  ``amounts_non_negative``, ``required_tables_present``: severity ERROR;
  ``narrative_matches_tables``: WARN; ``previous_year_matches``, WARN, on
  ``previous_year_compared``) reports each
  expectation's rows evaluated / failed and the failed rows (document,
  expected, actual, page, row).  Not blocking: a bad document is quarantined,
  it must not stop the good documents of its partition.
* ``loadable_documents_valid`` is **blocking**: inside the check, the hard
  suites run again on exactly the documents about to be loaded (status
  ``loaded``), plus the uniqueness of the fact rows as the load will key them.
  If anything that reaches the analyst views would violate a hard expectation
  (a verdict out of step with the suites, a duplicated fact key), that
  partition's core tables (``warehouse_tables``) are not materialized; other
  partitions load.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetDep,
    AssetExecutionContext,
    AssetIn,
    DimensionPartitionMapping,
    IdentityPartitionMapping,
    MetadataValue,
    MultiPartitionMapping,
    StaticPartitionMapping,
    asset,
    asset_check,
)

from assets.crawl.raw_store import RawStore
from assets.extract.document_sets import linked_narratives
from assets.extract.worker import Limits, WorkerPool, page_texts_limited, page_texts_many
from assets.load.assets import DOCUMENT_KEY
from assets.normalize.facts import NormalizedDocument
from assets.partitions import year_partitions, year_region_partitions
from assets.records import ExtractionResult, ManifestEntry
from assets.resources import ExtractionResource, RawStoreResource, WarehouseResource
from assets.tables import table_key
from assets.validate.loadable import loadable_check
from assets.validate.previous import previous_year
from assets.validate.quality import DocumentInput, outcomes_of
from assets.validate.verdicts import Validation, compare_with_previous_year, judge_documents
from expectations.runner import outcome_metadata
from expectations.suites import HARD_SUITES, SOFT_SUITES, SUITE_CHECKS
from warehouse_schema import tables as t

#: the suite that compares with last year's loaded document: run after the load, by previous_year_compared
PREVIOUS_SUITE = "previous_year_matches"
#: the findings it writes (check_name prefix)
PREVIOUS_CHECK_PREFIX = "previous_year_change"
#: the suites validated_documents runs before the load
BEFORE_LOAD_SUITES = tuple(s for s in HARD_SUITES + SOFT_SUITES if s != PREVIOUS_SUITE)
#: a year × region partition reads the core tables of its year and of the year before (same region)
YEARS = year_partitions.get_partition_keys()
THIS_AND_PREVIOUS_YEAR = MultiPartitionMapping(
    {
        "year": DimensionPartitionMapping(
            "year",
            StaticPartitionMapping(
                {
                    y: {y, str(int(y) + 1)} & set(YEARS)
                    for y in YEARS  # upstream year → the downstream years reading it
                }
            ),
        ),
        "region": DimensionPartitionMapping("region", IdentityPartitionMapping()),
    }
)


def _page_texts(store: RawStore, shas: list[str], pool: WorkerPool) -> dict[str, list[tuple[int, str]] | None]:
    """Every page's text of each stored document, read at once on the extraction's pool (the same limits)."""
    paths: dict[str, str] = {}
    for sha in shas:
        try:
            paths[sha] = str(store.path(sha))
        except FileNotFoundError:
            pass
    return {**dict.fromkeys(shas), **page_texts_many(paths, pool)}


def _narrative_pages(
    store: RawStore, result: ExtractionResult, limits: Limits | None = None, texts: dict | None = None
) -> list[tuple[int | None, str]] | None:
    """Text of the pages without tables, with their page numbers (None: use ``result.narrative``); read in a
    worker process under the PDF limits, as every PDF parse is (``texts``: already read, by sha256)."""
    if texts is not None and result.document_sha256 in texts:
        pages = texts[result.document_sha256]
    else:
        try:
            path = store.path(result.document_sha256)
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
    "(hard: quarantine); the 说明 matches the tables (soft: warning). The comparison with last year's loaded "
    "document runs after the load (previous_year_compared).",
)
def validated_documents(
    context: AssetExecutionContext,
    raw_store: RawStoreResource,
    extraction: ExtractionResource,
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
) -> Validation:
    year = int(context.partition_key.keys_by_dimension["year"])
    limits = extraction.limits()
    docs = []
    # a table PDF is checked against the 说明 of the narrative-only PDF of its document set (江苏 公开文件 / 公开表)
    linked = linked_narratives(extracted_documents)
    store = raw_store.store()
    # every document's pages read at once on the extraction's pool (ExtractionResource.workers processes)
    wanted = list(
        dict.fromkeys([*normalized_documents, *(o for sha in normalized_documents for o in linked.get(sha, []))])
    )
    texts = _page_texts(store, wanted, extraction.pool())
    for sha, doc in normalized_documents.items():
        entry, result = extracted_documents[sha]
        pages = _narrative_pages(store, result, limits, texts)
        for other in linked.get(sha, []):
            pages = (pages or []) + (_narrative_pages(store, extracted_documents[other][1], limits, texts) or [])
        docs.append(DocumentInput(result, doc, year=entry.year or year, pages=pages))
    out = judge_documents(docs, BEFORE_LOAD_SUITES)
    runs = out.evaluation.runs
    context.add_output_metadata(
        {
            "documents": len(out.verdicts),
            "quarantined": out.quarantined,
            "hard_findings": sum(len(v.hard) for v in out.verdicts.values()),
            "soft_findings": sum(len(v.soft) for v in out.verdicts.values()),
            "gx_seconds": MetadataValue.json({k: round(r.seconds, 3) for k, r in runs.items()}),
        }
    )
    return out


@asset(
    partitions_def=year_region_partitions,
    group_name="validate",
    deps=[
        AssetDep(key, partition_mapping=THIS_AND_PREVIOUS_YEAR)
        for key in (DOCUMENT_KEY, table_key(t.fact_function_expenditure))
    ],
    description="After the load: the 说明's change from last year matches last year's loaded document of the same "
    "department (core.document and core.fact_function_expenditure of this year and the previous one); its soft "
    "findings are written to core.quality_finding (warnings, never a quarantine).",
)
def previous_year_compared(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
    validated_documents: Validation,
) -> Validation:
    year = int(context.partition_key.keys_by_dimension["year"])
    region = context.partition_key.keys_by_dimension["region"]
    wh = warehouse.open()
    try:
        docs = []
        for sha in validated_documents.verdicts:
            entry, result = extracted_documents[sha]
            department = result.department or entry.department
            docs.append(
                DocumentInput(
                    result,
                    normalized_documents[sha],
                    year=entry.year or year,
                    pages=validated_documents.pages.get(sha),
                    previous=previous_year(wh.engine, region, entry.year or year, department),
                )
            )
        out = compare_with_previous_year(docs, PREVIOUS_SUITE)
        rows = [dict(f, document_sha256=sha) for sha, v in out.verdicts.items() for f in v.findings]
        written = wh.replace_findings(list(out.verdicts), PREVIOUS_CHECK_PREFIX, rows)
    finally:
        wh.dispose()
    context.add_output_metadata(
        {
            "documents": len(docs),
            "previous_year_documents": sum(1 for d in docs if d.previous),
            "soft_findings": written,
        }
    )
    return out


# --------------------------------------------------------------------------- asset checks


def _suite_check_result(validation: Validation, suite_name: str, severity: AssetCheckSeverity) -> AssetCheckResult:
    evaluation = getattr(validation, "evaluation", None)
    if evaluation is None:  # output of an older code version: no GX runs to report
        return AssetCheckResult(
            passed=False,
            severity=severity,
            metadata={"error": "validated_documents carries no GX results; re-materialize it"},
        )
    outcomes = outcomes_of(evaluation, suite_name)
    failures = evaluation.failures.get(suite_name, {})
    failed_docs = sorted({f["document_sha256"][:12] for rows in failures.values() for f in rows})
    run = evaluation.runs.get(suite_name)
    return AssetCheckResult(
        passed=all(o.success for o in outcomes),
        severity=severity,
        metadata={
            "documents": len(validation.verdicts),
            "documents_failing": len(failed_docs),
            "rows_validated": run.rows if run else 0,
            "expectations": MetadataValue.json(outcome_metadata(outcomes, failures)),
            "gx_seconds": round(run.seconds, 3) if run else 0.0,
        },
    )


def _make_suite_check(suite_name: str, severity: AssetCheckSeverity):
    @asset_check(
        asset=validated_documents,
        name=suite_name,
        partitions_def=year_region_partitions,
        description=SUITE_CHECKS[suite_name],
    )
    def _check(validated_documents: Validation) -> AssetCheckResult:
        return _suite_check_result(validated_documents, suite_name, severity)

    return _check


@asset_check(
    asset=previous_year_compared,
    name=PREVIOUS_SUITE,
    partitions_def=year_region_partitions,
    description=SUITE_CHECKS[PREVIOUS_SUITE],
)
def previous_year_matches(previous_year_compared: Validation) -> AssetCheckResult:
    return _suite_check_result(previous_year_compared, PREVIOUS_SUITE, AssetCheckSeverity.WARN)


SUITE_ASSET_CHECKS = (
    [_make_suite_check(s, AssetCheckSeverity.ERROR) for s in HARD_SUITES]
    + [_make_suite_check(s, AssetCheckSeverity.WARN) for s in SOFT_SUITES if s != PREVIOUS_SUITE]
    + [previous_year_matches]
)


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
    validated_documents: Validation,
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
) -> AssetCheckResult:
    year = int(context.partition_key.keys_by_dimension["year"])
    passed, metadata = loadable_check(year, extracted_documents, normalized_documents, validated_documents.verdicts)
    metadata["expectations"] = MetadataValue.json(metadata["expectations"])
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.ERROR, metadata=metadata)


VALIDATION_CHECKS = [*SUITE_ASSET_CHECKS, loadable_documents_valid]
