"""What the warehouse keeps of every document of one year × region (pure: no Dagster, no database).

:func:`build_loads` turns the stages' outputs (manifest, extractions, normalized facts, verdicts) into one
:class:`~assets.load.warehouse.DocumentLoad` per document: its ``core.document`` row with status and reason,
its extracted tables, facts and findings.  The load asset writes them in one transaction.
"""

from __future__ import annotations

import json

from assets.crawl.detect import LABEL_OWNER_PASSWORD, is_national_body
from assets.extract.document import EXTRACTOR_VERSION
from assets.extract.document_sets import linked_narratives
from assets.load.warehouse import DocumentLoad
from assets.normalize.departments import department_key
from assets.normalize.facts import NormalizedDocument
from assets.records import (
    DOC_BUDGET,
    STATUS_REJECTED,
    STATUS_SKIPPED,
    ExtractionResult,
    ManifestEntry,
)
from assets.validate.verdicts import Verdict
from warehouse_schema import tables as t


def document_row(entry: ManifestEntry, result: ExtractionResult | None, status: str, reason: str | None) -> dict:
    department = (result.department if result and result.department else None) or entry.department
    return {
        "document_sha256": entry.sha256,
        "source_url": entry.url,
        "region_code": entry.region_code,
        "fiscal_year": entry.year,
        "department_name": department,
        "department_key": department_key(entry.region_code, department) if department else None,
        "doc_type": entry.doc_type,
        "budget_phase": "final_accounts" if entry.doc_type == "final_accounts" else "budget",
        "status": status,
        "status_reason": reason,
        "page_count": (result.page_count if result and result.page_count else None) or entry.page_count,
        "fetched_at": entry.fetched_at,
        "title": (result.title if result else None) or entry.title,
        "tables_found": ",".join(tb.table_type for tb in result.tables) if result else None,
        "extractor_version": EXTRACTOR_VERSION if result else None,
        "budget_level": getattr(result, "budget_level", None) if result else None,
        "parent_department": getattr(result, "parent_department", None) if result else None,
        "parent_department_key": (
            department_key(entry.region_code, result.parent_department)
            if result and getattr(result, "parent_department", None)
            else None
        ),
        "budget_units": "|".join(getattr(result, "units", []) or []) or None if result else None,
    }


def table_rows(result: ExtractionResult) -> list[dict]:
    rows, seen = [], set()
    for tb in result.tables:
        if tb.table_type in seen:  # a second table of the same type is recorded as unrecognised
            continue
        seen.add(tb.table_type)
        rows.append(
            {
                "document_sha256": result.document_sha256,
                "table_type": tb.table_type,
                "title": tb.title,
                "first_page": min(tb.pages) if tb.pages else None,
                "last_page": max(tb.pages) if tb.pages else None,
                "unit": tb.unit,
                "is_empty": tb.empty,
                "note": tb.note,
                "flavor": tb.flavor,
                "accuracy": tb.accuracy,
                "row_count": len(tb.rows),
                "reading": json.dumps(tb.reading, ensure_ascii=False, sort_keys=True) if tb.reading else None,
            }
        )
    return rows


def unique_rows(table_name: str, rows: list[dict]) -> list[dict]:
    """Rows with a primary key seen before dropped (a repeated printed row would break the load)."""
    pk = [c.name for c in t.metadata.tables[f"core.{table_name}"].primary_key.columns if c.name != "document_sha256"]
    seen, out = set(), []
    for r in rows:
        k = tuple(r.get(c) for c in pk)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def build_loads(
    crawled: list[ManifestEntry],
    year: int,
    extracted: dict[str, tuple[ManifestEntry, ExtractionResult]],
    normalized: dict[str, NormalizedDocument],
    verdicts: dict[str, Verdict],
) -> list[DocumentLoad]:
    """What the warehouse keeps of every document of one year × region (pure)."""
    loads: list[DocumentLoad] = []
    tables_of_narrative: dict[str, list[str]] = {}
    for table_sha, narratives in linked_narratives(extracted).items():
        for n in narratives:
            tables_of_narrative.setdefault(n, []).append(table_sha)
    for sha, (entry, result) in extracted.items():
        if result.status == "ok" and is_national_body(result.department):
            # the tables name a national body (国家… / 中央…): never loaded as a local department's
            loads.append(
                DocumentLoad(
                    document_row(
                        entry,
                        result,
                        STATUS_SKIPPED,
                        (
                            f"document of a national body ({result.department}), not of a local department of region "
                            f"{entry.region_code}"
                        ),
                    )
                )
            )
            continue
        if result.status != "ok":
            status, reason = (STATUS_SKIPPED if result.status == STATUS_SKIPPED else STATUS_REJECTED), result.reason
            if sha in tables_of_narrative:
                # the 说明 of a document set (江苏 公开文件 / 公开表): nothing to load, nothing wrong
                status = STATUS_SKIPPED
                reason = (
                    "narrative (说明) of a document set; its tables are in "
                    + ", ".join(s[:12] for s in sorted(tables_of_narrative[sha]))
                    + " and are checked against this narrative"
                )
            loads.append(DocumentLoad(document_row(entry, result, status, reason)))
            continue
        verdict = verdicts[sha]
        hard = verdict.hard
        reasons = []
        if hard:
            reasons.append(
                f"{len(hard)} hard data-quality finding(s): " + "; ".join(sorted({f["check_name"] for f in hard}))
            )
        if LABEL_OWNER_PASSWORD in (entry.reason or ""):  # read normally, labelled
            reasons.append(LABEL_OWNER_PASSWORD)
        reason = "; ".join(reasons) or None
        doc = normalized[sha]
        facts = {name: unique_rows(name, rows) for name, rows in doc.facts.items()}
        findings = [dict(f, document_sha256=sha) for f in verdict.findings]
        loads.append(
            DocumentLoad(document_row(entry, result, verdict.status, reason), table_rows(result), facts, findings)
        )
    # documents of the year that were not extracted: 决算, other files, rejected downloads
    seen = set(extracted)
    for entry in crawled:
        if not entry.sha256 or entry.year != year or entry.sha256 in seen:
            continue
        if entry.doc_type != DOC_BUDGET or entry.status in (STATUS_REJECTED, STATUS_SKIPPED):
            status = STATUS_REJECTED if entry.status == STATUS_REJECTED else STATUS_SKIPPED
            loads.append(DocumentLoad(document_row(entry, None, status, entry.reason)))
            seen.add(entry.sha256)
    return loads


#: the core tables the load writes (one row set per document): core.document and the document tables
LOADED_TABLES: tuple = (t.document, *t.DOCUMENT_TABLES)


def planned_rows(loads: list[DocumentLoad]) -> dict[str, int]:
    """Rows the load writes per core table (table name → rows) for these documents."""
    out = {tb.name: 0 for tb in LOADED_TABLES}
    for ld in loads:
        out[t.document.name] += 1
        out[t.extracted_table.name] += len(ld.tables)
        for name, rows in ld.facts.items():
            out[name] += len(rows)
        out[t.quality_finding.name] += len(ld.findings)
    return out
