"""Reconciliation rules: does a published budget add up?

Pure functions over extracted tables.  Each returns findings (dicts with
check_name, severity, expected, actual, page, row_index, table_type, detail).
``hard`` findings quarantine the document; ``soft`` ones load with a warning.

Tolerance comes from the printed precision: every printed amount is rounded to
0.01 of the table's unit, so a sum of n printed amounts may differ from the
printed total by at most 0.005 × (n + 1) units (0.01 万元 for a two-term sum).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from assets.records import (
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    ExtractedRow,
    ExtractedTable,
    ExtractionResult,
)

HALF_CENT = Decimal("0.005")
ZERO = Decimal(0)
REQUIRED_TABLES = (TABLE_GPB_EXPENDITURE, TABLE_GPB_BASIC)
FUNCTION_TABLE_TYPES = ("gpb_expenditure", "expenditure", "gov_fund_expenditure", "soe_capital_expenditure")


def tolerance(n_terms: int) -> Decimal:
    """Largest rounding difference of a sum of ``n_terms`` printed amounts (in printed units)."""
    return max(Decimal("0.01"), HALF_CENT * (n_terms + 1))


def _amt(values: dict[str, Any], key: str) -> Decimal:
    v = values.get(key)
    return v if isinstance(v, Decimal) else ZERO


def _finding(check: str, severity: str, expected: Decimal | str | None, actual: Decimal | str | None,
             table: ExtractedTable | None, row: ExtractedRow | None, detail: str) -> dict[str, Any]:
    return {
        "check_name": check,
        "severity": severity,
        "expected": None if expected is None else str(expected),
        "actual": None if actual is None else str(actual),
        "page": row.page if row else (table.pages[0] if table and table.pages else None),
        "row_index": row.row_index if row else None,
        "table_type": table.table_type if table else None,
        "detail": detail,
    }


def _label(row: ExtractedRow) -> str:
    v = row.values
    return " ".join(str(x) for x in (v.get("function_code") or v.get("econ_code") or "", v.get("name") or v.get("econ_name") or "") if x)


def _sum_check(check: str, table: ExtractedTable, row: ExtractedRow, field: str, parts: Iterable[Decimal],
               what: str) -> dict[str, Any] | None:
    parts = list(parts)
    expected = sum(parts, ZERO)
    actual = _amt(row.values, field)
    if abs(expected - actual) > tolerance(len(parts)):
        return _finding(check, "hard", expected, actual, table, row,
                        f"{table.title}: {_label(row) or row.kind} {field} = {actual} {table.unit}, but {what} = {expected}")
    return None


def _leaves(rows: list[ExtractedRow], code_field: str) -> list[ExtractedRow]:
    details = [r for r in rows if r.kind == "detail"]
    return details


def _block(rows: list[ExtractedRow], start: int, code: str) -> Iterable[ExtractedRow]:
    """The detail rows under a 类/款 subtotal row: the rows right below it whose code extends it.

    Children are contiguous in a printed tree, so a second unit's block with the
    same 类 is not counted twice.
    """
    for row in rows[start + 1:]:
        other = str(row.values.get("function_code") or "")
        if not other.startswith(code) or len(other) == len(code):
            return
        if row.kind == "detail":
            yield row


def check_function_table(table: ExtractedTable) -> list[dict[str, Any]]:
    """合计 = Σ details; 合计 = 基本 + 项目; 基本 = Σ its parts; 类/款 subtotals = Σ children."""
    out: list[dict[str, Any]] = []
    rows = table.rows
    details = _leaves(rows, "function_code")
    has_parts = any(k in table.columns for k in ("wages", "household_transfers", "goods_services", "capital"))
    for row in rows:
        v = row.values
        if row.kind in ("detail", "subtotal", "total") and ("basic_total" in table.columns or "project_total" in table.columns):
            f = _sum_check("total_equals_basic_plus_project", table, row, "total",
                           [_amt(v, "basic_total"), _amt(v, "project_total")], "基本支出 + 项目支出")
            if f:
                out.append(f)
        if has_parts and row.kind in ("detail", "subtotal", "total"):
            f = _sum_check("basic_equals_personnel_plus_public", table, row, "basic_total",
                           [_amt(v, k) for k in ("wages", "household_transfers", "goods_services", "capital")],
                           "工资福利 + 对个人和家庭的补助 + 商品和服务 + 资本性支出")
            if f:
                out.append(f)
    for total in (r for r in rows if r.kind == "total"):
        for field in ("total", "basic_total", "project_total"):
            if field in table.columns:
                f = _sum_check("total_row_equals_sum_of_details", table, total, field,
                               [_amt(d.values, field) for d in details], "the sum of the detail rows")
                if f:
                    out.append(f)
    for i, sub in enumerate(rows):
        code = str(sub.values.get("function_code") or "")
        if sub.kind != "subtotal" or not code:
            continue
        children = list(_block(rows, i, code))
        if children:
            f = _sum_check("subtotal_equals_children", table, sub, "total",
                           [_amt(c.values, "total") for c in children], f"the sum of the {code}… rows below it")
            if f:
                out.append(f)
    return out


def check_basic_table(table: ExtractedTable) -> list[dict[str, Any]]:
    """合计 = 人员经费 + 公用经费 per row; the 合计 row = Σ 款 rows."""
    out: list[dict[str, Any]] = []
    details = [r for r in table.rows if r.kind == "detail"]
    for row in table.rows:
        if "personnel" in table.columns and "public" in table.columns:
            f = _sum_check("econ_total_equals_personnel_plus_public", table, row, "total",
                           [_amt(row.values, "personnel"), _amt(row.values, "public")], "人员经费 + 公用经费")
            if f:
                out.append(f)
    for total in (r for r in table.rows if r.kind == "total"):
        for field in ("total", "personnel", "public"):
            if field in table.columns:
                f = _sum_check("total_row_equals_sum_of_details", table, total, field,
                               [_amt(d.values, field) for d in details], "the sum of the detail rows")
                if f:
                    out.append(f)
    return out


def _table_total(table: ExtractedTable, field: str) -> tuple[Decimal | None, ExtractedRow | None]:
    for r in table.rows:
        if r.kind == "total" and isinstance(r.values.get(field), Decimal):
            return r.values[field], r
    details = [r for r in table.rows if r.kind == "detail"]
    if not details:
        return None, None
    return sum((_amt(r.values, field) for r in details), ZERO), None


def _in_yuan(amount: Decimal, unit: str) -> Decimal:
    factor = {"元": Decimal(1), "万元": Decimal(10000)}.get(unit, Decimal(10000))
    return amount * factor


def check_document(result: ExtractionResult) -> list[dict[str, Any]]:
    """Every rule for one document."""
    out: list[dict[str, Any]] = []
    for required in REQUIRED_TABLES:
        if result.table(required) is None:
            out.append(_finding("required_table_present", "hard", required, "missing", None, None,
                                f"required table {required} not found in the document"))
    for table in result.tables:
        if table.table_type in FUNCTION_TABLE_TYPES:
            out.extend(check_function_table(table))
        elif table.table_type == TABLE_GPB_BASIC:
            out.extend(check_basic_table(table))
    # across tables: 基本支出 agrees between 一般公共预算支出 and 一般公共预算基本支出
    gpb, basic = result.table(TABLE_GPB_EXPENDITURE), result.table(TABLE_GPB_BASIC)
    if gpb and basic and not gpb.empty and not basic.empty:
        a, _ = _table_total(gpb, "basic_total")
        b, row = _table_total(basic, "total")
        if a is not None and b is not None:
            a_y, b_y = _in_yuan(a, gpb.unit), _in_yuan(b, basic.unit)
            tol = _in_yuan(Decimal("0.01"), gpb.unit if gpb.unit == "万元" or basic.unit == "万元" else "元")
            if abs(a_y - b_y) > tol:
                out.append(_finding("basic_expenditure_agrees_across_tables", "hard", a, b, basic, row,
                                    f"基本支出 of {gpb.title} is {a} {gpb.unit}, {basic.title} totals {b} {basic.unit}"))
    return out
