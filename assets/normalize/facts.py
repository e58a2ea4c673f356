"""Extracted rows → fact records at the printed grain, amounts in 元.

Pure: no database, no Dagster.  Code checks against the reference catalogs
are applied by :func:`assets.normalize.codes` (see ``check_codes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assets.records import (
    TABLE_EXPENDITURE,
    TABLE_GOV_FUND,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_SOE_CAPITAL,
    ExtractedTable,
    ExtractionResult,
)

UNIT_FACTORS = {"元": Decimal(1), "万元": Decimal(10000), "千元": Decimal(1000), "亿元": Decimal(100000000)}
FUNCTION_TABLES = (TABLE_GPB_EXPENDITURE, TABLE_EXPENDITURE, TABLE_GOV_FUND, TABLE_SOE_CAPITAL)

# canonical extracted field → fact column
FUNCTION_MEASURES = {
    "total": "total_yuan",
    "basic_total": "basic_yuan",
    "wages": "wages_yuan",
    "household_transfers": "household_transfers_yuan",
    "goods_services": "goods_services_yuan",
    "capital": "capital_yuan",
    "project_total": "project_yuan",
}
ECON_MEASURES = {"total": "total_yuan", "personnel": "personnel_yuan", "public": "public_yuan"}


@dataclass
class NormalizedDocument:
    document_sha256: str
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fact table name → rows
    findings: list[dict[str, Any]] = field(default_factory=list)  # code findings (see validate)


def to_yuan(amount: Decimal | None, unit: str) -> Decimal | None:
    if amount is None:
        return None
    return (amount * UNIT_FACTORS.get(unit, Decimal(10000))).quantize(Decimal("0.01"))


def _provenance(doc: str, table: ExtractedTable, row) -> dict[str, Any]:
    return {
        "document_sha256": doc,
        "table_type": table.table_type,
        "page": row.page,
        "row_index": row.row_index,
        "row_kind": row.kind,
    }


def function_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    out = []
    for row in table.rows:
        v = row.values
        rec = _provenance(doc, table, row)
        rec.update(
            function_code=v.get("function_code") or None,
            function_name=v.get("name") or None,
            unit_code=v.get("unit_code") or None,
        )
        for src, dst in FUNCTION_MEASURES.items():
            rec[dst] = to_yuan(v.get(src), table.unit)
        # tables printing only 人员经费 / 公用经费 under 基本支出
        if rec["wages_yuan"] is None and v.get("personnel") is not None:
            rec["wages_yuan"] = to_yuan(v.get("personnel"), table.unit)
        if rec["goods_services_yuan"] is None and v.get("public") is not None:
            rec["goods_services_yuan"] = to_yuan(v.get("public"), table.unit)
        out.append(rec)
    return out


def economic_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    out = []
    for row in table.rows:
        v = row.values
        rec = _provenance(doc, table, row)
        rec.update(
            econ_code=v.get("econ_code") or None,
            econ_name=v.get("econ_name") or None,
            gov_econ_code=v.get("gov_econ_code") or None,
            gov_econ_name=v.get("gov_econ_name") or None,
        )
        for src, dst in ECON_MEASURES.items():
            rec[dst] = to_yuan(v.get(src), table.unit)
        out.append(rec)
    return out


def code_findings(doc: str, rows: list[dict[str, Any]], code_key: str, name_key: str, year: int | None,
                  table_names: dict[str, str]) -> list[dict[str, Any]]:
    """Each printed code checked against the catalog for the document's year.

    A known code with a variant name is accepted (recorded as an ``info``
    finding); an unknown code, a code/name contradiction or a code not valid in
    that year is a ``hard`` finding with the page and row.
    """
    from assets.normalize.codes import check_code

    out = []
    for rec in rows:
        code = rec.get(code_key)
        if not code or rec["row_kind"] == "total":
            continue
        res = check_code(code, rec.get(name_key), year)
        if res.status == "ok":
            continue
        severity = "info" if res.ok else "hard"
        out.append(
            {
                "check_name": f"code_{res.status}",
                "severity": severity,
                "expected": res.canonical_name,
                "actual": f"{code} {rec.get(name_key) or ''}".strip(),
                "page": rec["page"],
                "row_index": rec["row_index"],
                "table_type": rec["table_type"],
                "detail": f"{table_names.get(rec['table_type'], rec['table_type'])}: {res.detail}",
            }
        )
    return out


def normalize_document(result: ExtractionResult, year: int | None = None) -> NormalizedDocument:
    year = year or result.fiscal_year
    doc = NormalizedDocument(result.document_sha256)
    functions: list[dict[str, Any]] = []
    economics: list[dict[str, Any]] = []
    for table in result.tables:
        if table.table_type in FUNCTION_TABLES:
            functions.extend(function_rows(result.document_sha256, table))
        elif table.table_type == TABLE_GPB_BASIC:
            economics.extend(economic_rows(result.document_sha256, table))
    doc.facts["fact_function_expenditure"] = functions
    doc.facts["fact_basic_economic"] = economics
    titles = {t.table_type: t.title for t in result.tables}
    doc.findings = code_findings(result.document_sha256, functions, "function_code", "function_name", year, titles)
    doc.findings += code_findings(result.document_sha256, economics, "econ_code", "econ_name", year, titles)
    return doc
