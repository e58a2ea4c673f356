"""Extracted rows → fact records at the printed grain, amounts in 元.

Pure: no database, no Dagster.  One function per table family turns an
:class:`ExtractedTable` into rows of a ``core.fact_*`` table (see
:data:`FACT_TABLE_OF`); each row keeps its document, table, page and row.
Printed codes are checked against the reference catalogs
(:func:`assets.normalize.codes.check_code`), printed 收入 labels classified with
:func:`assets.normalize.codes.classify_revenue`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assets.normalize.codes import check_code, classify_revenue, load_function_catalog, normalize_name
from assets.records import (
    TABLE_DEPT_PERFORMANCE,
    TABLE_EXPENDITURE,
    TABLE_FISCAL_APPROPRIATION,
    TABLE_GOV_FUND,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_INCOME_EXPENDITURE,
    TABLE_PROJECT,
    TABLE_PROJECT_PERFORMANCE,
    TABLE_REVENUE,
    TABLE_SOE_CAPITAL,
    TABLE_THREE_PUBLIC,
    ExtractedTable,
    ExtractionResult,
    to_decimal,
)
from warehouse_schema.tables import REVENUE_AMOUNT_COLUMNS

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
    "project_other_operating": "project_other_operating_yuan",
    "project_specific": "project_specific_yuan",
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


def _carry_unit(rows: list[dict[str, Any]], name_key: str) -> None:
    """Give every row the 单位 of the unit subtotal row printed above it (multi-unit documents).

    A unit subtotal row prints a unit code and a name but no function code; the
    detail rows under it print neither.  Rows keep a unit code they print themselves.
    """
    code = name = None
    for rec in rows:
        if rec["row_kind"] == "total":
            code = name = None
            continue
        if rec.get("unit_code") and not rec.get("function_code"):
            code, name = rec["unit_code"], rec.get(name_key)
            rec["unit_name"] = name
            continue
        if not rec.get("unit_code") and code is not None:
            rec["unit_code"] = code
            rec["unit_name"] = rec.get("unit_name") or name


def function_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    out = []
    for row in table.rows:
        v = row.values
        rec = _provenance(doc, table, row)
        rec.update(
            function_code=v.get("function_code") or None,
            function_name=v.get("name") or None,
            unit_code=v.get("unit_code") or None,
            unit_name=v.get("unit_name") or row.unit,
            code_printed=v.get("code_printed", True) if v.get("function_code") else None,
        )
        for src, dst in FUNCTION_MEASURES.items():
            rec[dst] = to_yuan(to_decimal(v.get(src)), table.unit)
        # tables printing only 人员经费 / 公用经费 under 基本支出
        if rec["wages_yuan"] is None and v.get("personnel") is not None:
            rec["wages_yuan"] = to_yuan(to_decimal(v.get("personnel")), table.unit)
        if rec["goods_services_yuan"] is None and v.get("public") is not None:
            rec["goods_services_yuan"] = to_yuan(to_decimal(v.get("public")), table.unit)
        out.append(rec)
    _carry_unit(out, "function_name")
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
            unit_name=v.get("unit_name") or row.unit,
            econ_code_printed=v.get("econ_code_printed") or None,
            code_printed=v.get("code_printed", True) if v.get("econ_code") else None,
        )
        for src, dst in ECON_MEASURES.items():
            rec[dst] = to_yuan(to_decimal(v.get(src)), table.unit)
        if "basic_total" in table.columns:
            # a table of 基本 and 项目 by 经济分类 (支出总计 | 基本支出 | 项目支出): the fact is its 基本支出
            rec["total_yuan"] = to_yuan(to_decimal(v.get("basic_total")), table.unit)
        out.append(rec)
    return out


# -- revenue (收入) and the two-sided tables --------------------------------------


def revenue_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    """部门收入预算表: one fact per printed row (功能分类 rows, unit subtotals, 合计) with one
    amount column per 收入 source (:data:`REVENUE_AMOUNT_COLUMNS`)."""
    out: list[dict[str, Any]] = []
    for row in table.rows:
        v = row.values
        rec = _provenance(doc, table, row)
        rec.update(function_code=v.get("function_code") or None, item_name=v.get("name") or None,
                   unit_code=v.get("unit_code") or None, unit_name=None)
        for field_ in REVENUE_AMOUNT_COLUMNS:
            rec[f"{field_}_yuan"] = to_yuan(to_decimal(v.get(field_)), table.unit)
        out.append(rec)
    _carry_unit(out, "item_name")
    return out


def _side_amount(values: dict[str, Any], side: str, *suffixes: str) -> Any:
    for s in suffixes:
        if values.get(f"{side}_{s}") not in (None, ""):
            return values[f"{side}_{s}"]
    return None


_ORDINAL_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|\d+[、.．)）]|[(（]\d+[)）])")


def expense_label_class(label: str | None, year: int | None) -> tuple[str | None, str | None]:
    """(item kind, 类 code) of a printed 支出 label: ``"（一）一般公共服务支出"`` →
    ``("expenditure", "201")``; ``"一、本年支出"`` / ``"支出合计"`` → ``("total", None)``;
    ``"二、年终结转结余"`` → ``("carryover", None)``; unknown labels → ``(None, None)``."""
    if not label:
        return None, None
    s = normalize_name(label)
    s = _ORDINAL_PREFIX.sub("", s)
    if not s:
        return None, None
    if "合计" in s or "总计" in s or s in ("本年支出", "本年支出小计"):
        return "total", None
    if "结转" in s or "结余" in s:
        return "carryover", None
    catalog = load_function_catalog()
    for name in (s, s + "支出", s[:-2] if s.endswith("支出") else None):
        if not name:
            continue
        classes = sorted(c for c in catalog.codes_named(name) if len(c) == 3)
        if classes:
            valid = [c for c in classes if catalog.lookup(c, year)] or classes
            return "expenditure", valid[0]
    return None, None


def _two_sided(doc: str, table: ExtractedTable, row, year: int | None) -> dict[str, Any]:
    """The columns both two-sided tables share: the classified 收入 and 支出 labels."""
    v = row.values
    income = v.get("income_item") or None
    expense = v.get("expense_item") or None
    cat = classify_revenue(income) if income else None
    kind, class_code = expense_label_class(expense, year)
    rec = _provenance(doc, table, row)
    rec.update(
        income_item=income, revenue_category=cat.key if cat else None, fund_source=cat.fund_source if cat else None,
        income_kind=cat.kind if cat else None, is_of_which=bool(cat and cat.of_which) if income else None,
        income_amount_yuan=to_yuan(to_decimal(_side_amount(v, "income", "amount", "total")), table.unit),
        expense_item=expense, expense_kind=kind, class_code=class_code,
    )
    return rec


def budget_summary_rows(doc: str, table: ExtractedTable, year: int | None) -> list[dict[str, Any]]:
    """部门收支预算表: one fact per printed row, 收入 label classified by source
    (:func:`classify_revenue`), 支出 label by 类."""
    out = []
    for row in table.rows:
        rec = _two_sided(doc, table, row, year)
        rec["expense_amount_yuan"] = to_yuan(to_decimal(_side_amount(row.values, "expense", "amount", "total")),
                                             table.unit)
        out.append(rec)
    return out


def fiscal_appropriation_rows(doc: str, table: ExtractedTable, year: int | None) -> list[dict[str, Any]]:
    """财政拨款收支预算表: one fact per printed row, both sides (支出 by fund: 合计, 一般公共预算
    小计 and 其中：财政拨款, 政府性基金, 国有资本经营)."""
    out = []
    for row in table.rows:
        v = row.values
        rec = _two_sided(doc, table, row, year)
        rec.update(
            expense_total_yuan=to_yuan(to_decimal(_side_amount(v, "expense", "total", "amount")), table.unit),
            expense_gpb_yuan=to_yuan(to_decimal(_side_amount(v, "expense", "gpb")), table.unit),
            expense_gpb_fiscal_yuan=to_yuan(to_decimal(_side_amount(v, "expense", "gpb_fiscal", "of_which")),
                                            table.unit),
            expense_gov_fund_yuan=to_yuan(to_decimal(_side_amount(v, "expense", "gov_fund")), table.unit),
            expense_soe_capital_yuan=to_yuan(to_decimal(_side_amount(v, "expense", "soe", "soe_capital")),
                                             table.unit),
        )
        out.append(rec)
    return out


# -- 项目支出, 三公 ----------------------------------------------------------------

PROJECT_MEASURES = {
    "total": "total_yuan",
    "gpb": "gpb_yuan",
    "gov_fund": "gov_fund_yuan",
    "soe_capital": "soe_capital_yuan",
    "carryover_gpb": "carryover_gpb_yuan",
    "carryover_gov_fund": "carryover_gov_fund_yuan",
    "carryover_soe_capital": "carryover_soe_capital_yuan",
    "special_account": "special_account_yuan",
    "unit_funds": "unit_funds_yuan",
}
THREE_PUBLIC_MEASURES = {
    "total": "total_yuan",
    "outbound": "outbound_yuan",
    "vehicle_total": "vehicle_total_yuan",
    "vehicle_purchase": "vehicle_purchase_yuan",
    "vehicle_operation": "vehicle_operation_yuan",
    "reception": "reception_yuan",
    "operating_funds": "operating_funds_yuan",
}


def _measures(rec: dict[str, Any], values: dict[str, Any], measures: dict[str, str], unit: str) -> dict[str, Any]:
    for src, dst in measures.items():
        rec[dst] = to_yuan(to_decimal(values.get(src)), unit)
    return rec


def project_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    """项目支出预算表: one fact per printed row (projects, unit subtotals, the 合计)."""
    out = []
    for row in table.rows:
        v = row.values
        rec = _provenance(doc, table, row)
        rec.update(category=v.get("category") or None, project_name=v.get("project_name") or None,
                   project_unit=v.get("project_unit") or None)
        out.append(_measures(rec, v, PROJECT_MEASURES, table.unit))
    return out


def three_public_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    """一般公共预算“三公”经费预算表: usually one printed row."""
    out = []
    for row in table.rows:
        if row.kind != "total":  # last year's, the change and the units' rows are not the budget's 三公
            continue
        rec = _provenance(doc, table, row)
        _measures(rec, row.values, THREE_PUBLIC_MEASURES, table.unit)
        if any(rec[c] is not None for c in THREE_PUBLIC_MEASURES.values()):
            out.append(rec)
    return out


# -- 绩效目标 -------------------------------------------------------------------

_TARGET = re.compile(
    r"^(?P<op>≥|≤|>=|<=|>|<|=|不低于|不少于|不小于|大于等于|不高于|不超过|不大于|小于等于|大于|小于|达到|约)?"
    r"(?P<num>[-+]?\d+(?:\.\d+)?)(?P<unit>[^\d]{0,8})$"
)
_OPERATORS = {
    "≥": ">=", ">=": ">=", "不低于": ">=", "不少于": ">=", "不小于": ">=", "大于等于": ">=", "达到": ">=",
    "≤": "<=", "<=": "<=", "不高于": "<=", "不超过": "<=", "不大于": "<=", "小于等于": "<=",
    ">": ">", "大于": ">", "<": "<", "小于": "<", "=": "=", "约": "≈",
}


def parse_target(text: str | None) -> tuple[str | None, Decimal | None, str | None]:
    """A printed 指标值 as (operator, value, unit): ``"≥91%"`` → ``(">=", 91, "%")``,
    ``"100%"`` → ``("=", 100, "%")``, ``"1,200人次"`` → ``("=", 1200, "人次")``;
    text targets (``"相关"``, ``"2024年底前"``) → ``(None, None, None)``."""
    if not text:
        return None, None, None
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"[\s,，]", "", s).replace("＝", "=")
    m = _TARGET.match(s)
    if not m:
        return None, None, None
    op = _OPERATORS.get(m.group("op") or "=", "=")
    unit = m.group("unit") or None
    if unit and re.search(r"[前后底初末内]$", unit):  # "12月底前": a date, not a quantity
        return None, None, None
    return op, Decimal(m.group("num")), unit


def performance_rows(doc: str, table: ExtractedTable) -> list[dict[str, Any]]:
    """部门整体 / 项目 绩效目标表: one fact per printed indicator row (and project unit rows).

    整体绩效目标表 print 一级/二级/三级指标; 项目绩效目标表 print 指标类别 (stored as
    ``indicator_l1``) and 三级指标 (``indicator_l3``).  Rows carrying neither an
    indicator nor a project are skipped (the table's head block)."""
    out = []
    for row in table.rows:
        v = row.values
        l1 = v.get("indicator_l1") or v.get("indicator_type") or None
        l3 = v.get("indicator_l3") or v.get("indicator") or None
        if not (l1 or l3 or v.get("project_code") or v.get("project_name")):
            continue
        target = v.get("target")
        target = str(target) if target not in (None, "") else None
        op, value, unit = parse_target(target)
        rec = _provenance(doc, table, row)
        rec.update(
            project_code=v.get("project_code") or None, project_name=v.get("project_name") or None,
            category=v.get("category") or None,
            project_total_yuan=to_yuan(to_decimal(v.get("total")), table.unit),
            project_gpb_yuan=to_yuan(to_decimal(v.get("gpb")), table.unit),
            indicator_l1=l1, indicator_l2=v.get("indicator_l2") or None, indicator_l3=l3,
            target_text=target, target_operator=op, target_value=value, target_unit=unit,
            description=v.get("description") or None,
        )
        out.append(rec)
    return out


def code_findings(doc: str, rows: list[dict[str, Any]], code_key: str, name_key: str, year: int | None,
                  table_names: dict[str, str]) -> list[dict[str, Any]]:
    """Each printed code checked against the catalog for the document's year.

    A known code with a variant name is accepted (recorded as an ``info``
    finding); an unknown code, a code/name contradiction or a code not valid in
    that year is a ``hard`` finding with the page and row.
    """
    out = []
    for rec in rows:
        code = rec.get(code_key)
        if not code or rec["row_kind"] in ("total", "extension", "prior", "change"):
            continue
        res = check_code(code, rec.get(name_key), year)
        if res.status == "ok":
            continue
        severity = "soft" if res.status == "unlisted" else "info" if res.ok else "hard"
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


#: table type → the core fact table its rows go to (the rest is kept in core.extracted_table only)
FACT_TABLE_OF = {
    **{t: "fact_function_expenditure" for t in FUNCTION_TABLES},
    TABLE_GPB_BASIC: "fact_basic_economic",
    TABLE_REVENUE: "fact_revenue",
    TABLE_INCOME_EXPENDITURE: "fact_budget_summary",
    TABLE_FISCAL_APPROPRIATION: "fact_fiscal_appropriation",
    TABLE_PROJECT: "fact_project_expenditure",
    TABLE_THREE_PUBLIC: "fact_three_public",
    TABLE_DEPT_PERFORMANCE: "fact_performance_target",
    TABLE_PROJECT_PERFORMANCE: "fact_performance_target",
}
FACT_TABLES = tuple(dict.fromkeys(FACT_TABLE_OF.values()))


def fact_rows(doc: str, table: ExtractedTable, year: int | None) -> list[dict[str, Any]]:
    """The fact rows of one extracted table ([] for tables without a fact table)."""
    t = table.table_type
    if t in FUNCTION_TABLES:
        return function_rows(doc, table)
    if t == TABLE_GPB_BASIC:
        return economic_rows(doc, table)
    if t == TABLE_REVENUE:
        return revenue_rows(doc, table)
    if t == TABLE_INCOME_EXPENDITURE:
        return budget_summary_rows(doc, table, year)
    if t == TABLE_FISCAL_APPROPRIATION:
        return fiscal_appropriation_rows(doc, table, year)
    if t == TABLE_PROJECT:
        return project_rows(doc, table)
    if t == TABLE_THREE_PUBLIC:
        return three_public_rows(doc, table)
    if t in (TABLE_DEPT_PERFORMANCE, TABLE_PROJECT_PERFORMANCE):
        return performance_rows(doc, table)
    return []


def normalize_document(result: ExtractionResult, year: int | None = None) -> NormalizedDocument:
    year = year or result.fiscal_year
    doc = NormalizedDocument(result.document_sha256)
    doc.facts = {name: [] for name in FACT_TABLES}
    seen: set[str] = set()
    for table in result.tables:
        if table.table_type in seen:  # a second table of a type (e.g. a unit-level copy) would repeat the grain
            continue
        seen.add(table.table_type)
        name = FACT_TABLE_OF.get(table.table_type)
        if name:
            doc.facts[name].extend(fact_rows(result.document_sha256, table, year))
    functions = doc.facts["fact_function_expenditure"]
    economics = doc.facts["fact_basic_economic"]
    titles = {t.table_type: t.title for t in result.tables}
    doc.findings = code_findings(result.document_sha256, functions, "function_code", "function_name", year, titles)
    doc.findings += code_findings(result.document_sha256, economics, "econ_code", "econ_name", year, titles)
    return doc
