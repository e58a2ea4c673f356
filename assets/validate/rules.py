"""Reconciliation rules: does a published budget add up?

Pure functions over extracted tables.  Every arithmetic identity a document
must satisfy becomes a :class:`Comparison` (expected, actual, tolerance, page,
row) — passing or not.  The Great Expectations suites (``expectations/``)
evaluate the comparisons as a DataFrame of exact integer residuals;
:func:`check_document` is the same evaluation in plain Python.

Tolerance comes from the printed precision: every printed amount is rounded to
0.01 of the table's unit, so a sum of n printed amounts may differ from the
printed total by at most 0.005 × (n + 1) units (0.015 万元 for a two-term sum;
the residual of amounts printed to 0.01 is a multiple of 0.01, so in effect
0.01 万元).  Amounts printed in 元 get 0.005 元 per printed term.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assets.normalize.facts import UNIT_FACTORS
from assets.records import (
    TABLE_EXPENDITURE,
    TABLE_FISCAL_APPROPRIATION,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_INCOME_EXPENDITURE,
    TABLE_REVENUE,
    ExtractedRow,
    ExtractedTable,
    ExtractionResult,
)
from warehouse_schema import registry

HALF_CENT = Decimal("0.005")
ZERO = Decimal(0)
#: 分 per printed unit (exact integer residuals for the GX suites), from the normalize stage's unit factors
#: (one table of units for the project)
FEN_PER_UNIT = {unit: int(factor * 100) for unit, factor in UNIT_FACTORS.items()}
#: ticks per percentage point (percentages are compared in 1/10000 of a point)
TICKS_PER_PCT = 10_000


def tolerance(n_terms: int) -> Decimal:
    """Largest rounding difference of a sum of ``n_terms`` printed amounts (in printed units)."""
    return max(Decimal("0.01"), HALF_CENT * (n_terms + 1))


def half_precision(printed: str) -> Decimal:
    """Half a unit of the last printed digit: '1145.25' → 0.005, '236' → 0.5."""
    s = printed.strip().replace(",", "")
    decimals = len(s.split(".", 1)[1]) if "." in s else 0
    return Decimal(5) / (Decimal(10) ** (decimals + 1))


def _half_ulp(amount: Decimal) -> Decimal:
    """Half a unit of an extracted amount's last printed digit (its Decimal exponent): 94995790 → 0.5."""
    exp = amount.as_tuple().exponent
    return Decimal(5) * Decimal(10) ** (exp - 1) if isinstance(exp, int) else ZERO


@dataclass
class Comparison:
    """One identity a document must satisfy: ``actual`` should equal ``expected`` within ``tolerance``."""

    check_name: str
    severity: str  # hard | soft
    expected: Decimal
    actual: Decimal
    unit: str  # 万元 | 元 | %
    tolerance: Decimal
    page: int | None
    row_index: int | None
    table_type: str | None
    detail: str
    one_sided: bool = False  # only actual > expected fails (actual ≤ expected is the identity)
    document_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def residual(self) -> Decimal:
        d = self.actual - self.expected
        return max(d, ZERO) if self.one_sided else d

    def passes(self) -> bool:
        return abs(self.residual) <= self.tolerance

    def ticks(self) -> int:
        """Ticks per unit: 分 for amounts, 1/10000 point for percentages."""
        return TICKS_PER_PCT if self.unit == "%" else FEN_PER_UNIT.get(self.unit, FEN_PER_UNIT["万元"])

    def finding(self) -> dict[str, Any]:
        return {
            "check_name": self.check_name,
            "severity": self.severity,
            "expected": self.extra.get("expected_text", str(self.expected)),
            "actual": str(self.actual),
            "page": self.page,
            "row_index": self.row_index,
            "table_type": self.table_type,
            "detail": self.detail,
        }


def _amt(values: dict[str, Any], key: str) -> Decimal:
    v = values.get(key)
    return v if isinstance(v, Decimal) else ZERO


def _label(row: ExtractedRow) -> str:
    v = row.values
    return " ".join(
        str(x)
        for x in (v.get("function_code") or v.get("econ_code") or "", v.get("name") or v.get("econ_name") or "")
        if x
    )


