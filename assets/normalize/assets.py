"""Dagster asset of the normalize stage: extracted tables → fact rows in 元 with checked codes."""

from dagster import AssetExecutionContext, asset

from assets.normalize.facts import NormalizedDocument, normalize_document
from assets.partitions import year_region_partitions
from assets.records import ExtractionResult, ManifestEntry


@asset(
    partitions_def=year_region_partitions,
    group_name="normalize",
    description="Fact rows at the printed grain (amounts in 元, exact) with canonical classification codes.",
)
def normalized_documents(
    context: AssetExecutionContext, extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]]
) -> dict[str, NormalizedDocument]:
    out = {}
    for sha, (entry, result) in extracted_documents.items():
        if result.status == "ok":
            out[sha] = normalize_document(result, year=entry.year)
    context.add_output_metadata(
        {
            "documents": len(out),
            "fact_rows": sum(len(rows) for d in out.values() for rows in d.facts.values()),
            "code_findings": sum(len(d.findings) for d in out.values()),
        }
    )
    return out
