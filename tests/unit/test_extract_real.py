"""Extraction of real published documents: 上海市普陀区 2025 department budgets.

The expected amounts were read off the pages with ``pdftotext -layout -f N -l N``
(page numbers are the PDF's, 1-based).  Skipped when the real samples are not
present (``BUDGET_REAL_SAMPLES`` or ../shared/real-samples).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.extract.document import extract_document
from tests.conftest import real_samples_dir

D = Decimal
OFFICE = "shanghai-putuo__上海市普陀区人民政府办公室25年预算.pdf"


def _sample(name: str):
    path = real_samples_dir() / name
    if not path.exists():
        pytest.skip(f"real sample {name} not present in {real_samples_dir()} (set BUDGET_REAL_SAMPLES)")
    return path


@pytest.fixture(scope="module")
def office():
    """上海市普陀区人民政府办公室 2025 部门预算: 22 pages, amounts in 元, 三公 in 万元."""
    return extract_document(_sample(OFFICE), "putuo-office-2025")


def _row(table, **match):
    rows = [r for r in table.rows if all(r.values.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, f"{match}: {len(rows)} rows"
    return rows[0]


def test_document_and_tables_found(office):
    assert office.status == "ok" and office.unrecognised == []
    assert office.fiscal_year == 2025 and office.department == "上海市普陀区人民政府办公室"
    assert [(t.table_type, t.pages) for t in office.tables] == [
        ("income_expenditure_summary", [8]),
        ("revenue", [9, 10]),
        ("expenditure", [11, 12]),
        ("fiscal_appropriation", [13]),
        ("gpb_expenditure", [14, 15]),
        ("gov_fund_expenditure", [16]),
        ("soe_capital_expenditure", [17]),
        ("gpb_basic_expenditure", [18, 19]),
        ("three_public", [20]),
    ]
    # the rules of these PDFs are vector strokes: the fast path reads every table
    assert {t.flavor for t in office.tables} == {"lattice/vector"}


def test_income_expenditure_summary_page_8(office):
    t = office.table("income_expenditure_summary")
    assert t.unit == "元"
    total = _row(t, income_item="收入总计")
    assert total.kind == "total" and total.page == 8
    assert total.values["income_amount"] == D("91016775.35") and total.values["expense_amount"] == D("91016775.35")
    assert _row(t, expense_item="一、一般公共服务支出").values["expense_amount"] == D("82096797.42")


def test_revenue_page_9(office):
    row = _row(office.table("revenue"), function_code="2010301")  # 201 03 01 行政运行, page 9
    assert (row.page, row.kind, row.values["name"]) == (9, "detail", "行政运行")
    assert row.values["total"] == D("12029501.84") and row.values["fiscal_appropriation"] == D("12029501.84")


def test_expenditure_pages_11_and_12(office):
    t = office.table("expenditure")
    row = _row(t, function_code="2010350")  # 201 03 50 事业运行, page 11
    assert row.values["total"] == D("3807295.58")
    assert row.values["basic_total"] == D("3767295.58") and row.values["project_total"] == D("40000.00")
    assert _row(t, function_code="201").kind == "subtotal"  # 类 row of the code tree
    total = _row(t, name="合计")  # the 合计 row closes the table on page 12
    assert (total.page, total.kind) == (12, "total")
    assert (total.values["total"], total.values["basic_total"], total.values["project_total"]) == (
        D("91016775.35"),
        D("24606775.35"),
        D("66410000.00"),
    )
    # 类 subtotals are not double counted: the 项 rows add up to the 合计
    assert sum(r.values["total"] for r in t.rows if r.kind == "detail") == D("91016775.35")


def test_fiscal_appropriation_page_13(office):
    row = _row(office.table("fiscal_appropriation"), expense_item="四、住房保障支出")
    assert row.values == {
        "expense_item": "四、住房保障支出",
        "expense_total": D("3609125.22"),
        "expense_gpb": D("3609125.22"),
    }


def test_empty_gov_fund_table_page_16(office):
    t = office.table("gov_fund_expenditure")
    assert t.empty and t.rows == []
    assert t.note == "注:本部门2025年无政府性基金预算财政拨款安排的预算，故本表为空表。"


def test_basic_expenditure_by_economic_class_page_18(office):
    row = _row(office.table("gpb_basic_expenditure"), econ_code="30101")  # 301 01 基本工资
    assert (row.page, row.values["econ_name"], row.values["total"], row.values["personnel"]) == (
        18,
        "基本工资",
        D("2540192.00"),
        D("2540192.00"),
    )


def test_three_public_page_20_in_wan(office):
    t = office.table("three_public")
    assert t.unit == "万元"  # this table alone is printed in 万元
    assert [(r.kind, r.values) for r in t.rows] == [
        (
            "total",
            {"total": D("867.50"), "outbound": D("839.00"), "reception": D("28.50"), "operating_funds": D("213.28")},
        )
    ]


@pytest.mark.parametrize(
    "name",
    [
        "shanghai-putuo__上海市普陀区人民政府万里街道办事处24年预算.pdf",
        "shanghai-putuo__上海市普陀区商务委员会单位25年预算.pdf",
    ],
)
def test_other_putuo_documents_extract_without_problems(name):
    result = extract_document(_sample(name), name)
    assert result.status == "ok"
    assert [u for u in result.unrecognised if u.get("problem")] == []
    types = {t.table_type for t in result.tables}
    assert {
        "income_expenditure_summary",
        "revenue",
        "expenditure",
        "fiscal_appropriation",
        "gpb_expenditure",
        "gpb_basic_expenditure",
        "three_public",
    } <= types
    gpb = result.table("gpb_expenditure")
    total = [r for r in gpb.rows if r.kind == "total"]
    assert len(total) == 1
    assert sum(r.values.get("total", 0) for r in gpb.rows if r.kind == "detail") == total[0].values["total"]