def _sum(
    check: str, table: ExtractedTable, row: ExtractedRow, field_name: str, parts: Iterable[Decimal], what: str
) -> Comparison:
    parts = list(parts)
    expected = sum(parts, ZERO)
    actual = _amt(row.values, field_name)
    # amounts printed in whole 元 (上海普陀 2025: "94,995,790") are rounded to 1 元, not 0.01: half a printed unit each
    printed = sum((_half_ulp(x) for x in parts + [actual]), ZERO)
    return Comparison(
        check,
        "hard",
        expected,
        actual,
        table.unit,
        max(tolerance(len(parts)), printed),
        row.page,
        row.row_index,
        table.table_type,
        f"{table.title}: {_label(row) or row.kind} {field_name} = {actual} {table.unit}, but {what} = {expected}",
    )


def _block(rows: list[ExtractedRow], start: int, code: str) -> Iterable[ExtractedRow]:
    """The detail rows under a 类/款 subtotal row: the rows right below it whose code extends it.

    Children are contiguous in a printed tree, so a second unit's block with the
    same 类 is not counted twice.
    """
    for row in rows[start + 1 :]:
        other = str(row.values.get("function_code") or "")
        if not other.startswith(code) or len(other) == len(code):
            return
        if row.kind == "detail":
            yield row


BASIC_PARTS = ("wages", "household_transfers", "goods_services", "capital")
#: what a function table's 合计 is the sum of, when the columns are printed (江苏's 单位预留机动经费, the 支出总表's
#: 事业单位经营支出 / 对附属单位补助支出 / 上缴上级支出 besides 基本支出 and 项目支出)
TOTAL_COMPONENTS = (
    "basic_total",
    "project_total",
    "reserve",
    "operating_expenditure",
    "affiliated_subsidy",
    "superior_remittance",
)
#: rows that are the budget (not last year's, not the change, not a breakdown of a printed row)
BUDGET_KINDS = ("detail", "subtotal", "total")
COMPONENT_NAMES = {
    "basic_total": "基本支出",
    "project_total": "项目支出",
    "reserve": "单位预留机动经费",
    "personnel": "人员经费",
    "public": "公用经费",
    "wages": "工资福利支出",
    "household_transfers": "对个人和家庭的补助",
    "goods_services": "商品和服务支出",
    "capital": "资本性支出",
    "operating_expenditure": "事业单位经营支出",
    "affiliated_subsidy": "对附属单位补助支出",
    "superior_remittance": "上缴上级支出",
}


def basic_field(table: ExtractedTable) -> str:
    """The column of an economic table holding 基本支出: ``basic_total`` where the table prints 基本 and 项目
    (支出总计 | 基本支出 | 项目支出), else its ``total``."""
    return "basic_total" if "basic_total" in table.columns else "total"


def function_table_comparisons(table: ExtractedTable) -> list[Comparison]:
    """合计 = Σ details; 合计 = 基本 + 项目; 基本 = Σ its parts; 类/款 subtotals = Σ children."""
    out: list[Comparison] = []
    rows = table.rows
    details = [r for r in rows if r.kind == "detail"]
    has_parts = any(k in table.columns for k in BASIC_PARTS)
    split = "basic_total" in table.columns or "project_total" in table.columns
    components = [c for c in TOTAL_COMPONENTS if c in table.columns]
    if "basic_total" not in table.columns:  # 基本支出 printed as its parts only (人员支出 | 日常公用支出)
        parts = [p for p in ("personnel", "public") if p in table.columns] or [
            p for p in BASIC_PARTS if p in table.columns
        ]
        components = parts + components if parts else []  # 基本支出 not printed: nothing to add up
    if components and table.reading.get("total_components"):
        # the reading decided whether the other spending columns are parts of the 合计 (see grid.py)
        components = list(table.reading["total_components"])
    for row in rows:
        if row.kind not in BUDGET_KINDS:
            continue
        v = row.values
        if split and "total" in table.columns and components:
            out.append(
                _sum(
                    "total_equals_basic_plus_project",
                    table,
                    row,
                    "total",
                    [_amt(v, c) for c in components],
                    " + ".join(COMPONENT_NAMES[c] for c in components),
                )
            )
        if has_parts and "basic_total" in table.columns:
            out.append(
                _sum(
                    "basic_equals_personnel_plus_public",
                    table,
                    row,
                    "basic_total",
                    [_amt(v, k) for k in BASIC_PARTS],
                    "工资福利 + 对个人和家庭的补助 + 商品和服务 + 资本性支出",
                )
            )
        elif "basic_total" in table.columns and "personnel" in table.columns and "public" in table.columns:
            out.append(
                _sum(
                    "basic_equals_personnel_plus_public",
                    table,
                    row,
                    "basic_total",
                    [_amt(v, "personnel"), _amt(v, "public")],
                    "人员经费 + 公用经费",
                )
            )
    for total in (r for r in rows if r.kind == "total" and details):  # a one-row summary has no details
        for field_name in ("total", "basic_total", "project_total"):
            if field_name in table.columns:
                out.append(
                    _sum(
                        "total_row_equals_sum_of_details",
                        table,
                        total,
                        field_name,
                        [_amt(d.values, field_name) for d in details],
                        "the sum of the detail rows",
                    )
                )
    for i, sub in enumerate(rows):
        code = str(sub.values.get("function_code") or "")
        if sub.kind != "subtotal" or not code:
            continue
        children = list(_block(rows, i, code))
        if children:
            out.append(
                _sum(
                    "subtotal_equals_children",
                    table,
                    sub,
                    "total",
                    [_amt(c.values, "total") for c in children],
                    f"the sum of the {code}… rows below it",
                )
            )
    return out


