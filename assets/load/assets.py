"""Dagster assets of the load stage: the warehouse's ``core`` tables, one transaction per partition (year × region).

``warehouse_tables`` is one ``multi_asset`` whose assets are the core tables the load writes (``core/document``,
``core/extracted_table``, every ``core/fact_*``, ``core/quality_finding``: ``planning.LOADED_TABLES``, read from
``warehouse_schema.tables``), in group ``warehouse``, each with its column schema and a partitioned asset check
``rows_as_planned`` (the rows the warehouse holds for the partition's documents are the rows the load planned).
The reference dimensions (code catalogs, regions, crosswalks) are loaded with the schema, not per partition:
:data:`REFERENCE_SPECS` shows them in the lineage, upstream of the ``mart`` views that read them.
"""

import time

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    AssetSpec,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    Nothing,
    Output,
    multi_asset,
)

from assets.load.planning import LOADED_TABLES, build_loads, planned_rows
from assets.normalize.facts import NormalizedDocument
from assets.partitions import year_region_partitions
from assets.records import ExtractionResult, ManifestEntry
from assets.resources import WarehouseResource
from assets.tables import table_key, table_metadata
from assets.validate.verdicts import Validation
from warehouse_schema import tables as t

#: group of the core tables in the UI
WAREHOUSE_GROUP = "warehouse"
#: the load's op (its step key in runs and failure messages)
LOAD_NODE = "warehouse_tables"
ROWS_CHECK = "rows_as_planned"


#: asset key of the load's core.document (the load's summary is in its materialization metadata)
DOCUMENT_KEY = table_key(t.document)
LOADED_KEYS = [table_key(tb) for tb in LOADED_TABLES]

REFERENCE_SPECS = [
    AssetSpec(
        table_key(tb),
        group_name=WAREHOUSE_GROUP,
        metadata=table_metadata(tb),
        description=f"Reference dimension {tb.schema}.{tb.name}: loaded from the catalogs "
        "(assets/normalize/catalogs, warehouse_schema/reference) whenever the warehouse schema is ensured, "
        "replaced in one transaction when they change.",
    )
    for tb in t.REFERENCE_TABLES
    if tb is not t.dim_region  # core.dim_region: the crawl's (assets/crawl/assets.py)
]


@multi_asset(
    name=LOAD_NODE,
    partitions_def=year_region_partitions,
    ins={"crawled_documents": AssetIn(partition_mapping=MultiToSingleDimensionPartitionMapping("region"))},
    outs={
        tb.name: AssetOut(
            key=table_key(tb),
            group_name=WAREHOUSE_GROUP,
            dagster_type=Nothing,
            metadata=table_metadata(tb),
            description=f"{tb.schema}.{tb.name}: the rows of this year × region's documents; "
            "re-loading a partition replaces its documents' rows in every core table in one "
            "transaction.",
        )
        for tb in LOADED_TABLES
    },
    check_specs=[
        AssetCheckSpec(
            ROWS_CHECK,
            asset=table_key(tb),
            partitions_def=year_region_partitions,
            description="The rows the warehouse holds for this partition's documents are "
            "the rows the load planned (assets/load/planning.py).",
        )
        for tb in LOADED_TABLES
    ],
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
):
    year = int(context.partition_key.keys_by_dimension["year"])
    started = time.monotonic()
    wh = warehouse.open()
    loads = build_loads(
        crawled_documents, year, extracted_documents, normalized_documents, validated_documents.verdicts
    )
    planned = planned_rows(loads)
    try:
        # the whole partition in one transaction: a failure leaves the previous state
        counts = wh.load_documents(loads)
        held = wh.rows_of_documents([ld.document["document_sha256"] for ld in loads], LOADED_TABLES)
    finally:
        wh.dispose()
    documents = {
        ld.document["document_sha256"]: {
            "status": ld.document["status"],
            "reason": ld.document["status_reason"],
            "url": ld.document["source_url"],
            "department": ld.document["department_name"],
        }
        for ld in loads
    }
    statuses: dict[str, int] = {}
    for d in documents.values():
        statuses[d["status"]] = statuses.get(d["status"], 0) + 1
    seconds = round(time.monotonic() - started, 2)
    for tb in LOADED_TABLES:
        metadata = {"rows_loaded": counts.get(tb.name, 0), "dagster/row_count": held[tb.name]}
        if tb is t.document:
            metadata.update(
                {
                    "documents_by_status": MetadataValue.json(statuses),
                    # plotted per partition in the UI (JSON entries are not)
                    "documents_loaded": statuses.get("loaded", 0),
                    "documents_quarantined": statuses.get("quarantined", 0),
                    "documents_rejected": statuses.get("rejected", 0),
                    # what became of each document (the CLI's summary reads it: pipelines/backfill.py)
                    "documents": MetadataValue.json(documents),
                    "superseded": counts.get("superseded", 0),
                    "seconds": seconds,
                }
            )
        yield Output(None, tb.name, metadata=metadata)
        yield AssetCheckResult(
            asset_key=table_key(tb),
            check_name=ROWS_CHECK,
            passed=held[tb.name] == planned[tb.name],
            severity=AssetCheckSeverity.ERROR,
            metadata={"rows_planned": planned[tb.name], "rows_in_warehouse": held[tb.name]},
        )
