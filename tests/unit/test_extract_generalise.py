"""The general rules of extraction, one phenomenon at a time (grids written out as camelot returns them).

Each case is a class of layout seen in real published budgets (see tests/real_corpus/layouts/), written
without naming where it was seen: the rules must hold for layouts nobody has tuned for.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.extract.classify import Candidate, assign_types, content_profile, score_table
from assets.extract.grid import Piece, _complete_cut_codes, build_table, join_wrapped_amount, resolve_open_cells
from assets.extract.layout import OPEN_BELOW, refill_cells
from assets.extract.pdf_text import budget_level, find_department
from assets.extract.printed_codes import CodeCarry, code_cell, resolve_names, split_code_name
from assets.extract.templates import canonical_path, map_columns, match_title, template, title_key
from assets.extract.vector_rules import path_rules

D = Decimal


# --------------------------------------------------------------------------- table types from scored evidence


@pytest.mark.parametrize(
    "title, key",
    [
        ("收支总表", "income_expenditure_summary"),
        ("2026年部门收支总体情况表", "income_expenditure_summary"),
        ("表1：2026年市级部门收支预算总表", "income_expenditure_summary"),
        ("收入总体情况表", "revenue"),
        ("本年支出总体情况表", "expenditure"),
        ("公开 03 表 支出总表", "expenditure"),
        ("财政拨款收支总体情况表", "fiscal_appropriation"),
        ("一般公共预算支出情况表（按功能分类科目）", "gpb_expenditure"),
        ("表5：2026年市级部门一般公共预算支出预算表", "gpb_expenditure"),
        ("一般公共预算基本支出情况表（按经济分类科目）", "gpb_basic_expenditure"),
        ("一般公共预算支出表（按经济分类）", "gpb_basic_expenditure"),  # 基本 and 项目 by 经济分类
        ("一般公共预算项目支出情况表（按经济分类科目）", "gpb_project_economic"),
        ("财政拨款支出表（功能科目）", "fiscal_expenditure"),
        ("财政拨款基本支出表（经济科目）", "fiscal_basic_expenditure"),
        ("部门预算基本支出预算表", "basic_expenditure"),  # a basic-expenditure table, not 部门支出预算表
        ("基本支出总表", "basic_expenditure"),
        ("财政拨款安排的行政经费及“三公”经费预算表", "three_public"),
        ("一般公共预算“三公”经费、会议费、培训费支出表", "three_public"),
        ("项目支出总表", "project_expenditure"),
        ("部门预算项目支出及其他支出预算表", "project_expenditure"),
        ("2026年市级重点专项资金绩效目标表（一级项目）", "project_performance"),
        ("政府采购支出表", "procurement"),
        ("一般公共预算机关运行经费支出预算表", "operating_funds"),
    ],
)
def test_titles_score_to_their_type(title, key):
    assert match_title(title).key == key


def test_title_keys_drop_numbering_year_and_continued():
    assert title_key("表5 一般公共预算支出预算表") == "一般公共预算支出预算表"  # "5一般": not a Chinese numeral
    assert title_key("表一 2026年部门收支总体情况表") == "部门收支总体情况表"
    assert title_key("公开 08 表一般公共预算基本支出表") == "一般公共预算基本支出表"
    assert title_key("一般公共预算支出表（续表）") == title_key("一般公共预算支出表")


def test_what_the_rows_hold_overrides_an_ambiguous_title():
    """ "一般公共预算支出情况表" names no classification: economic rows make it the economic table."""
    economic = [
        ["科目编码", "科目名称", "合计"],
        ["301", "工资福利支出", "5.00"],
        ["30101", "基本工资", "3.00"],
        ["30102", "津贴补贴", "2.00"],
    ]
    c = score_table("一般公共预算支出情况表", "科目编码 科目名称 合计", content_profile(economic))
    assign_types([c])
    assert c.chosen == "gpb_basic_expenditure"
    assert any("economic codes" in e for e in c.evidence["gpb_basic_expenditure"])
    function = [["[201]一般公共服务支出", "5.00"], ["[20101]人大事务", "5.00"], ["[2010101]行政运行", "5.00"]]
    c = score_table("一般公共预算支出情况表", "", content_profile(function))
    assign_types([c])
    assert c.chosen == "gpb_expenditure"


def test_a_type_that_exists_once_goes_to_the_best_table_the_other_is_demoted():
    gpb = Candidate("一般公共预算基本支出表", {"gpb_basic_expenditure": 9, "basic_expenditure": 4})
    dept = Candidate("部门预算基本支出预算表", {"gpb_basic_expenditure": 5, "basic_expenditure": 4})
    assign_types([dept, gpb])
    assert (gpb.chosen, dept.chosen) == ("gpb_basic_expenditure", "basic_expenditure")


# --------------------------------------------------------------------------- headers as paths


def _fields(key: str, paths: list[list[str]], year: int = 2026) -> list[str | None]:
    got = map_columns(template(key), paths, year)
    return [got.get(j) for j in range(len(paths))]


def test_a_total_under_a_group_is_the_groups_total_and_synonyms_are_data():
    # 基本支出 over three header rows: 小计 / 人员经费 (工资福利支出, 对个人和家庭的补助) / 公用经费 (…)
    assert _fields(
        "gpb_expenditure",
        [
            ["科目编码", "类"],
            ["科目编码", "款"],
            ["科目编码", "项"],
            ["科目名称"],
            ["合计"],
            ["基本支出", "小计"],
            ["基本支出", "人员经费", "工资福利支出"],
            ["基本支出", "人员经费", "对个人和家庭的补助"],
            ["基本支出", "公用经费", "商品和服务支出"],
            ["基本支出", "公用经费", "资本性支出"],
            ["项目支出"],
        ],
    ) == [
        "class_part",
        "kuan_part",
        "xiang_part",
        "name",
        "total",
        "basic_total",
        "wages",
        "household_transfers",
        "goods_services",
        "capital",
        "project_total",
    ]
    # the table's subject over its columns, 其中, 人员支出 / 日常公用支出, a 总计 that is the total
    assert _fields(
        "gpb_expenditure",
        [
            ["功能科目名称"],
            ["一般公共预算支出", "小计"],
            ["一般公共预算支出", "其中：基本支出"],
            ["一般公共预算支出", "项目支出"],
        ],
    ) == ["name", "total", "basic_total", "project_total"]
    assert _fields(
        "gpb_basic_expenditure",
        [
            ["经济分类科目名称"],
            ["本年一般公共预算基本支出", "合计"],
            ["本年一般公共预算基本支出", "人员支出"],
            ["本年一般公共预算基本支出", "日常公用支出"],
        ],
    ) == ["econ_name", "total", "personnel", "public"]
    assert _fields(
        "gpb_basic_expenditure",
        [
            ["经济分类科目", "科目编码"],
            ["经济分类科目", "科目名称"],
            ["基本支出", "总计"],
            ["基本支出", "人员经费"],
            ["基本支出", "公用经费"],
        ],
    ) == ["econ_code", "econ_name", "basic_total", "personnel", "public"]


def test_column_number_rows_last_year_and_change_columns_are_not_the_budget():
    assert canonical_path(["预算数", "**"]).words == ("合计",)
    cp = canonical_path(["2025年预算数"], template("gpb_expenditure"), 2026)
    assert cp.year == "prior"
    assert _fields(
        "gpb_expenditure", [["科目名称"], ["2025年预算数"], ["2026年预算数", "总计"], ["2026年预算数", "基本支出"]]
    ) == ["name", "prior:total", "total", "basic_total"]
    assert canonical_path(["增减变化金额"]).year == "change"


def test_three_public_columns_by_fund_keep_the_general_budget():
    paths = [["预算单位"], ["年度"]]
    for group in ("总计", "因公出国(境)费", "公务接待费"):
        paths += [[group, f] for f in ("一般公共预算", "政府性基金预算", "国有资本经营预算")]
    got = _fields("three_public", paths)
    assert got[:5] == ["unit_name", "year", "total", "gov_fund:total", "soe_capital:total"]
    assert got[5:8] == ["outbound", "gov_fund:outbound", "soe_capital:outbound"]
    assert got[8] == "reception"


def test_three_public_with_meetings_keeps_the_three_public_total_apart():
    assert _fields(
        "three_public",
        [
            ["合计"],
            ["“三公”经费", "小计"],
            ["“三公”经费", "因公出国（境）费"],
            ["“三公”经费", "公务接待费"],
            ["会议费"],
            ["培训费"],
        ],
    ) == ["total_with_meetings", "total", "outbound", "reception", "meeting", "training"]
    assert _fields(
        "three_public",
        [
            ["“三公”经费合计"],
            ["公务用车购置及运行维护费", "小计"],
            ["公务用车购置及运行维护费", "公务用车购置费"],
            ["公务用车购置及运行维护费", "公务用车运行维护费"],
        ],
    ) == ["total", "vehicle_total", "vehicle_purchase", "vehicle_operation"]


# --------------------------------------------------------------------------- codes in every printed form


def test_codes_printed_with_their_names():
    assert split_code_name("[2014001]行政运行", "function") == ("2014001", "行政运行")
    assert split_code_name("【30101】基本工资", "economic") == ("30101", "基本工资")
    assert split_code_name("2120803-城市建设支出", "function") == ("2120803", "城市建设支出")
    assert split_code_name("2024年系统建设与运维", "function") == ("", "2024年系统建设与运维")  # a year, no code
    assert split_code_name("30101 基本工资", "function") == ("", "30101基本工资")  # not a 功能分类 code
    assert code_cell("[201]", "function") == ("201", "")
    assert code_cell("合计", "function") == ("", "合计")


def test_split_codes_printed_at_their_own_level_fill_down_the_parents():
    carry = CodeCarry()
    assert [
        carry.compose(*parts)
        for parts in [
            ("201", "", ""),
            ("", "06", ""),
            ("", "", "01"),
            ("", "", "02"),
            ("208", "05", "05"),
            ("", "", "06"),
        ]
    ] == ["201", "20106", "2010601", "2010602", "2080505", "2080506"]


def test_names_without_codes_resolve_through_the_catalog_top_down():
    names = ["一般公共服务支出", "其他一般公共服务支出", "其他一般公共服务支出", "公共安全支出", "公安", "行政运行"]
    totals = [D("10"), D("10"), D("10"), D("7"), D("7"), D("7")]
    got = resolve_names(names, totals, "function", 2026)
    # 其他一般公共服务支出 is a 款 (20199) and a 项 (2019999): the 款 is the row its children add up to
    assert [r.code for r in got] == ["201", "20199", "2019999", "204", "20402", "2040201"]


def test_an_unknown_name_is_not_guessed():
    got = resolve_names(["公共安全支出", "某个不存在的科目"], [D("1"), D("1")], "function", 2026)
    assert got[0].code == "204" and got[1].code is None and got[1].how == "unknown name"


# --------------------------------------------------------------------------- amounts


def test_amounts_wrapped_inside_their_cell_are_joined_two_amounts_are_not():
    assert join_wrapped_amount("293,191.8\n6") == "293,191.86"
    assert join_wrapped_amount("12,672\n.73") == "12,672.73"
    assert join_wrapped_amount("3.35\n14.28") == "3.35\n14.28"  # two printed rows in one cell
    assert join_wrapped_amount("-\n14.28") == "-\n14.28"
    assert join_wrapped_amount("94,995,7\n90", decimals=0) == "94,995,790"


# --------------------------------------------------------------------------- rows: totals, units, years


def test_unit_rows_between_the_total_and_the_items_are_decided_by_their_sums():
    header = [["科目编码", "科目名称", "合计"]]
    body = [
        ["", "合计", "30.00"],
        ["", "某某局", "20.00"],
        ["2010101", "行政运行", "12.00"],
        ["2010102", "一般行政管理事务", "8.00"],
        ["", "某某中心", "10.00"],
        ["2010101", "行政运行", "10.00"],
    ]
    b = build_table([Piece(5, header + body)], template("gpb_expenditure"), 2026)
    assert b.problems == []
    assert [(r.kind, r.unit) for r in b.rows] == [
        ("total", None),
        ("subtotal", None),
        ("detail", "某某局"),
        ("detail", "某某局"),
        ("subtotal", None),
        ("detail", "某某中心"),
    ]
    assert b.extra["unit_rows"][0].startswith("某某局 (page 5) = the sum of the 2 rows under it")


def test_a_row_without_code_that_is_no_sum_is_a_finding():
    header = [["科目编码", "科目名称", "合计"]]
    body = [["", "合计", "30.00"], ["2010101", "行政运行", "12.00"], ["", "某个说不清的行", "18.00"]]
    b = build_table([Piece(5, header + body)], template("gpb_expenditure"), 2026)
    assert [p.severity for p in b.problems] == ["hard"]
    assert "某个说不清的行" in b.problems[0].detail


def test_the_first_row_is_the_total_when_the_rows_below_add_up_to_it():
    header = [["预算单位", "收入总计", "一般公共预算"]]
    body = [["某某局", "30.00", "30.00"], ["某某局（本级）", "20.00", "20.00"], ["某某中心", "10.00", "10.00"]]
    b = build_table([Piece(3, header + body)], template("revenue"), 2026)
    assert [r.kind for r in b.rows] == ["total", "detail", "detail"]
    assert "the sum of the 2 rows below it" in b.extra["total_row"]


def test_three_public_with_last_year_this_year_and_the_change():
    header = [["预算单位", "年度", "总计", "因公出国(境)费", "公务接待费"]]
    body = [
        ["某某局", "2025 年", "59.62", "43.87", "11.56"],
        ["", "2026 年", "32.56", "16.80", "11.56"],
        ["", "增减变化金额", "-27.07", "-27.07", "0.00"],
    ]
    b = build_table([Piece(29, header + body)], template("three_public"), 2026)
    assert [(r.kind, r.values["total"]) for r in b.rows] == [
        ("prior", D("59.62")),
        ("total", D("32.56")),
        ("change", D("-27.07")),
    ]


def test_three_public_printed_one_row_per_item_with_funds_as_columns():
    header = [["项目", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算"]]
    body = [
        ["行政经费", "500.00", "480.00", "20.00", "0.00"],
        ["“三公”经费", "74.83", "42.79", "0.00", "32.04"],
        ["其中：（一）因公出国（境）支出", "10.00", "10.00", "0.00", "0.00"],
        ["（二）公务用车购置及运行维护支出", "50.83", "18.79", "0.00", "32.04"],
        ["1.公务用车购置费", "0.00", "0.00", "0.00", "0.00"],
        ["2.公务用车运行维护费", "50.83", "18.79", "0.00", "32.04"],
        ["（三）公务接待费支出", "14.00", "14.00", "0.00", "0.00"],
    ]
    b = build_table([Piece(12, header + body)], template("three_public"), 2026)
    assert b.extra == {"transposed": True}
    (row,) = b.rows
    assert row.kind == "total"
    assert row.values == {
        "admin_funds": D("480.00"),
        "total": D("42.79"),
        "outbound": D("10.00"),
        "vehicle_total": D("18.79"),
        "vehicle_purchase": D("0.00"),
        "vehicle_operation": D("18.79"),
        "reception": D("14.00"),
    }


# --------------------------------------------------------------------------- never lose data silently


def test_a_column_printing_amounts_that_maps_to_nothing_is_a_hard_problem():
    header = [["科目编码", "科目名称", "合计", "某个没有人认识的列"]]
    body = [["2010101", "行政运行", "12.00", "5.00"]]
    b = build_table([Piece(7, header + body)], template("gpb_expenditure"), 2026)
    assert [(p.severity, p.page) for p in b.problems] == [("hard", 7)]
    assert "'某个没有人认识的列' prints amounts" in b.problems[0].detail


def test_a_table_whose_header_is_not_understood_loses_nothing_silently():
    header = [["甲", "乙", "丙"]]
    b = build_table([Piece(8, header + [["x", "1.00", "2.00"]])], template("gpb_basic_expenditure"), 2026)
    assert any(p.severity == "hard" and "none of its columns maps" in p.detail for p in b.problems)


def test_a_function_table_without_a_total_column_is_a_hard_problem():
    header = [["科目编码", "科目名称", "基本支出", "项目支出"]]
    b = build_table([Piece(9, header + [["2010101", "行政运行", "1.00", "2.00"]])], template("gpb_expenditure"), 2026)
    assert any(p.severity == "hard" and "no column read as total" in p.detail for p in b.problems)


# --------------------------------------------------------------------------- layout


def _ruled(cells, rows_y, cols_x, spans) -> Piece:
    return Piece(1, cells, flavor="lattice/vector", rows_y=rows_y, cols_x=cols_x, spans=spans)


def test_cells_are_filled_from_glyph_boxes_and_merged_regions_read_as_one():
    """A glyph goes to the cell holding its centre (a font box reaching into the row below does not
    matter); a merged cell (no rule between its parts) is one region whose text fills every part."""
    rows_y = [(100.0, 80.0), (80.0, 60.0), (60.0, 40.0)]
    cols_x = [(0.0, 50.0), (50.0, 100.0)]
    spans = [[(False, False), (False, False)], [(False, False), (False, True)], [(False, False), (False, False)]]
    chars = [
        ("总", 60, 72, 68, 80),
        ("计", 80, 72, 88, 80),  # one line over the merged rows 0–1 of column 1
        ("3", 5, 45, 10, 55),
        ("0", 10, 45, 15, 55),
        (".", 15, 45, 17, 55),
        ("7", 17, 45, 22, 55),
        ("5", 22, 45, 27, 55),
    ]
    got = refill_cells(_ruled([["", ""]] * 3, rows_y, cols_x, spans), chars)
    assert got.cells == [["", "总计"], ["", "总计"], ["30.75", ""]]


def test_a_merged_code_cut_by_a_page_break_takes_the_code_printed_on_the_next_page():
    header = [["类", "款", "项", "科目名称", "合计"]]
    p1 = Piece(
        9,
        header + [["205", "01", "01", "行政运行", "1.00"], ["", "", "01", "行政单位离退休", "2.00"]],
        vmerged=frozenset({0, 1}),
    )
    p2 = Piece(
        10, header + [["208", "05", "05", "机关事业单位基本养老保险缴费支出", "3.00"]], vmerged=frozenset({0, 1})
    )
    body = [(p1, list(r)) for r in p1.cells[1:]] + [(p2, list(r)) for r in p2.cells[1:]]
    _complete_cut_codes(body, {0: "class_part", 1: "kuan_part", 2: "xiang_part"})
    assert body[1][1][:3] == ["208", "05", "01"]
    # where the codes are printed row by row (no merged cells), a blank 类/款 is the group above's
    p1 = Piece(9, p1.cells)
    body = [(p1, list(r)) for r in p1.cells[1:]] + [(p2, list(r)) for r in p2.cells[1:]]
    _complete_cut_codes(body, {0: "class_part", 1: "kuan_part", 2: "xiang_part"})
    assert body[1][1][:3] == ["", "", "01"]
    # a merged cell left empty at the foot of a page (its text printed in the next part)
    cut = resolve_open_cells([Piece(9, [["x", OPEN_BELOW]]), Piece(10, [["2.00", "20501"]])])
    assert cut[0].cells == [["x", "20501"]]


def test_rules_drawn_as_thin_filled_paths_or_stroked_polylines():
    # a filled 0.75 pt polygon drawn as m l l l h: a horizontal rule along its long side
    assert path_rules(
        [(42, 447.5), (798, 447.5), (798, 448.25), (42, 448.25), (42, 447.5)], filled=True, stroked=False
    ) == [(42, 447.875, 798, 447.875)]
    # a stroked rectangle drawn as a path: its four sides
    assert len(path_rules([(0, 0), (10, 0), (10, 5), (0, 5), (0, 0)], filled=False, stroked=True)) == 4
    assert path_rules([(0, 0), (5, 5), (10, 0)], filled=True, stroked=False) == []  # a shape, not a rule


# --------------------------------------------------------------------------- which budget it is


def test_a_unit_budget_names_itself_and_its_department():
    pages = [
        "无锡市交通运输局（本级）\n2026 年度\n单位预算公开",
        "第二部分 2026 年度单位预算表\n第三部分 2026 年度单位预算情况说明",
    ]
    assert budget_level(pages, "无锡市交通运输局（本级）")[:2] == ("unit", "无锡市交通运输局")
    assert budget_level(["2026年某某局部门预算", "二、部门预算单位构成"], "某某局")[:2] == ("department", None)
    assert find_department("单位：无锡市交通运输局（本级）                 单位：万元") == "无锡市交通运输局(本级)"
    assert find_department("                                                  单位：万元") is None


def test_basic_expenditure_printed_by_function_in_a_table_of_its_own_is_joined_by_code():
    from assets.extract.document import _join_basic_by_function
    from assets.records import ExtractedRow, ExtractedTable, ExtractionResult

    def row(code, kind, **amounts):
        return ExtractedRow(5, 0, {"function_code": code, **{k: D(v) for k, v in amounts.items()}}, kind)

    gpb = ExtractedTable(
        "gpb_expenditure",
        "一般公共预算支出预算表",
        [5],
        "万元",
        [
            row("", "total", total="30.00", project_total="8.00"),
            row("2010101", "detail", total="22.00", project_total="0.00"),
            row("2010102", "detail", total="8.00", project_total="8.00"),
        ],
        columns=["function_code", "total", "project_total"],
    )
    basic = ExtractedTable(
        "gpb_basic_by_function",
        "一般公共预算基本支出表（功能科目）",
        [6],
        "万元",
        [row("", "total", total="22.00"), row("2010101", "detail", total="22.00")],
        columns=["function_code", "total"],
    )
    result = ExtractionResult("x", 9, [gpb, basic])
    problems: list[dict] = []
    _join_basic_by_function(result, problems)
    assert problems == [] and "basic_total" in gpb.columns
    assert [r.values["basic_total"] for r in gpb.rows] == [D("22.00"), D("22.00"), D("0.00")]
    assert gpb.reading["basic_joined"].startswith(
        "基本支出 joined by code from 一般公共预算基本支出表（功能科目） (p. 6)"
    )
    # a 基本支出 the function table has no row for cannot be placed: a hard problem
    basic.rows.append(row("2080505", "detail", total="1.00"))
    gpb.columns = ["function_code", "total", "project_total"]
    _join_basic_by_function(result, problems)
    assert [p["severity"] for p in problems] == ["hard"] and "2080505" in problems[0]["problem"]