def basic_table_comparisons(table: ExtractedTable) -> list[Comparison]:
    """基本支出 = 人员经费 + 公用经费 per row (合计 = 基本 + 项目 where both are printed); the 合计 row = Σ 款 rows."""
    out: list[Comparison] = []
    details = [r for r in table.rows if r.kind == "detail"]
    basic = basic_field(table)
    rows = [r for r in table.rows if r.kind in BUDGET_KINDS]
    if "personnel" in table.columns and "public" in table.columns:
        for row in rows:
            out.append(
                _sum(
                    "econ_total_equals_personnel_plus_public",
                    table,
                    row,
                    basic,
                    [_amt(row.values, "personnel"), _amt(row.values, "public")],
                    "人员经费 + 公用经费",
                )
            )
    if basic == "basic_total" and "total" in table.columns and "project_total" in table.columns:
        for row in rows:
            out.append(
                _sum(
                    "total_equals_basic_plus_project",
                    table,
                    row,
                    "total",
                    [_amt(row.values, "basic_total"), _amt(row.values, "project_total")],
                    "基本支出 + 项目支出",
                )
            )
    for total in (r for r in table.rows if r.kind == "total" and details):
        for field_name in ("total", "basic_total", "project_total", "personnel", "public"):
            if field_name in table.columns:
                out.append(
                    _sum(
                        "total_row_equals_sum_of_details",
                        table,
                        total,
                        field_name,
                        [_amt(d.values, field_name) for d in details],
                        "the sum of the detail rows",
                    )
                )
    return out


def three_public_comparisons(table: ExtractedTable) -> list[Comparison]:
    """“三公”经费合计 = 因公出国(境)费 + 公务用车购置及运行费 + 公务接待费; 车辆 = 购置 + 运行."""
    out: list[Comparison] = []
    for row in table.rows:
        v = row.values
        if not isinstance(v.get("total"), Decimal):
            continue
        vehicle = (
            _amt(v, "vehicle_total")
            if "vehicle_total" in v
            else _amt(v, "vehicle_purchase") + _amt(v, "vehicle_operation")
        )
        c = _sum(
            "three_public_total_equals_parts",
            table,
            row,
            "total",
            [_amt(v, "outbound"), vehicle, _amt(v, "reception")],
            "因公出国(境)费 + 公务用车购置及运行费 + 公务接待费",
        )
        c.tolerance = tolerance(3 if "vehicle_total" in v else 4)
        out.append(c)
        if isinstance(v.get("vehicle_total"), Decimal) and ("vehicle_purchase" in v or "vehicle_operation" in v):
            out.append(
                _sum(
                    "three_public_vehicle_equals_parts",
                    table,
                    row,
                    "vehicle_total",
                    [_amt(v, "vehicle_purchase"), _amt(v, "vehicle_operation")],
                    "公务用车购置费 + 公务用车运行费",
                )
            )
    return out


# --------------------------------------------------------------------------- across tables


def _in_yuan(amount: Decimal, unit: str) -> Decimal:
    return amount * FEN_PER_UNIT.get(unit, FEN_PER_UNIT["万元"]) / 100


def _coarser(a: str, b: str) -> str:
    return a if FEN_PER_UNIT.get(a, 1_000_000) >= FEN_PER_UNIT.get(b, 1_000_000) else b


