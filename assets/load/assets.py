"""Dagster asset of the load stage: one transaction per partition (year × region) into the warehouse."""


import time

from dagster import AssetExecutionContext, AssetIn, MetadataValue, MultiToSingleDimensionPartitionMapping, asset

from assets.load.planning import build_loads
from assets.normalize.facts import NormalizedDocument
from assets.partitions import year_region_partitions
from assets.records import ExtractionResult, ManifestEntry
from assets.resources import WarehouseResource
from assets.validate.verdicts import Validation


@asset(
    partitions_def=year_region_partitions,
    group_name="load",
    ins={"crawled_documents": AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping("region"))},
    description="Documents, extracted tables, facts and findings in the warehouse (core schema); re-loading a "
    "partition replaces its documents' rows in one transaction.",
)
def warehouse_tables(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    crawled_documents: list[ManifestEntry],
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
    validated_documents: Validation,
) -> dict:
    year = int(context.partition_key.keys_by_dimension["year"])
    started = time.monotonic()
    wh = warehouse.open()
    summary: dict = {"documents": {}, "rows": {}}
    loads = build_loads(crawled_documents, year, extracted_documents, normalized_documents,
                        validated_documents.verdicts)
    try:
        # the whole partition in one transaction: a failure leaves the previous state
        counts = wh.load_documents(loads)
    finally:
        wh.dispose()
    for load in loads:
        d = load.document
        summary["documents"][d["document_sha256"]] = {
            "status": d["status"], "reason": d["status_reason"], "url": d["source_url"],
            "department": d["department_name"],
        }
    summary["rows"] = {k: v for k, v in counts.items() if k != "document"}
    statuses: dict[str, int] = {}
    for d in summary["documents"].values():
        statuses[d["status"]] = statuses.get(d["status"], 0) + 1
    context.add_output_metadata(
        {
            "documents_by_status": MetadataValue.json(statuses),
            # plotted per partition in the UI (JSON entries are not)
            "documents": len(summary["documents"]),
            "documents_loaded": statuses.get("loaded", 0),
            "documents_quarantined": statuses.get("quarantined", 0),
            "documents_rejected": statuses.get("rejected", 0),
            "rows_loaded": MetadataValue.json(summary["rows"]),
            "rows_total": sum(summary["rows"].values()),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    return summary
