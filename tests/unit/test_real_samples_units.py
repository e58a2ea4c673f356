"""Unit tests of what the real samples taught (no PDFs needed): detection, titles, rounding, document sets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.crawl.detect import department_from_title, detect_department, detect_region
from assets.extract.document_sets import (
    document_set_key,
    linked_narratives,
    unrecognised_findings,
)
from assets.extract.templates import match_title
from assets.records import ExtractedRow, ExtractedTable, ExtractionResult, ManifestEntry
from assets.validate.rules import check_document

D = Decimal


def test_department_wrapped_over_two_title_lines():
    # 省法院2018年度部门预算公开.pdf, page 1
    assert (
        detect_department(first_page="2018 年度江苏省高级\n人民法院预算公开\n2018 年 2 月 24 日")
        == "江苏省高级人民法院"
    )
    # a page number above the title is not part of the name
    assert detect_department(first_page="1\n江苏省人民检察院\n2019年度部门预算公开") == "江苏省人民检察院"
    assert detect_department(first_page="-1-\n江苏省政协办公厅2018年度\n部门预算公开") == "江苏省政协办公厅"


def test_department_from_an_archive_file_name():
    assert (
        department_from_title("jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年度部门预算.pdf") == "江苏省政协办公厅"
    )


@pytest.mark.parametrize(
    "first_page, file_name, code",
    [
        ("上海市普陀区人民政府办公室\n2025年部门预算", "x.pdf", "310107"),
        ("- 1 -", "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年度部门预算.pdf", "320000"),
        ("江苏省人大常委会办公厅\n2017年度部门预算", "a.pdf", "320000"),
    ],
)
def test_region_from_the_document_text(first_page, file_name, code):
    assert detect_region(first_page, None, file_name).code == code


def test_region_not_named_is_none():
    assert detect_region("部门预算公开", None, "p0123.pdf", "目录") is None


@pytest.mark.parametrize(
    "title, key",
    [
        ("收支预算总表", "income_expenditure_summary"),
        ("一般公共预算支出预算表（功能科目）", "gpb_expenditure"),
        ("一般公共预算基本支出预算表（经济科目）", "gpb_basic_expenditure"),
        ("“三公”经费、会议费、培训费支出预算表", "three_public"),
        ("一般公共预算机关运行经费支出预算表", "operating_funds"),
        ("财政拨款政府性基金支出预算表", "gov_fund_expenditure"),
        ("支出预算总表", "expenditure"),
        ("政府采购支出预算表", "procurement"),  # recognised, recorded, not loaded
        ("财政拨款支出预算表（功能科目）", "fiscal_expenditure"),  # 江苏 公开表五: 一般公共预算 + 政府性基金
        ("财政拨款基本支出预算表（经济科目）", "fiscal_basic_expenditure"),
        ("一般公共预算财政拨款基本支出预算表", "gpb_basic_expenditure"),
    ],
)
def test_jiangsu_titles(title, key):
    t = match_title(title)
    assert (t.key if t else None) == key


def _expenditure(total: str, basic: str, project: str, reserve: str | None = None) -> ExtractionResult:
    values = {
        "function_code": "21201",
        "name": "城乡社区管理事务",
        "total": D(total),
        "basic_total": D(basic),
        "project_total": D(project),
    }
    columns = ["function_code", "name", "total", "basic_total", "project_total"]
    if reserve is not None:
        values["reserve"] = D(reserve)
        columns.append("reserve")
    table = ExtractedTable(
        "expenditure", "支出预算总表", [17], "元", [ExtractedRow(17, 0, values, "detail")], columns=columns
    )
    return ExtractionResult("x", 20, [table])


def test_sums_of_whole_yuan_amounts_tolerate_their_rounding():
    """Amounts printed in whole 元 are each rounded to 1 元: a 3-amount identity may be off by 1.5 元."""
    # 上海普陀 万里街道 2025 p. 17: 94,995,790 vs 77,381,546 + 17,614,243 = 94,995,789
    assert not [
        f
        for f in check_document(_expenditure("94995790", "77381546", "17614243"))
        if f["check_name"] == "total_equals_basic_plus_project"
    ]
    failed = [
        f
        for f in check_document(_expenditure("94995791", "77381546", "17614243"))
        if f["check_name"] == "total_equals_basic_plus_project"
    ]
    assert [(f["expected"], f["actual"]) for f in failed] == [("94995789", "94995791")]
    # printed to 0.01: 0.01 off is rounding, 0.02 is not
    assert not check_document(_expenditure("100.01", "60.00", "40.00"))
    assert check_document(_expenditure("100.02", "60.00", "40.00"))


def test_jiangsu_reserve_is_part_of_the_total():
    # 委办公厅 2018 公开表三 p. 5: 24,458.43 = 10,403.11 + 12,081.46 + 1,973.86 (单位预留机动经费)
    assert not check_document(_expenditure("24458.43", "10403.11", "12081.46", "1973.86"))


def _doc(sha: str, department: str, tables: bool, narrative: str = "说明" * 200) -> tuple:
    table = [ExtractedTable("gpb_expenditure", "一般公共预算支出预算表", [7], "万元", [])] if tables else []
    result = ExtractionResult(sha, 10, table, narrative=narrative, status="ok" if tables else "rejected")
    return ManifestEntry(url=sha, region_code="320000", sha256=sha, year=2018, department=department), result


def test_document_sets_use_the_reviewed_aliases():
    keys = {
        document_set_key("320000", 2018, name)
        for name in ("中共江苏省委办公厅", "中国共产党江苏省委员会办公厅", "江苏省委办公厅")
    }
    assert keys == {"320000:中共江苏省委办公厅:2018"}
    assert document_set_key("320000", 2018, "江苏省人民检察院") == "320000:人民检察院:2018"
    assert document_set_key("320000", None, "江苏省人民检察院") is None


def test_table_pdfs_are_linked_to_the_narrative_only_pdf_of_their_set():
    docs = dict(
        [
            ("n", _doc("n", "江苏省委办公厅", False)),
            ("t", _doc("t", "中共江苏省委办公厅", True)),
            ("cover", _doc("cover", "江苏省委办公厅", False, narrative="封面")),  # too short: not a 说明
            ("other", _doc("other", "江苏省人民检察院", True)),
        ]
    )
    assert linked_narratives(docs) == {"t": ["n"]}


def test_unrecognised_tables_become_info_findings():
    result = ExtractionResult(
        "x",
        13,
        [],
        unrecognised=[
            {"title": "政府采购支出预算表", "page": 12, "tables": 1},
            {"title": None, "page": 3, "table_index": 1, "rows": 4, "after": "收支预算总表"},
            {"problem": "部门收支预算表: page 3 row 20: expense_amount: not an amount: '当年支出小计'"},
        ],
    )
    got = unrecognised_findings(result)
    assert [(f["check_name"], f["severity"], f["actual"], f["page"]) for f in got] == [
        ("unrecognised_table", "info", "政府采购支出预算表", 12),
        ("unrecognised_table", "info", None, 3),
        ("extraction_problem", "info", None, None),
    ]
    assert got[0]["detail"] == (
        "table '政府采购支出预算表' on page 12: no template of the national format, recorded, not loaded"
    )