def table_total(table: ExtractedTable, field_name: str) -> tuple[Decimal | None, ExtractedRow | None]:
    """The printed 合计 row's amount, else the sum of the detail rows (row None)."""
    for r in table.rows:
        if r.kind == "total" and isinstance(r.values.get(field_name), Decimal):
            return r.values[field_name], r
    details = [r for r in table.rows if r.kind == "detail" and isinstance(r.values.get(field_name), Decimal)]
    if not details:
        return None, None
    return sum((r.values[field_name] for r in details), ZERO), None


def _squash(s: Any) -> str:
    return re.sub(r"\s+", "", str(s or ""))


def two_sided_amount(
    table: ExtractedTable, side: str, labels: tuple[str, ...], fields: tuple[str, ...] | None = None
) -> tuple[Decimal | None, ExtractedRow | None]:
    """Amount of the row whose ``side`` item (income|expense) is one of ``labels`` (spaces ignored).

    ``fields``: the amount columns to read, first found wins (default ``<side>_amount``, ``<side>_total``:
    the 财政拨款收支预算表 prints 合计 and the 一般公共预算 / 政府性基金 columns).
    """
    fields = fields or (f"{side}_amount", f"{side}_total")
    for label in labels:
        for r in table.rows:
            if _squash(r.values.get(f"{side}_item")) != label:
                continue
            for name in fields:
                if isinstance(r.values.get(name), Decimal):
                    return r.values[name], r
    return None, None


def _cross(
    check: str,
    a_table: ExtractedTable,
    a: Decimal,
    b_table: ExtractedTable,
    b: Decimal,
    row: ExtractedRow | None,
    detail: str,
    one_sided: bool = False,
) -> Comparison:
    """``b`` (in b_table's unit) compared with ``a``: both converted to the coarser unit of the two."""
    unit = _coarser(a_table.unit, b_table.unit)
    f = Decimal(FEN_PER_UNIT.get(unit, 1_000_000))
    ea = _in_yuan(a, a_table.unit) * 100 / f
    eb = _in_yuan(b, b_table.unit) * 100 / f
    return Comparison(
        check,
        "hard",
        ea,
        eb,
        unit,
        tolerance(1),
        row.page if row else (b_table.pages or [None])[0],
        row.row_index if row else None,
        b_table.table_type,
        detail,
        one_sided=one_sided,
    )


INCOME_GRAND = ("收入总计", "收入总合计")
EXPENSE_GRAND = ("支出总计", "支出总合计")
INCOME_YEAR = ("本年收入合计", "收入合计", "本年收入")
EXPENSE_YEAR = ("本年支出合计", "支出合计", "本年支出")


