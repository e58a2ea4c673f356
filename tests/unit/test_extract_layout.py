"""Unit tests of page layout: lines from char boxes, titles by position, titles paired with tables
top-down, tables broken across pages (assets/extract/layout.py and the assembly in document.py).

No PDF is read: char boxes and camelot pieces are written out by hand, shaped like the 江苏 single
PDFs (说明 and tables in one file) that motivated them; coordinates are PDF points, origin bottom-left.
"""

from __future__ import annotations

from decimal import Decimal

from assets.extract.document import _assemble, _build_tables, document_title
from assets.extract.grid import Piece, build_rows
from assets.extract.layout import Line, Title, align_columns, find_titles, group_lines, page_events
from assets.extract.pdf_text import PageText
from assets.extract.templates import template
from assets.extract.two_sided import build_two_sided, repair_ordinal
from assets.records import ExtractionResult

D = Decimal


def _chars(text: str, x: float, bottom: float, size: float = 10.0) -> list[tuple[str, float, float, float, float]]:
    return [(ch, x + i * size, bottom, x + (i + 1) * size - 1, bottom + size) for i, ch in enumerate(text)]


def test_lines_from_char_boxes_keep_flat_glyphs_and_quotes_and_split_at_gaps():
    title = _chars("一般公共预算", 100, 700, 20)
    title[0] = ("一", 100, 709, 119, 711)  # "一" is a flat box in the middle of the line
    quote = [
        ("“", 221, 714, 225, 719),
        ("三", 226, 701, 245, 719),
        ("公", 246, 700, 265, 720),
        ("”", 266, 714, 270, 719),
    ]
    title += quote + _chars("经费预算表", 271, 700, 20)
    head = _chars("部门：", 40, 660) + _chars("单位：万元", 480, 660)  # one printed line, far apart
    lines = group_lines(title + head)
    assert [ln.text for ln in lines] == ["一般公共预算“三公”经费预算表", "部门：", "单位：万元"]
    assert lines[0].top == 720 and lines[0].bottom == 700 and lines[1].x1 < lines[2].x0


def _line(text: str, top: float, height: float = 20.0) -> Line:
    return Line(text, top, top - height, 100.0, 100.0 + 20 * len(text))


def test_titles_anywhere_on_the_page_wrapped_ones_joined():
    lines = [
        _line("2080504 未归口管理的行政单位离退休 1,608.51", 780, 8),
        _line("一般公共预算机关运行经费支出预算表", 600),
        _line("部门：江苏省人大常委会办公厅 单位：万元", 560, 8),
        _line("“三公”经费、会议费、培训费支出预算", 400),  # wrapped: "表" on the line below
        _line("表", 378),
        _line("公开01表", 300, 8),  # a table number, no title
        _line("第二部分2018年度部门预算表", 250),  # a part heading
        _line("二是《财政拨款支出预算表", 200, 8),  # the 说明 quoting a table
        _line("2017年政府采购预算表", 150),  # a table no template knows
    ]
    got = [(t.text, t.tpl.key if t.tpl else None, t.top, t.bottom) for t in find_titles(lines)]
    assert got == [
        ("一般公共预算机关运行经费支出预算表", "operating_funds", 600, 580),
        ("“三公”经费、会议费、培训费支出预算表", "three_public", 400, 358),
        ("2017年政府采购预算表", "procurement", 150, 130),
    ]  # recognised, recorded, not loaded


def _piece(
    page: int,
    cells: list[list[str]],
    top: float,
    bottom: float,
    flavor: str = "lattice/vector",
    cols: list[tuple[float, float]] | None = None,
    index: int = 0,
) -> Piece:
    n = len(cells)
    step = (top - bottom) / n
    rows_y = [(top - i * step, top - (i + 1) * step) for i in range(n)]
    cols = cols or [(60.0 + 150 * j, 60.0 + 150 * (j + 1)) for j in range(len(cells[0]))]
    return Piece(page, cells, index, flavor, 100.0, (cols[0][0], bottom, cols[-1][1], top), rows_y, cols)


def _title(text: str, top: float) -> Title:
    from assets.extract.templates import match_title

    return Title(text, match_title(text), top, top - 20)


