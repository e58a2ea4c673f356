"""Unit tests of the extract stage's pure parts: cells, grids, templates, two-sided and text tables.

No PDF is read here: the grids are what camelot returns (``copy_text`` repeats
merged cells), written out by hand with the exact values expected.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.extract.cells import AmountError, clean_text, code_text, is_code, parse_amount, to_halfwidth
from assets.extract.evaluate import compare_document
from assets.extract.grid import Piece, build_rows, header_paths, header_row_count, split_merged_row, unglue_cells
from assets.extract.pdf_text import PageText, UnreadableDocument, check_text_layer, empty_table_note, find_unit
from assets.extract.templates import map_columns, match_title, template
from assets.extract.text_tables import build_text_table
from assets.extract.two_sided import build_two_sided, is_header_row
from assets.records import ExtractedRow, ExtractedTable, ExtractionResult

D = Decimal

# ---------------------------------------------------------------------------
# cells


@pytest.mark.parametrize(
    "printed, value",
    [
        ("1120.30", D("1120.30")),
        ("11,203,000.00", D("11203000.00")),  # thousands separators (元 tables)
        ("１１２０．３０", D("1120.30")),  # full-width digits and point
        ("(3.35)", D("-3.35")),  # negative in parentheses
        ("（1,234.50）", D("-1234.50")),  # full-width parentheses
        ("-14.28", D("-14.28")),
        (" 0.70 ", D("0.70")),
        ("0.00", D("0.00")),  # zero printed as 0.00 …
        ("-", D("0.00")),  # … as a dash
        ("—", D("0.00")),  # … as an em dash
        ("", None),  # blank: nothing printed
        ("/", None),
    ],
)
def test_parse_amount_exact(printed, value):
    got = parse_amount(printed)
    assert got == value
    if value is not None:
        assert isinstance(got, Decimal) and str(got) == str(value)  # exact digits, never a float


@pytest.mark.parametrize("printed", ["91%", "正常维护", "12.3.4", "1,2a"])
def test_parse_amount_rejects_non_amounts(printed):
    with pytest.raises(AmountError):
        parse_amount(printed)


def test_codes_and_text():
    assert code_text("２０１ 03") == "20103"
    assert code_text("2010306") == "2010306"
    assert is_code("208") and is_code("2080505") and not is_code("合计")
    assert clean_text("单位代\n码") == "单位代码"  # a header wrapped inside its cell
    assert clean_text("项 目") == "项目"
    assert to_halfwidth("（２０２４年）") == "(2024年)"


# ---------------------------------------------------------------------------
# merged and glued cells


FIELDS = {0: "class_part", 1: "kuan_part", 2: "xiang_part", 3: "unit_code", 4: "name", 5: "total", 6: "basic_total"}


def test_split_two_rows_merged_into_one_cell():
    # the extractor put two printed rows into one cell each: "208\n208", "3.35\n14.28"
    row = [
        "208\n208",
        "05\n05",
        "02\n05",
        "",
        "事业单位离退休\n机关事业单位基本养老保险缴费支出",
        "3.35\n14.28",
        "3.35\n14.28",
    ]
    assert split_merged_row(row, FIELDS) == [
        ["208", "05", "02", "", "事业单位离退休", "3.35", "3.35"],
        ["208", "05", "05", "", "机关事业单位基本养老保险缴费支出", "14.28", "14.28"],
    ]


def test_wrapped_name_is_not_split():
    # one printed row whose long name wraps inside its cell: one row, the name joined later
    row = ["201", "03", "06", "", "政务公开审批\n（含政务服务）", "1120.30", "884.30"]
    assert split_merged_row(row, FIELDS) == [row]


def test_unglue_amount_glued_to_the_next_label():
    assert unglue_cells(["", "371,514,655.00一、一般公共服务支出"]) == ["371,514,655.00", "一、一般公共服务支出"]
    assert unglue_cells(["一、一般公共预算1145.25", ""]) == ["一、一般公共预算", "1145.25"]
    assert unglue_cells(["", "(3.35)伊川县"]) == ["(3.35)", "伊川县"]  # a negative amount
    assert unglue_cells(["1.00", "3.35伊川县", "2.00"]) == ["1.00", "3.35伊川县", "2.00"]  # no free neighbour: kept


# ---------------------------------------------------------------------------
# grid tables: header paths → fields, codes, row kinds

FUNCTION_HEADER = [
    [
        "科目编码",
        "科目编码",
        "科目编码",
        "单位代码",
        "单位（科目名称）",
        "合计",
        "基本支出",
        "基本支出",
        "基本支出",
        "项目支出",
        "项目支出",
    ],
    ["类", "款", "项", "单位代码", "单位（科目名称）", "合计", "小计", "人员经费", "公用经费", "小计", "其他运转类"],
    [
        "类",
        "款",
        "项",
        "单位代码",
        "单位（科目名称）",
        "合计",
        "小计",
        "工资福利支出",
        "商品和服务支出",
        "小计",
        "其他运转类",
    ],
]


def test_header_paths_map_to_fields_by_text_not_position():
    tpl = template("gpb_expenditure")
    paths = header_paths(FUNCTION_HEADER, 11)
    assert paths[7] == ["基本支出", "人员经费", "工资福利支出"]
    fields = map_columns(tpl, paths)
    assert [fields.get(j) for j in range(11)] == [
        "class_part",
        "kuan_part",
        "xiang_part",
        "unit_code",
        "name",
        "total",
        "basic_total",
        "wages",
        "goods_services",
        "project_total",
        "project_other_operating",
    ]
    # the same header with its columns in another order maps the same fields
    swapped = [[r[0], r[1], r[2], r[3], r[4], r[5], r[9], r[10], r[6], r[7], r[8]] for r in FUNCTION_HEADER]
    f2 = map_columns(tpl, header_paths(swapped, 11))
    assert [f2[j] for j in (6, 7, 8, 9, 10)] == [
        "project_total",
        "project_other_operating",
        "basic_total",
        "wages",
        "goods_services",
    ]


def test_codes_tree_rows_and_kinds():
    """类 | 款 | 项 columns with 类 and 款 subtotal rows between the 项 rows (codes_tree)."""
    body = [
        ["合计", "合计", "合计", "", "合计", "1145.25", "909.25", "882.70", "26.55", "236.00", "236.00"],
        ["", "", "", "106", "伊川县政务服务中心", "1145.25", "909.25", "882.70", "26.55", "236.00", "236.00"],
        ["201", "", "", "", "一般公共服务支出", "1120.30", "884.30", "857.75", "26.55", "236.00", "236.00"],
        [
            "201",
            "03",
            "",
            "",
            "政府办公厅（室）及相关机构事务",
            "1120.30",
            "884.30",
            "857.75",
            "26.55",
            "236.00",
            "236.00",
        ],
        ["201", "03", "06", "", "政务公开审批", "1120.30", "884.30", "857.75", "26.55", "236.00", "236.00"],
        [
            "208\n208",
            "05\n05",
            "02\n05",
            "",
            "事业单位离退休\n机关事业单位基本养老保险缴费支出",
            "3.35\n14.28",
            "3.35\n14.28",
            "-\n14.28",
            "",
            "",
            "",
        ],
        ["", "11", "01", "", "行政单位医疗", "(6.62)", "6.62", "6.62", "—", "", ""],
    ]
    rows, _, fields, problems = build_rows([Piece(page=13, cells=FUNCTION_HEADER + body)], template("gpb_expenditure"))
    assert problems == []
    assert header_row_count(FUNCTION_HEADER + body, template("gpb_expenditure")) == 3
    got = [
        (
            r.kind,
            r.values.get("function_code"),
            r.values.get("unit_code") or None,
            r.values.get("name"),
            r.values.get("total"),
            r.values.get("wages"),
        )
        for r in rows
    ]
    assert got == [
        ("total", "", None, "合计", D("1145.25"), D("882.70")),
        ("subtotal", "", "106", "伊川县政务服务中心", D("1145.25"), D("882.70")),
        ("subtotal", "201", None, "一般公共服务支出", D("1120.30"), D("857.75")),
        ("subtotal", "20103", None, "政府办公厅（室）及相关机构事务", D("1120.30"), D("857.75")),
        ("detail", "2010306", None, "政务公开审批", D("1120.30"), D("857.75")),
        ("detail", "2080502", None, "事业单位离退休", D("3.35"), D("0.00")),
        ("detail", "2080505", None, "机关事业单位基本养老保险缴费支出", D("14.28"), D("14.28")),
        # the 类 is carried from the row above when only 款 | 项 are printed; a negative in parentheses
        ("detail", "2081101", None, "行政单位医疗", D("-6.62"), D("6.62")),
    ]
    assert [r.row_index for r in rows] == list(range(8))
    assert rows[7].values["goods_services"] == D("0.00")  # "—" is a printed zero
    assert "project_total" not in rows[5].values  # a blank cell is nothing printed


def test_dropped_leading_zero_of_a_code_part():
    # 上海普陀 2024 (万里街道, page 29) prints "301 | 2 | 津贴补贴" for 30102
    header = [
        ["部门预算经济分类科目编码", "部门预算经济分类科目编码", "经济分类科目名称", "合计"],
        ["类", "款", "经济分类科目名称", "合计"],
    ]
    body = [
        ["301", "", "工资福利支出", "88,282,511"],
        ["301", "2", "津贴补贴", "16,623,810"],
        ["301", "08", "机关事业单位基本养老保险缴费", "4,608,515"],
    ]
    rows, _, _, problems = build_rows([Piece(29, header + body)], template("gpb_basic_expenditure"))
    assert problems == []
    assert [(r.kind, r.values["econ_code"], r.values["total"]) for r in rows] == [
        ("subtotal", "301", D("88282511")),
        ("detail", "30102", D("16623810")),
        ("detail", "30108", D("4608515")),
    ]


def test_codes_joined_and_table_across_pages_with_repeated_header():
    header = [["科目编码", "科目名称", "合计"], ["科目编码", "科目名称", "合计"]]
    p1 = header + [["", "合计", "20.00"], ["2010306", "政务公开审批", "11.00"]]
    p2 = header + [["2080505", "机关事业单位基本养老保险缴费支出", "9.00"]]
    rows, _, _, problems = build_rows([Piece(10, p1), Piece(11, p2)], template("expenditure"))
    assert problems == []
    assert [(r.page, r.kind, r.values.get("function_code"), r.values["total"]) for r in rows] == [
        (10, "total", "", D("20.00")),
        (10, "detail", "2010306", D("11.00")),
        (11, "detail", "2080505", D("9.00")),
    ]


def test_project_table_unit_and_total_rows():
    header = [
        ["类型", "项目名称", "项目单位", "合计", "本年拨款", "本年拨款"],
        ["类型", "项目名称", "项目单位", "合计", "一般公共预算", "政府性基金预算"],
    ]
    body = [
        ["", "", "", "236.00", "236.00", "-"],
        ["", "106", "伊川县政务服务中心", "236.00", "236.00", "-"],
        ["其他运转类", "2024年系统建设与运维", "伊川县政务服务中心", "29.00", "29.00", "-"],
    ]
    rows, _, _, _ = build_rows([Piece(18, header + body)], template("project_expenditure"))
    assert [(r.kind, r.values.get("project_name") or None, r.values["total"], r.values["gov_fund"]) for r in rows] == [
        ("total", None, D("236.00"), D("0.00")),
        ("subtotal", "106", D("236.00"), D("0.00")),
        ("detail", "2024年系统建设与运维", D("29.00"), D("0.00")),
    ]


def test_three_public_one_row_is_the_total():
    header = [
        [
            "“三公”经费合计",
            "因公出国(境)费",
            "公务用车购置及运行费",
            "公务用车购置及运行费",
            "公务用车购置及运行费",
            "公务接待费",
        ],
        ["“三公”经费合计", "因公出国(境)费", "小计", "公务用车购置费", "公务用车运行费", "公务接待费"],
    ]
    rows, _, fields, _ = build_rows(
        [Piece(15, header + [["7.68", "", "4.24", "", "4.24", "3.44"]])], template("three_public")
    )
    assert [fields[j] for j in range(6)] == [
        "total",
        "outbound",
        "vehicle_total",
        "vehicle_purchase",
        "vehicle_operation",
        "reception",
    ]
    assert len(rows) == 1 and rows[0].kind == "total"
    assert rows[0].values == {
        "total": D("7.68"),
        "vehicle_total": D("4.24"),
        "vehicle_operation": D("4.24"),
        "reception": D("3.44"),
    }


# ---------------------------------------------------------------------------
# titles, units, notes, text layer


@pytest.mark.parametrize(
    "title, key",
    [
        ("2024年部门收支预算表", "income_expenditure_summary"),
        ("2024年部门收支预算总表", "income_expenditure_summary"),
        ("表5 一般公共预算支出预算表", "gpb_expenditure"),
        ("2024年部门支出预算总表", "expenditure"),
        ("部门支出预算表", "expenditure"),
        ("2024年财政拨款收支预算表", "fiscal_appropriation"),
        ("2024年一般公共预算基本支出预算表", "gpb_basic_expenditure"),
        ("2024年一般公共预算“三公”经费预算表", "three_public"),
        ("2024年政府性基金支出预算表", "gov_fund_expenditure"),
        ("2024年国有资本经营支出预算表", "soe_capital_expenditure"),
        ("2024年项目支出预算表", "project_expenditure"),
        ("部门（单位）整体绩效目标表（2024年度）", "dept_performance"),
        ("2024年本级部门预算项目绩效目标汇总表", "project_performance"),
        ("附件：2024年洛阳市伊川县政务服务中心部门预算表", None),
    ],
)
def test_title_aliases(title, key):
    t = match_title(title)
    assert (t.key if t else None) == key


def test_unit_and_empty_note_as_printed():
    text = (
        "部门名称：伊川县政务服务中心 单位：万元\n"
        "备注：伊川县政务服务中心2024年无政府性基金预算拨款安排的支出，\n故此表无数据。"
    )
    assert find_unit(text) == "万元"
    assert find_unit("单位： 元") == "元"
    assert empty_table_note(text) == "备注：伊川县政务服务中心2024年无政府性基金预算拨款安排的支出，故此表无数据。"
    assert (
        empty_table_note("注：“三公”经费包括因公出国(境)费。\n备注：本单位无三公经费，此表无数据。")
        == "备注：本单位无三公经费，此表无数据。"
    )
    assert empty_table_note("2024年一般公共预算支出预算表 合计 1145.25") is None


def _page(text: str, images: int = 0) -> PageText:
    return PageText(1, text, 842, 595, images, text.splitlines())


def test_text_layer_rejections():
    with pytest.raises(UnreadableDocument, match="scanned"):
        check_text_layer([_page("", images=1), _page(" ", images=1)])
    with pytest.raises(UnreadableDocument, match=r"\(cid:"):
        check_text_layer([_page("(cid:12)(cid:13) 1145.25")])
    # glyph ids read as control and Latin-1 characters; the digits come out right
    junk = "2024\x01\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14 ÄÅÇÉÑÖÄÜáàâäãå 282.31 ¬ú¬ fl‡Ã‚óô"
    with pytest.raises(UnreadableDocument, match=r"\(cid:"):
        check_text_layer([_page(junk)])
    check_text_layer([_page("2024年部门收支预算表 单位：万元 一、一般公共预算 1145.25")])  # readable: no error


# ---------------------------------------------------------------------------
# two-sided tables

FISCAL_HEADER = [
    ["收入", "收入", "支出", "支出", "支出", "支出", "支出", "支出"],
    ["项 目", "金 额", "项 目", "合 计", "一般公共预算", "一般公共预算", "政府性基金", "国有资本经营预算"],
    ["项 目", "金 额", "项 目", "合 计", "小 计", "其中：财政拨款", "政府性基金", "国有资本经营预算"],
]


def test_fiscal_appropriation_three_header_rows_and_continuation_page():
    assert [is_header_row(r) for r in FISCAL_HEADER] == [True, True, True]
    p1 = FISCAL_HEADER + [
        ["一、本年收入", "1145.25", "一、本年支出", "1145.25", "1145.25", "1145.25", "-", "-"],
        ["其中：财政拨款", "1145.25", "（二）外交支出", "", "", "", "", ""],
        ["（二）政府性基金预算拨款", "", "（三）国防支出", "", "", "", "", ""],
    ]
    p2 = FISCAL_HEADER + [  # the header repeated on the next page
        ["", "", "二、年终结转结余", "", "", "", "", ""],
        ["收入合计", "1145.25", "支出合计", "1145.25", "1145.25", "1145.25", "0.00", "0.00"],
    ]
    rows, columns, problems = build_two_sided([Piece(11, p1), Piece(12, p2)])
    assert problems == []
    assert columns == [
        "income_item",
        "income_amount",
        "expense_item",
        "expense_total",
        "expense_gpb",
        "expense_gpb_fiscal",
        "expense_gov_fund",
        "expense_soe",
    ]
    assert [(r.page, r.kind) for r in rows] == [(11, "detail")] * 3 + [(12, "detail"), (12, "total")]
    assert rows[0].values == {
        "income_item": "一、本年收入",
        "income_amount": D("1145.25"),
        "expense_item": "一、本年支出",
        "expense_total": D("1145.25"),
        "expense_gpb": D("1145.25"),
        "expense_gpb_fiscal": D("1145.25"),
        "expense_gov_fund": D("0.00"),
        "expense_soe": D("0.00"),
    }
    assert rows[1].values == {
        "income_item": "其中：财政拨款",
        "income_amount": D("1145.25"),
        "expense_item": "（二）外交支出",
    }
    assert rows[3].values == {"expense_item": "二、年终结转结余"}


def test_income_expenditure_summary_totals():
    grid = [
        ["收入", "收入", "支出", "支出"],
        ["项目", "金额", "项目", "金额"],
        ["一、一般公共预算", "11,203,000.00", "一、一般公共服务", "—"],
        ["本年收入合计", "11,203,000.00", "本年支出合计", "11,203,000.00"],
        ["上年结转结余", "", "年终结转结余", "0.00"],
    ]
    rows, columns, _ = build_two_sided([Piece(8, grid)])
    assert columns == ["income_item", "income_amount", "expense_item", "expense_amount"]
    assert [r.kind for r in rows] == ["detail", "total", "detail"]
    assert rows[0].values["income_amount"] == D("11203000.00") and rows[0].values["expense_amount"] == D("0.00")


# ---------------------------------------------------------------------------
# text (performance) tables


def test_dept_performance_records_and_facts():
    grid = [
        ["部门（单位）名称", "伊川县政务服务中心", "伊川县政务服务中心", "伊川县政务服务中心", "伊川县政务服务中心"],
        ["预算情况", "部门预算总额（万元）", "部门预算总额（万元）", "1145.25", "1145.25"],
        ["预算情况", "2、资金结构：", "(1)基本支出", "909.25", "909.25"],
        ["预算情况", "2、资金结构：", "(2)项目支出", "236.00", "236.00"],
        ["一级指标", "二级指标", "三级指标", "指标值", "指标值说明"],
        ["产出指标", "重点工作任务完成", "任务完成率", "100%", "反映本部门负责的重点工作任务进展情况。"],
        [
            "",
            "履职目标实现",
            "目标实现率",
            "100%",
            "反映本部门制定的年度工作目标达成情况。",
        ],  # merged 一级指标 left blank
        ["", "", "不满意率", "≤10%", "反映部门履职的影响。"],
    ]
    rows, columns, facts, problems = build_text_table([Piece(19, grid)], template("dept_performance"))
    assert problems == []
    assert facts == {
        "department": "伊川县政务服务中心",
        "budget_total": D("1145.25"),
        "basic_total": D("909.25"),
        "project_total": D("236.00"),
    }
    assert [r.values for r in rows] == [
        {
            "indicator_l1": "产出指标",
            "indicator_l2": "重点工作任务完成",
            "indicator_l3": "任务完成率",
            "target": "100%",
            "description": "反映本部门负责的重点工作任务进展情况。",
        },
        {
            "indicator_l1": "产出指标",
            "indicator_l2": "履职目标实现",
            "indicator_l3": "目标实现率",
            "target": "100%",
            "description": "反映本部门制定的年度工作目标达成情况。",
        },
        {
            "indicator_l1": "产出指标",
            "indicator_l2": "履职目标实现",
            "indicator_l3": "不满意率",
            "target": "≤10%",
            "description": "反映部门履职的影响。",
        },
    ]
    assert {r.kind for r in rows} == {"text"}


def test_project_performance_fills_merged_project_cells_across_pages():
    header = [
        "单位编码（项目编码）",
        "项目单位（项目名称）",
        "项目分类",
        "资金总额",
        "政府预算\n资金",
        "指标类别",
        "三级指标",
        "指标值",
    ]
    p1 = [
        header,
        ["106", "伊川县政务服务中心", "", "236.00", "236.00", "", "", ""],
        [
            "41032923000000138701",
            "2024年系统建设与运维",
            "其他运转类",
            "29.00",
            "29.00",
            "成本指标",
            "严格控制预算成本",
            "厉行节约",
        ],
    ]
    p2 = [
        header,
        ["", "", "", "", "", "产出指标", "16条专线内网", "16条"],
    ]  # the project's merged cells broke at the page end
    rows, columns, _, _ = build_text_table([Piece(20, p1), Piece(21, p2)], template("project_performance"))
    assert columns == [
        "project_code",
        "project_name",
        "category",
        "total",
        "gpb",
        "indicator_type",
        "indicator",
        "target",
    ]
    assert [r.kind for r in rows] == ["subtotal", "text", "text"]
    assert rows[0].values == {
        "project_code": "106",
        "project_name": "伊川县政务服务中心",
        "total": D("236.00"),
        "gpb": D("236.00"),
    }
    assert rows[2].page == 21 and rows[2].values == {
        "project_code": "41032923000000138701",
        "project_name": "2024年系统建设与运维",
        "category": "其他运转类",
        "total": D("29.00"),
        "gpb": D("29.00"),
        "indicator_type": "产出指标",
        "indicator": "16条专线内网",
        "target": "16条",
    }


# ---------------------------------------------------------------------------
# the truth comparison itself must catch a wrong cent


def test_compare_document_catches_a_wrong_cent_and_a_wrong_kind():
    truth = {
        "doc_type": "budget",
        "variants": [],
        "fiscal_year": 2024,
        "department": "X",
        "page_count": 3,
        "tables": {
            "three_public": {
                "title": "2024年一般公共预算“三公”经费预算表",
                "unit": "万元",
                "pages": [2],
                "empty": False,
                "rows": [{"kind": "total", "total": "7.68"}],
            }
        },
    }

    def result(value: str, kind: str = "total") -> ExtractionResult:
        row = ExtractedRow(page=2, row_index=0, values={"total": D(value)}, kind=kind)
        table = ExtractedTable("three_public", "2024年一般公共预算“三公”经费预算表", [2], "万元", [row])
        return ExtractionResult("sha", 3, [table], fiscal_year=2024, department="X")

    assert compare_document(result("7.68"), truth).exact
    bad = compare_document(result("7.69"), truth)
    assert bad.differences == ["three_public row 0: total=7.69, truth '7.68'"]
    assert bad.cells["three_public"].correct == 0 and bad.cells["three_public"].recall == 0.0
    assert compare_document(result("7.68", "detail"), truth).differences == [
        "three_public row 0: kind 'detail', truth 'total': {total: 7.68}"
    ]