def cross_table_comparisons(result: ExtractionResult) -> list[Comparison]:
    """Identities between the tables of one document.

    * 部门收支预算表: 收入总计 = 支出总计;
    * 部门收支 本年收入合计 = 部门收入预算表 合计; 本年支出合计 = 部门支出预算表 合计;
    * 财政拨款收支预算表: 收入合计 = 支出合计; its 一般公共预算 支出 = 一般公共预算支出预算表 合计;
      财政拨款 ≤ 部门支出 (equal when every fund is 财政拨款);
    * 基本支出 of 一般公共预算支出预算表 = 一般公共预算基本支出预算表 合计.
    """
    out: list[Comparison] = []
    summ = _nonempty(result.table(TABLE_INCOME_EXPENDITURE))
    rev = _nonempty(result.table(TABLE_REVENUE))
    exp = _nonempty(result.table(TABLE_EXPENDITURE))
    fis = _nonempty(result.table(TABLE_FISCAL_APPROPRIATION))
    gpb = _nonempty(result.table(TABLE_GPB_EXPENDITURE))
    basic = _nonempty(result.table(TABLE_GPB_BASIC))
    if summ:
        inc, _ = two_sided_amount(summ, "income", INCOME_GRAND)
        ex, row = two_sided_amount(summ, "expense", EXPENSE_GRAND)
        if inc is not None and ex is not None:
            out.append(
                _cross(
                    "income_total_equals_expense_total",
                    summ,
                    inc,
                    summ,
                    ex,
                    row,
                    f"{summ.title}: 支出总计 {ex} {summ.unit}, 收入总计 {inc} {summ.unit}",
                )
            )
        inc_y, row = two_sided_amount(summ, "income", INCOME_YEAR)
        if inc_y is not None and rev:
            t, trow = table_total(rev, "total")
            carry, _ = table_total(rev, "carryover") if "carryover" in rev.columns else (None, None)
            if t is not None:
                # a 收入总表 whose 合计 includes 上年结转 (a column of its own): this year's revenue is the rest
                what = "合计" if carry is None else f"合计 − 上年结转 {carry}"
                t = t - carry if carry is not None else t
                out.append(
                    _cross(
                        "revenue_table_equals_summary",
                        summ,
                        inc_y,
                        rev,
                        t,
                        trow,
                        f"{rev.title} {what} = {t} {rev.unit}, {summ.title} 本年收入合计 {inc_y} {summ.unit}",
                    )
                )
        ex_y, row = two_sided_amount(summ, "expense", EXPENSE_YEAR)
        if ex_y is not None and exp:
            t, trow = table_total(exp, "total")
            if t is not None:
                out.append(
                    _cross(
                        "expenditure_table_equals_summary",
                        summ,
                        ex_y,
                        exp,
                        t,
                        trow,
                        f"{exp.title} 合计 {t} {exp.unit}, {summ.title} 本年支出合计 {ex_y} {summ.unit}",
                    )
                )
    if fis:
        inc, _ = two_sided_amount(fis, "income", INCOME_GRAND + INCOME_YEAR)
        ex, row = two_sided_amount(fis, "expense", EXPENSE_GRAND + EXPENSE_YEAR)
        if inc is not None and ex is not None:
            out.append(
                _cross(
                    "fiscal_income_equals_expense",
                    fis,
                    inc,
                    fis,
                    ex,
                    row,
                    f"{fis.title}: 支出合计 {ex} {fis.unit}, 收入合计 {inc} {fis.unit}",
                )
            )
        if ex is not None and exp:
            t, _ = table_total(exp, "total")
            if t is not None:
                out.append(
                    _cross(
                        "fiscal_within_department_expenditure",
                        exp,
                        t,
                        fis,
                        ex,
                        row,
                        f"{fis.title} 支出合计 {ex} {fis.unit} exceeds {exp.title} 合计 {t} {exp.unit}",
                        one_sided=True,
                    )
                )
        fg, frow = two_sided_amount(fis, "expense", EXPENSE_GRAND + EXPENSE_YEAR, ("expense_gpb",))
        if fg is not None and gpb:
            t, _ = table_total(gpb, "total")
            if t is not None:
                out.append(
                    _cross(
                        "fiscal_gpb_equals_gpb_table",
                        fis,
                        fg,
                        gpb,
                        t,
                        _total_row(gpb),
                        f"{gpb.title} 合计 {t} {gpb.unit}, {fis.title} 一般公共预算支出 {fg} {fis.unit}",
                    )
                )
    if gpb and basic:
        a, _ = table_total(gpb, "basic_total")
        b, row = table_total(basic, basic_field(basic))
        if a is not None and b is not None:
            out.append(
                _cross(
                    "basic_expenditure_agrees_across_tables",
                    gpb,
                    a,
                    basic,
                    b,
                    row,
                    f"基本支出 of {gpb.title} is {a} {gpb.unit}, {basic.title} totals {b} {basic.unit}",
                )
            )
    return out


def _nonempty(t: ExtractedTable | None) -> ExtractedTable | None:
    return t if t is not None and not t.empty and t.rows else None


def _total_row(t: ExtractedTable) -> ExtractedRow | None:
    return next((r for r in t.rows if r.kind == "total"), None)


# --------------------------------------------------------------------------- per document


#: rule name (the registry's ``rules:`` of a table type) → the within-table identities it checks
TABLE_RULES: dict[str, Callable[[ExtractedTable], list[Comparison]]] = {
    "function_totals": function_table_comparisons,
    "basic_totals": basic_table_comparisons,
    "three_public_parts": three_public_comparisons,
}


def table_comparisons(result: ExtractionResult) -> list[Comparison]:
    """Within-table identities of every table of the document, as the registry declares them per type."""
    reg = registry.current()
    out: list[Comparison] = []
    for table in result.tables:
        try:
            rules = reg.table_type(table.table_type).rules
        except KeyError:  # an unrecognised table
            continue
        for rule in rules:
            out.extend(TABLE_RULES[rule](table))
    return out


def document_comparisons(result: ExtractionResult) -> list[Comparison]:
    out = table_comparisons(result) + cross_table_comparisons(result)
    for c in out:
        c.document_sha256 = result.document_sha256
    return out


def check_document(result: ExtractionResult) -> list[dict[str, Any]]:
    """The failing identities of a document, evaluated in plain Python (same as the GX suite)."""
    return [c.finding() for c in document_comparisons(result) if not c.passes()]