def test_page_events_pair_top_down_drop_cell_text_and_cut_text_parses_at_titles():
    tail = _piece(5, [["30312", "提租补贴", "1,018.01"]], 780, 750)
    table = _piece(5, [["功能科目代码", "功能科目名称", "金额"], ["", "合计", ""]], 600, 540)
    in_cell = _title("财政拨款支出预算表", 580)  # text inside the ruled table: a cell, no title
    gov = _title("财政拨款政府性基金支出预算表", 700)
    assert page_events([table, tail], [gov, in_cell]) == [tail, gov, table]
    # a text-alignment parse running over a title is cut there; the title's own row is dropped
    hybrid = _piece(
        6,
        [
            ["一、一般公共预算", "24169.74"],
            ["收入合计", "24169.74"],
            ["公开05表", ""],
            ["财政拨款支出预算表（功能科目）", ""],
            ["功能科目代码", "金额"],
        ],
        700,
        450,
        flavor="hybrid",
    )
    title = Title("财政拨款支出预算表（功能科目）", None, 550, 500)
    events = page_events([hybrid], [title])
    assert [e.cells if isinstance(e, Piece) else e.text for e in events] == [
        [["一、一般公共预算", "24169.74"], ["收入合计", "24169.74"], ["公开05表", ""]],
        "财政拨款支出预算表（功能科目）",
        [["功能科目代码", "金额"]],
    ]


def test_align_columns_of_a_continuation_read_with_other_rules():
    first = _piece(
        7, [["收入", "收入", "支出", "支出"]], 700, 680, cols=[(58, 113), (113, 207), (207, 421), (421, 520)]
    )
    # page 9: 合计 spans 功能分类 and 支出用途 (one column 207–421 over two of page 7's)
    fine = _piece(
        7,
        [["a", "b", "c", "d", "e", "f"]],
        700,
        680,
        cols=[(58, 113), (113, 207), (207, 276), (276, 355), (355, 421), (421, 520)],
    )
    coarse = _piece(
        9,
        [["收入合计", "13,649.07", "支出合计", "13,649.07"]],
        770,
        740,
        cols=[(58, 113), (113, 207), (207, 421), (421, 520)],
    )
    assert align_columns(coarse, fine).cells == [
        ["收入合计", "13,649.07", "支出合计", "支出合计", "支出合计", "13,649.07"]
    ]
    assert align_columns(first, fine).cells == [["收入", "收入", "支出", "支出", "支出", "支出"]]
    elsewhere = _piece(9, [["x"]], 770, 740, cols=[(600, 700)])
    assert align_columns(elsewhere, fine) is None


def _assemble_and_build(candidates, titled, grids, pages, result, narrative):
    problems: list[dict] = []
    _build_tables(_assemble(candidates, titled, grids, pages, None, result, narrative), result, problems)
    result.unrecognised.extend(problems)


def _page(n: int) -> PageText:
    return PageText(n, f"部门：江苏省人民检察院 单位：万元 page {n}", 595, 842)


def test_assembly_over_pages_titles_mid_page_continuations_and_unknown_titles():
    gpb_cells = [
        ["功能科目代码", "功能科目名称", "金额"],
        ["", "合计", "24,169.74"],
        ["204", "公共安全支出", "16,593.12"],
        ["2040401", "行政运行", "12,268.62"],
    ]
    grids = {
        18: [
            _piece(18, gpb_cells, 700, 400),
            _piece(18, [["科目编码", "科目名称", "金额"], ["", "合计", "15,844.04"]], 250, 150, index=1),
        ],
        # page 19: the 基本支出 table goes on (same columns), then 政府采购 starts
        19: [
            _piece(19, [["30101", "基本工资", "2,827.41"]], 780, 700),
            _piece(19, [["采购品目", "金额"], ["合计", "2,247.85"]], 400, 300, index=1),
        ],
    }
    titled = {
        18: [_title("一般公共预算支出预算表（功能科目）", 740), _title("一般公共预算基本支出预算表（经济科目）", 290)],
        19: [_title("政府采购支出预算表", 450)],
    }
    result = ExtractionResult("sha", 20, [])
    narrative: list[str] = []
    _assemble_and_build([17, 18, 19, 20], titled, grids, {n: _page(n) for n in range(17, 21)}, result, narrative)
    assert [(t.table_type, t.pages, len(t.rows)) for t in result.tables] == [
        ("gpb_expenditure", [18], 3),
        ("gpb_basic_expenditure", [18, 19], 2),
    ]
    basic = result.tables[1]
    assert [(r.page, r.values.get("econ_code"), r.values["total"]) for r in basic.rows] == [
        (18, "", D("15844.04")),
        (19, "30101", D("2827.41")),
    ]
    assert result.unrecognised == [
        {"title": "政府采购支出预算表", "page": 19, "type": "procurement", "pages": [19], "tables": 1}
    ]
    assert narrative == [_page(17).text, _page(20).text]


