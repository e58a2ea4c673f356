"""Extracted rows → fact records at the printed grain, amounts in 元.

Pure: no database, no Dagster.  Which table types feed which ``core.fact_*`` table, and every column of
those tables (the field(s) it is read from or the derivation that computes it), are declared in the
registry (``warehouse_schema/table_types.yaml``); :func:`table_facts` builds the rows of any of them.
This module holds only what the declaration names: the derivations (:data:`DERIVATIONS`), the row
filters (:data:`ROW_FILTERS`) and the steps after (:func:`carry_unit`).  Each row keeps its document,
table, page and row.  Printed codes are checked against the reference catalogs
(:func:`assets.normalize.codes.check_code`), printed 收入 labels classified with
:func:`assets.normalize.codes.classify_revenue`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assets.normalize.codes import check_code, classify_revenue, load_function_catalog, normalize_name
from assets.records import ExtractedRow, ExtractedTable, ExtractionResult, to_decimal
from warehouse_schema import registry

UNIT_FACTORS = {"元": Decimal(1), "万元": Decimal(10000), "千元": Decimal(1000), "亿元": Decimal(100000000)}


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


def carry_unit(rows: list[dict[str, Any]], name_key: str) -> None:
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


_ORDINAL_PREFIX = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|\d+[、.．)）]|[(（]\d+[)）])"
)


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


# -- 绩效目标 -------------------------------------------------------------------

_TARGET = re.compile(
    r"^(?P<op>≥|≤|>=|<=|>|<|=|不低于|不少于|不小于|大于等于|不高于|不超过|不大于|小于等于|大于|小于|达到|约)?"
    r"(?P<num>[-+]?\d+(?:\.\d+)?)(?P<unit>[^\d]{0,8})$"
)
_OPERATORS = {
    "≥": ">=",
    ">=": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "不小于": ">=",
    "大于等于": ">=",
    "达到": ">=",
    "≤": "<=",
    "<=": "<=",
    "不高于": "<=",
    "不超过": "<=",
    "不大于": "<=",
    "小于等于": "<=",
    ">": ">",
    "大于": ">",
    "<": "<",
    "小于": "<",
    "=": "=",
    "约": "≈",
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


def code_findings(
    doc: str, rows: list[dict[str, Any]], code_key: str, name_key: str, year: int | None, table_names: dict[str, str]
) -> list[dict[str, Any]]:
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


# -- the registry's fact tables ------------------------------------------------------------------------


def _first(values: dict[str, Any], fields: tuple[str, ...]) -> Any:
    """The first printed (non-empty) value of ``fields``."""
    for f in fields:
        v = values.get(f)
        if v not in (None, ""):
            return v
    return None


def _first_amount(values: dict[str, Any], fields: tuple[str, ...]) -> Decimal | None:
    """The first of ``fields`` that holds an amount."""
    for f in fields:
        amount = to_decimal(values.get(f))
        if amount is not None:
            return amount
    return None


@dataclass(frozen=True)
class RowContext:
    """What a derivation sees: the printed row's values, its table and the document's year."""

    values: dict[str, Any]
    row: ExtractedRow
    table: ExtractedTable
    year: int | None


def _code_printed(ctx: RowContext, column: registry.FactColumn) -> bool | None:
    """Whether the code was printed (False: resolved from the name through the catalog)."""
    return ctx.values.get("code_printed", True) if ctx.values.get(column.reads[0]) else None


def _basic_total(ctx: RowContext, column: registry.FactColumn) -> Decimal | None:
    """A table of 基本 and 项目 by 经济分类 (支出总计 | 基本支出 | 项目支出): the fact is its 基本支出."""
    total, basic = column.reads
    field_ = basic if basic in ctx.table.columns else total
    return to_yuan(to_decimal(ctx.values.get(field_)), ctx.table.unit)


def _income_category(ctx: RowContext, column: registry.FactColumn):
    income = ctx.values.get(column.reads[0]) or None
    return (classify_revenue(income) if income else None), income


def _expense(ctx: RowContext, column: registry.FactColumn) -> tuple[str | None, str | None]:
    return expense_label_class(ctx.values.get(column.reads[0]) or None, ctx.year)


def _is_of_which(ctx: RowContext, column: registry.FactColumn) -> bool | None:
    cat, income = _income_category(ctx, column)
    return bool(cat and cat.of_which) if income else None


def _target(ctx: RowContext, column: registry.FactColumn) -> tuple[str | None, Decimal | None, str | None]:
    target = ctx.values.get(column.reads[0])
    return parse_target(str(target) if target not in (None, "") else None)


#: derivation name (registry ``derive:``) → f(row context, column) → value
DERIVATIONS: dict[str, Callable[[RowContext, registry.FactColumn], Any]] = {
    "none": lambda ctx, column: None,
    "unit_name": lambda ctx, column: ctx.values.get(column.reads[0]) or ctx.row.unit,
    "code_printed": _code_printed,
    "basic_total": _basic_total,
    "revenue_category": lambda ctx, column: c.key if (c := _income_category(ctx, column)[0]) else None,
    "fund_source": lambda ctx, column: c.fund_source if (c := _income_category(ctx, column)[0]) else None,
    "income_kind": lambda ctx, column: c.kind if (c := _income_category(ctx, column)[0]) else None,
    "is_of_which": _is_of_which,
    "expense_kind": lambda ctx, column: _expense(ctx, column)[0],
    "class_code": lambda ctx, column: _expense(ctx, column)[1],
    "target_operator": lambda ctx, column: _target(ctx, column)[0],
    "target_value": lambda ctx, column: _target(ctx, column)[1],
    "target_unit": lambda ctx, column: _target(ctx, column)[2],
}


def _has_indicator(row: ExtractedRow) -> bool:
    v = row.values
    return any(
        v.get(f)
        for f in ("indicator_l1", "indicator_type", "indicator_l3", "indicator", "project_code", "project_name")
    )


#: row filter name (registry ``rows:``) → which printed rows are read (before the columns are built)
ROW_FILTERS: dict[str, Callable[[ExtractedRow], bool]] = {
    "all": lambda row: True,
    # 三公: last year's, the change and the units' rows are not the budget's 三公
    "total_with_amounts": lambda row: row.kind == "total",
    # 绩效目标: the head block (rows with neither an indicator nor a project) is not a target
    "indicators": _has_indicator,
}
#: row filters that also drop rows whose amounts are all blank
_NEEDS_AMOUNT = {"total_with_amounts"}


def _value(ctx: RowContext, column: registry.FactColumn) -> Any:
    if column.derive:
        return DERIVATIONS[column.derive](ctx, column)
    if column.type == "amount":
        return to_yuan(_first_amount(ctx.values, column.sources), ctx.table.unit)
    value = _first(ctx.values, column.sources)
    return str(value) if column.type == "text" and value is not None else value


def table_facts(doc: str, table: ExtractedTable, year: int | None, spec: registry.FactTable) -> list[dict[str, Any]]:
    """The rows of fact table ``spec`` from one extracted table: one per printed row the table's row filter
    keeps, each column read or derived as the registry declares it."""
    keep = ROW_FILTERS[spec.rows]
    amounts = [c.name for c in spec.columns if c.type == "amount"]
    out = []
    for row in table.rows:
        if not keep(row):
            continue
        ctx = RowContext(row.values, row, table, year)
        rec = _provenance(doc, table, row)
        rec.update({c.name: _value(ctx, c) for c in spec.columns})
        if spec.rows in _NEEDS_AMOUNT and all(rec[a] is None for a in amounts):
            continue
        out.append(rec)
    if "carry_unit" in spec.after:
        name_key = next(c.name for c in spec.columns if c.name in ("function_name", "item_name"))
        carry_unit(out, name_key)
    return out


def normalize_document(result: ExtractionResult, year: int | None = None) -> NormalizedDocument:
    year = year or result.fiscal_year
    doc = NormalizedDocument(result.document_sha256)
    reg = registry.current()
    fact_table_of = reg.fact_table_of()
    doc.facts = {spec.name: [] for spec in reg.facts}
    seen: set[str] = set()
    for table in result.tables:
        if table.table_type in seen:  # a second table of a type (e.g. a unit-level copy) would repeat the grain
            continue
        seen.add(table.table_type)
        name = fact_table_of.get(table.table_type)
        if name:
            doc.facts[name].extend(table_facts(result.document_sha256, table, year, reg.fact_table(name)))
    functions = doc.facts["fact_function_expenditure"]
    economics = doc.facts["fact_basic_economic"]
    titles = {t.table_type: t.title for t in result.tables}
    doc.findings = code_findings(result.document_sha256, functions, "function_code", "function_name", year, titles)
    doc.findings += code_findings(result.document_sha256, economics, "econ_code", "econ_name", year, titles)
    return doc
