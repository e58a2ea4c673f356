"""Dagster asset of the validate stage, with its asset checks.

``validated_documents`` decides, per document, whether it may reach the
analyst views: a hard finding quarantines the document (its facts are loaded
but hidden from ``mart``), soft findings are warnings.
"""


from dataclasses import dataclass, field
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, MetadataValue, asset, asset_check

from assets.normalize.facts import NormalizedDocument
from assets.records import STATUS_LOADED, STATUS_QUARANTINED, ExtractionResult, ManifestEntry
from assets.validate.rules import check_document
from pipelines.partitions import year_region_partitions


@dataclass
class Verdict:
    document_sha256: str
    status: str  # loaded | quarantined
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hard(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "hard"]


def judge(result: ExtractionResult, normalized: NormalizedDocument) -> Verdict:
    """All findings of a document and whether it is quarantined (pure)."""
    findings = list(normalized.findings) + check_document(result)
    status = STATUS_QUARANTINED if any(f["severity"] == "hard" for f in findings) else STATUS_LOADED
    return Verdict(result.document_sha256, status, findings)


@asset(
    partitions_def=year_region_partitions,
    group_name="validate",
    description="Data-quality verdict per document: totals reconcile within and across tables, codes are valid "
    "for the year, required tables are present. Hard failures quarantine the document.",
)
def validated_documents(
    context: AssetExecutionContext,
    extracted_documents: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized_documents: dict[str, NormalizedDocument],
) -> dict[str, Verdict]:
    out = {sha: judge(extracted_documents[sha][1], doc) for sha, doc in normalized_documents.items()}
    context.add_output_metadata(
        {
            "documents": len(out),
            "quarantined": sum(1 for v in out.values() if v.status == STATUS_QUARANTINED),
            "hard_findings": sum(len(v.hard) for v in out.values()),
            "soft_findings": sum(1 for v in out.values() for f in v.findings if f["severity"] == "soft"),
        }
    )
    return out


@asset_check(asset=validated_documents, partitions_def=year_region_partitions,
             description="No document of the partition has a hard data-quality finding (quarantined documents "
             "are listed with their failed checks).")
def documents_reconcile(validated_documents: dict[str, Verdict]) -> AssetCheckResult:
    quarantined = {sha: v for sha, v in validated_documents.items() if v.status == STATUS_QUARANTINED}
    return AssetCheckResult(
        passed=not quarantined,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "documents": len(validated_documents),
            "quarantined": len(quarantined),
            "failures": MetadataValue.json(
                {
                    sha[:12]: [
                        {k: f[k] for k in ("check_name", "expected", "actual", "page", "row_index", "detail")}
                        for f in v.hard[:20]
                    ]
                    for sha, v in quarantined.items()
                }
            ),
        },
    )