def test_a_header_alone_at_the_foot_of_a_page_goes_on_top_of_the_next_part():
    """法院 2018 p. 10: the 财政拨款收支预算总表 breaks under its first header row (收入 | 支出), read there
    with two columns; p. 11 has four: the header is put on the finer columns and joined to it."""
    grids = {
        10: [_piece(10, [["收入", "支出"]], 95, 73, cols=[(62, 294), (294, 537)])],
        11: [
            _piece(
                11,
                [
                    ["项目名称", "金额", "支出用途", "支出用途"],
                    ["项目名称", "金额", "项目名称", "金额"],
                    ["一、一般公共预算", "33,172.15", "一、基本支出", "18,570.82"],
                    ["收入合计", "33,172.15", "支出合计", "33,172.15"],
                ],
                771,
                642,
                cols=[(62, 190), (190, 294), (294, 438), (438, 537)],
            )
        ],
    }
    titled = {10: [_title("四、2018年度江苏省高级人民法院财政拨款收支预算总表", 126)]}
    result = ExtractionResult("sha", 11, [])
    _assemble_and_build([10, 11], titled, grids, {10: _page(10), 11: _page(11)}, result, [])
    (table,) = result.tables
    assert (table.table_type, table.pages, table.empty) == ("fiscal_appropriation", [10, 11], False)
    assert [r.values for r in table.rows] == [
        {
            "income_item": "一、一般公共预算",
            "income_amount": D("33172.15"),
            "use_item": "一、基本支出",
            "use_amount": D("18570.82"),
        },
        {
            "income_item": "收入合计",
            "income_amount": D("33172.15"),
            "use_item": "支出合计",
            "use_amount": D("33172.15"),
        },
    ]


def test_two_sided_rows_cut_by_the_page_break_are_joined():
    header = [
        ["收入", "收入", "支出", "支出", "支出", "支出"],
        ["项目名称", "金额", "功能分类", "功能分类", "支出用途", "支出用途"],
        ["项目名称", "金额", "功能科目名称", "金额", "项目名称", "金额"],
    ]
    page7 = Piece(
        7,
        header
        + [
            ["一、财政拨款", "13,649.07", "一、一般公共服务支出", "10,528.33", "一、基本支出", "7,666.68"],
            ["", "", "八、社会保障和就", "1,608.51", "", ""],
            ["当 年 收 入", "13,649.07", "当年支出小计", "当年支出小计", "当年支出小计", "13,649.07"],
        ],
    )
    page8 = Piece(
        8, [["小计", "", "", "", "", ""], ["收入合计", "13,649.07", "支出合计", "支出合计", "支出合计", "13,649.07"]]
    )
    rows, _, problems = build_two_sided([page7, page8])
    assert problems == []  # "当年支出小计" copied over the 金额 column is a merged label, not a bad amount
    assert [(r.page, r.values.get("income_item"), r.values.get("expense_item")) for r in rows] == [
        (7, "一、财政拨款", "一、一般公共服务支出"),
        (7, None, "八、社会保障和就"),
        (7, "当年收入小计", "当年支出小计"),
        (8, "收入合计", "支出合计"),
    ]
    # a continuation starting with the tail of a label ("业支出") joins the previous page's last row
    cut = Piece(8, [["", "", "业支出", "", "", ""], ["", "", "九、医疗卫生与计划生育支出", "", "", ""]])
    rows, _, _ = build_two_sided([Piece(7, page7.cells[:5]), cut])
    assert [(r.page, r.values.get("expense_item"), r.values.get("expense_amount")) for r in rows] == [
        (7, "一、一般公共服务支出", D("10528.33")),
        (7, "八、社会保障和就业支出", D("1608.51")),
        (8, "九、医疗卫生与计划生育支出", None),
    ]


