"""Records passed between the pipeline stages.

crawl → raw store → extract → normalize → validate → load.  Each stage takes
and returns these plain dataclasses, so the domain logic of every stage can be
tested without Dagster.  Amounts are always :class:`decimal.Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# ---------------------------------------------------------------------------
# Crawl / raw store
# ---------------------------------------------------------------------------

#: doc_type values of a manifest row
DOC_BUDGET = "budget"  # 部门预算
DOC_FINAL_ACCOUNTS = "final_accounts"  # 部门决算
DOC_OTHER = "other"

#: status values of a manifest row / a document
STATUS_FETCHED = "fetched"  # stored, not processed yet
STATUS_UNCHANGED = "unchanged"  # 304 or same sha256 as before
STATUS_LOADED = "loaded"
STATUS_QUARANTINED = "quarantined"  # hard data-quality failure
STATUS_REJECTED = "rejected"  # could not be read (corrupt, scanned, html…)
STATUS_SKIPPED = "skipped"  # not a budget document (决算, news, .doc …)
STATUS_FAILED = "failed"  # fetch failed (HTTP error, timeout, too large …)


@dataclass
class ManifestEntry:
    """One fetch of one URL: a row of ``raw.manifest``."""

    url: str
    region_code: str
    sha256: str | None = None  # None when nothing was stored (fetch failed)
    fetched_at: str | None = None  # ISO 8601, UTC
    http_status: int | None = None
    content_type: str | None = None
    bytes: int | None = None
    year: int | None = None  # detected fiscal year
    department: str | None = None  # detected 部门名称
    doc_type: str | None = None  # DOC_* constant
    status: str = STATUS_FETCHED
    reason: str | None = None
    title: str | None = None  # anchor text / article title
    etag: str | None = None
    last_modified: str | None = None
    page_count: int | None = None
    is_new: bool = True  # False when the content was already in the store

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ---------------------------------------------------------------------------
# Extract
# ---------------------------------------------------------------------------

# canonical table types (keys) of the national template
TABLE_INCOME_EXPENDITURE = "income_expenditure_summary"  # 部门收支预算表
TABLE_REVENUE = "revenue"  # 部门收入预算表
TABLE_EXPENDITURE = "expenditure"  # 部门支出预算表
TABLE_FISCAL_APPROPRIATION = "fiscal_appropriation"  # 财政拨款收支预算表
TABLE_GPB_EXPENDITURE = "gpb_expenditure"  # 一般公共预算支出预算表
TABLE_GPB_BASIC = "gpb_basic_expenditure"  # 一般公共预算基本支出预算表
TABLE_THREE_PUBLIC = "three_public"  # 一般公共预算“三公”经费预算表
TABLE_GOV_FUND = "gov_fund_expenditure"  # 政府性基金预算支出预算表
TABLE_SOE_CAPITAL = "soe_capital_expenditure"  # 国有资本经营预算支出预算表
TABLE_PROJECT = "project_expenditure"  # 项目支出预算表
TABLE_DEPT_PERFORMANCE = "dept_performance"  # 部门（单位）整体绩效目标表
TABLE_PROJECT_PERFORMANCE = "project_performance"  # 项目绩效目标表
TABLE_ECONOMIC_SUMMARY = "economic_summary"  # 支出经济分类汇总表
TABLE_OPERATING_FUNDS = "operating_funds"  # 行政（事业）单位机构运转经费预算表
TABLE_UNKNOWN = "unknown"


@dataclass
class ExtractedRow:
    """One printed row of a table, with its provenance.

    ``values`` maps canonical field names to the cleaned cell text (codes,
    names) or :class:`Decimal` amounts *in the table's printed unit*.
    ``kind`` is ``detail`` for a leaf row, ``total`` for 合计/总计 rows,
    ``subtotal`` for 类/款 or unit subtotal rows, ``text`` for text records.
    """

    page: int  # 1-based page number in the PDF
    row_index: int  # 0-based index of the row in the (merged) table body
    values: dict[str, Any]
    kind: str = "detail"
    table_index: int = 0  # index of the camelot table on its page
    raw: list[str] = field(default_factory=list)  # the cells as extracted
    unit: str | None = None  # the 单位 whose rows these are (the unit row printed above), when the table has several


@dataclass
class ExtractedTable:
    table_type: str  # TABLE_* constant
    title: str  # as printed
    pages: list[int]
    unit: str  # "万元" or "元"
    rows: list[ExtractedRow]
    department: str | None = None  # 部门名称 printed above the table
    empty: bool = False  # published with a "此表无数据" note
    note: str | None = None
    flavor: str | None = None  # camelot flavor that succeeded
    accuracy: float | None = None  # camelot's parsing report accuracy
    columns: list[str] = field(default_factory=list)  # canonical field names
    # table-level facts printed in the table's head rows, e.g. the 整体绩效目标表's
    # department, budget_total, basic_total, project_total (amounts as Decimal)
    extra: dict[str, Any] = field(default_factory=dict)
    # how the table was read: the type's evidence, codes resolved from names, identities that decided …
    reading: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExtractionResult:
    document_sha256: str
    page_count: int
    tables: list[ExtractedTable]
    narrative: str = ""  # text of the pages without tables (说明)
    status: str = "ok"  # "ok", "rejected" (unreadable) or "skipped" (a 决算, not a budget document)
    reason: str | None = None
    title: str | None = None  # title page text, first line
    fiscal_year: int | None = None
    department: str | None = None
    unrecognised: list[dict[str, Any]] = field(default_factory=list)  # tables with unknown titles
    # which budget: "department" (部门预算, consolidated) or "unit" (单位预算, one unit filed under its
    # department); the parent department of a unit budget; the units a department budget's tables list
    budget_level: str | None = None
    parent_department: str | None = None
    level_evidence: str | None = None
    units: list[str] = field(default_factory=list)

    def table(self, table_type: str) -> ExtractedTable | None:
        for t in self.tables:
            if t.table_type == table_type:
                return t
        return None


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