def test_ordinal_read_as_a_line_of_its_own_goes_back_in_front():
    assert repair_ordinal("、单位预留机动\n 三\n经费") == "三、单位预留机动经费"
    assert repair_ordinal("三、单位预留机动\n经费") == "三、单位预留机动\n经费"


def test_revenue_table_with_category_and_item_columns():
    """江苏 收入预算总表: 项目名称 over a category column (merged down) and an item column."""
    cells = [
        ["项目名称", "", "", "金额"],
        ["收入总计", "收入总计", "收入总计", "17,996.68"],
        ["一般公共预算资金", "一般公共预算资金", "小计", "17,981.68"],
        ["一般公共预算资金", "一般公共预算资金", "公共财政拨款(补助)资金", "17,981.68"],
        ["一般公共预算资金", "一般公共预算资金", "专项收入", ""],
        ["其他资金", "其他资金", "小计", "15.00"],
        ["其他资金", "其他资金", "其他收入", "15.00"],
        ["", "", "小计", ""],
    ]  # a category camelot left blank
    rows, _, _, problems = build_rows([Piece(11, cells)], template("revenue"))
    assert problems == []
    assert [(r.kind, r.values.get("name"), r.values.get("total")) for r in rows] == [
        ("total", "收入总计", D("17996.68")),
        ("subtotal", "一般公共预算资金", D("17981.68")),
        ("detail", "公共财政拨款(补助)资金", D("17981.68")),
        ("detail", "专项收入", None),
        ("subtotal", "其他资金", D("15.00")),
        ("detail", "其他收入", D("15.00")),
        ("subtotal", "小计", None),
    ]


def test_document_title_from_the_cover_lines():
    assert (
        document_title(["1", "江苏省人大常委会办公厅2018年度部门", "预算公开"])
        == "江苏省人大常委会办公厅2018年度部门预算公开"
    )
    assert (
        document_title(["2018年度江苏省高级", "人民法院预算公开", "2018年2月24日"])
        == "2018年度江苏省高级人民法院预算公开"
    )
    assert document_title(["江苏省人民检察院", "2017年部门预算", "目录"]) == "江苏省人民检察院2017年部门预算"
    assert (
        document_title(["上海市普陀区2025年区级部门预算", "预算主管部门：上海市普陀区商务委员会"])
        == "上海市普陀区2025年区级部门预算"
    )
    # a PDF of tables only: rows and table titles, no title of its own
    assert (
        document_title(
            ["公开表一", "部门：单位：万元", "1.一般公共预算18,330.37二、外交支出二、项目支出6,459.58", "收支预算总表"]
        )
        is None
    )


def test_a_frame_that_starts_above_its_title_keeps_the_title():
    """The title printed in the first row of the table's frame (a spreadsheet's title row with borders): the
    title is the table's, not cell text; a title-like text among the figures stays cell text."""
    framed = _piece(
        7,
        [
            ["一般公共预算支出预算表", "一般公共预算支出预算表", "一般公共预算支出预算表"],
            ["科目编码", "科目名称", "合计"],
            ["2010101", "行政运行", "1.00"],
        ],
        700,
        580,
    )
    events = page_events([framed], [_title("一般公共预算支出预算表", 695)])
    assert [type(e).__name__ for e in events] == ["Title", "Piece"]
    assert events[0].top > framed.bbox[3]
    inner = _piece(
        8,
        [["科目编码", "科目名称", "合计"], ["2010101", "行政运行", "1.00"], ["", "详见一般公共预算支出预算表", ""]],
        700,
        580,
    )
    assert [type(e).__name__ for e in page_events([inner], [_title("详见一般公共预算支出预算表", 615)])] == ["Piece"]
