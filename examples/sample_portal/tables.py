"""Printed layout of every table of a document: header grid (with merged
cells), body cells as printed, and the ground-truth rows built alongside the
cells so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field

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
)

from .catalog import EXPENSE_CLASSES, FISCAL_CLASSES, FUNCTION_NAMES, cn_ordinal
from .model import Document, FuncRow, amount_str, wan_str

Span = tuple[int, int, int, int]  # (col0, row0, col1, row1), inclusive


@dataclass
class TableData:
    key: str
    number: int  # 表N
    title: str
    unit: str
    header: list[list[str]]
    header_spans: list[Span]
    body: list[list[str]]
    truth_rows: list[dict]
    weights: list[float]
    wide: bool = False
    body_spans: list[Span] = field(default_factory=list)  # spans inside body (row index in body)
    notes: list[str] = field(default_factory=list)
    empty: bool = False
    left_cols: set[int] = field(default_factory=set)  # wrapped, left-aligned text columns
    right_cols: set[int] = field(default_factory=set)  # amounts
    extra: dict = field(default_factory=dict)  # table-level truth fields
    bold_rows: set[int] = field(default_factory=set)


BASE_TITLES = {
    TABLE_INCOME_EXPENDITURE: "部门收支预算表",
    TABLE_REVENUE: "部门收入预算表",
    TABLE_EXPENDITURE: "部门支出预算表",
    TABLE_FISCAL_APPROPRIATION: "财政拨款收支预算表",
    TABLE_GPB_EXPENDITURE: "一般公共预算支出预算表",
    TABLE_GPB_BASIC: "一般公共预算基本支出预算表",
    TABLE_THREE_PUBLIC: "一般公共预算“三公”经费预算表",
    TABLE_GOV_FUND: "政府性基金支出预算表",
    TABLE_SOE_CAPITAL: "国有资本经营支出预算表",
    TABLE_PROJECT: "项目支出预算表",
    TABLE_DEPT_PERFORMANCE: "部门（单位）整体绩效目标表",
    TABLE_PROJECT_PERFORMANCE: "本级部门预算项目绩效目标汇总表",
}
TABLE_ORDER = list(BASE_TITLES)
_TOTAL_TITLE_OK = {
    TABLE_INCOME_EXPENDITURE,
    TABLE_REVENUE,
    TABLE_EXPENDITURE,
    TABLE_FISCAL_APPROPRIATION,
    TABLE_GPB_EXPENDITURE,
}

FINAL_TITLES = {  # 决算 documents
    TABLE_INCOME_EXPENDITURE: "收入支出决算总表",
    TABLE_GPB_EXPENDITURE: "一般公共预算财政拨款支出决算表",
    TABLE_GPB_BASIC: "一般公共预算财政拨款基本支出决算表",
}

_FW = str.maketrans("0123456789()", "０１２３４５６７８９（）")


def table_title(doc: Document, key: str) -> str:
    v = doc.variants
    base = BASE_TITLES[key]
    if doc.doc_type == "final_accounts":
        base = FINAL_TITLES.get(key, base.replace("预算", "决算"))
    if "title_total" in v and key in _TOTAL_TITLE_OK:
        base = base[:-1] + "总表"
    n = TABLE_ORDER.index(key) + 1
    if key == TABLE_DEPT_PERFORMANCE:
        return f"{base}（{doc.fiscal_year}年度）" if "title_no_year" not in v else base
    if "title_numbered" in v:
        return f"表{n} {base}"
    if "title_no_year" in v:
        return base
    return f"{doc.fiscal_year}年{base}"


class Fmt:
    """Amount cells and truth values of one document."""

    def __init__(self, doc: Document):
        self.unit = doc.unit
        v = doc.variants
        self.zero = "0.00" if "zero_zero" in v else "-" if "zero_dash" in v else "—" if "zero_emdash" in v else ""
        self.fullwidth = "fullwidth" in v

    def cell(self, fen: int) -> str:
        if fen == 0:
            return self.zero
        s = amount_str(fen, self.unit)
        if self.unit == "元":
            ip, dp = s.split(".")
            s = f"{int(ip):,}.{dp}"
        return s

    def put(self, row: dict, key: str, fen: int) -> None:
        if fen == 0:
            if self.zero:
                row[key] = "0.00"
        else:
            row[key] = amount_str(fen, self.unit)

    def name(self, s: str) -> str:
        return s.translate(_FW) if self.fullwidth else s


# ---------------------------------------------------------------------------
# function-classified tables (部门支出 / 一般公共预算支出 / 政府性基金 / 国有资本经营)
# ---------------------------------------------------------------------------

_AMT_FIELDS = [
    "total",
    "basic_total",
    "wages",
    "household_transfers",
    "goods_services",
    "capital",
    "project_total",
    "project_other_operating",
    "project_specific",
]


def _amounts(r: FuncRow) -> list[int]:
    return [r.total, r.basic, r.wages, r.household, r.goods, r.capital, r.project, r.proj_other, r.proj_specific]


def _sum_rows(rows: list[FuncRow], code: str, name: str) -> FuncRow:
    s = FuncRow(code, name)
    for r in rows:
        for a in ("wages", "household", "goods", "capital", "proj_other", "proj_specific"):
            setattr(s, a, getattr(s, a) + getattr(r, a))
    return s


def _code_layout(doc: Document) -> tuple[bool, bool]:
    joined = "codes_joined" in doc.variants
    tree = "codes_tree" in doc.variants
    return joined, tree


def _function_rows(doc: Document) -> list[tuple[str, FuncRow, str]]:
    """(kind, row, unit_code) in printed order: 合计, then per unit its row and its 项 rows
    (with 类/款 subtotal rows in the tree variant)."""
    _, tree = _code_layout(doc)
    out: list[tuple[str, FuncRow, str]] = [("total", _sum_rows(doc.rows, "", "合计"), "")]
    for u in doc.units:
        out.append(("unit", _sum_rows(u.rows, "", u.name), u.code))
        if not tree:
            out += [("detail", r, "") for r in u.rows]
            continue
        for cls in sorted({r.code[:3] for r in u.rows}):
            crows = [r for r in u.rows if r.code[:3] == cls]
            out.append(("subtotal", _sum_rows(crows, cls, FUNCTION_NAMES[cls]), ""))
            for kuan in sorted({r.code[:5] for r in crows}):
                krows = [r for r in crows if r.code[:5] == kuan]
                out.append(("subtotal", _sum_rows(krows, kuan, FUNCTION_NAMES[kuan]), ""))
                out += [("detail", r, "") for r in krows]
    return out


def _code_header(joined: bool) -> tuple[list[str], list[str], list[str], list[Span], int]:
    if joined:
        return ["科目编码"], [""], [""], [(0, 0, 0, 2)], 1
    return (
        ["科目编码", "", ""],
        ["类", "款", "项"],
        ["", "", ""],
        [(0, 0, 2, 0), (0, 1, 0, 2), (1, 1, 1, 2), (2, 1, 2, 2)],
        3,
    )


def _code_cells(code: str, joined: bool) -> list[str]:
    if joined:
        return [code]
    return [code[:3], code[3:5], code[5:7]]


def function_table(doc: Document, key: str, empty_note: str | None = None) -> TableData:
    f = Fmt(doc)
    joined, tree = _code_layout(doc)
    h0, h1, h2, spans, nc = _code_header(joined)
    o = nc  # offset of 单位代码
    header = [
        h0 + ["单位代码", "单位（科目名称）", "合计", "基本支出", "", "", "", "", "项目支出", "", ""],
        h1 + ["", "", "", "小计", "人员经费", "", "公用经费", "", "小计", "其他运转类", "特定目标类"],
        h2 + ["", "", "", "", "工资福利支出", "对个人和家庭的补助", "商品和服务支出", "资本性支出", "", "", ""],
    ]
    spans = spans + [
        (o, 0, o, 2),
        (o + 1, 0, o + 1, 2),
        (o + 2, 0, o + 2, 2),
        (o + 3, 0, o + 7, 0),
        (o + 8, 0, o + 10, 0),
        (o + 3, 1, o + 3, 2),
        (o + 4, 1, o + 5, 1),
        (o + 6, 1, o + 7, 1),
        (o + 8, 1, o + 8, 2),
        (o + 9, 1, o + 9, 2),
        (o + 10, 1, o + 10, 2),
    ]
    body: list[list[str]] = []
    truth: list[dict] = []
    bold: set[int] = set()
    if empty_note:
        body.append([""] * nc + ["", "合计"] + [""] * 9)
    else:
        for kind, r, ucode in _function_rows(doc):
            code = r.code
            name = f.name(r.name)
            cells = _code_cells(code, joined) + [ucode, name] + [f.cell(a) for a in _amounts(r)]
            t: dict = {"kind": {"unit": "subtotal"}.get(kind, kind)}
            if code:
                t["function_code"] = code
            t["name"] = name
            if ucode:
                t["unit_code"] = ucode
            for k, a in zip(_AMT_FIELDS, _amounts(r), strict=False):
                f.put(t, k, a)
            if kind in ("total", "subtotal", "unit"):
                bold.add(len(body))
            body.append(cells)
            truth.append(t)
    widths = (
        ([2.2] if joined else [1.0, 0.8, 0.8]) + [1.6, 5.0 if "wrapped_names" not in doc.variants else 3.2] + [2.0] * 9
    )
    td = TableData(
        key,
        TABLE_ORDER.index(key) + 1,
        table_title(doc, key),
        doc.unit,
        header,
        spans,
        body,
        truth,
        widths,
        wide=True,
        left_cols={o + 1},
        right_cols=set(range(o + 2, o + 11)),
        bold_rows=bold,
    )
    if empty_note:
        td.empty = True
        td.truth_rows = []
        td.notes = [empty_note]
    return td


def revenue_table(doc: Document) -> TableData:
    f = Fmt(doc)
    joined, _ = _code_layout(doc)
    h0, h1, _h2, spans, nc = _code_header(joined)
    spans = [s if s[3] != 2 else (s[0], s[1], s[2], 1) for s in spans]
    o = nc
    header = [
        h0 + ["单位代码", "单位（科目名称）", "合计", "本年收入", "", "", "", "", "上年结转"],
        h1 + ["", "", "", "一般公共预算", "政府性基金预算", "国有资本经营预算", "财政专户管理资金", "单位资金", ""],
    ]
    spans += [(o, 0, o, 1), (o + 1, 0, o + 1, 1), (o + 2, 0, o + 2, 1), (o + 3, 0, o + 7, 0), (o + 8, 0, o + 8, 1)]
    fields = ["total", "gpb", "gov_fund", "soe_capital", "special_account", "unit_funds", "carryover"]
    body, truth, bold = [], [], set()
    for kind, r, ucode in _function_rows(doc):
        vals = [r.total, r.total, 0, 0, 0, 0, 0]
        name = f.name(r.name)
        body.append(_code_cells(r.code, joined) + [ucode, name] + [f.cell(a) for a in vals])
        t: dict = {"kind": {"unit": "subtotal"}.get(kind, kind)}
        if r.code:
            t["function_code"] = r.code
        t["name"] = name
        if ucode:
            t["unit_code"] = ucode
        for k, a in zip(fields, vals, strict=False):
            f.put(t, k, a)
        if kind != "detail":
            bold.add(len(body) - 1)
        truth.append(t)
    widths = ([2.2] if joined else [1.0, 0.8, 0.8]) + [1.6, 5.0] + [2.2] * 7
    return TableData(
        TABLE_REVENUE,
        2,
        table_title(doc, TABLE_REVENUE),
        doc.unit,
        header,
        spans,
        body,
        truth,
        widths,
        wide=True,
        left_cols={o + 1},
        right_cols=set(range(o + 2, o + 9)),
        bold_rows=bold,
    )


# ---------------------------------------------------------------------------
# two-sided tables
# ---------------------------------------------------------------------------

INCOME_ITEMS = [
    "一、一般公共预算",
    "其中：财政拨款",
    "二、政府性基金预算拨款收入",
    "三、国有资本经营预算拨款收入",
    "四、财政专户管理资金收入",
    "五、事业收入",
    "六、事业单位经营收入",
    "七、上级补助收入",
    "八、附属单位上缴收入",
    "九、其他收入",
]


def income_expenditure_table(doc: Document) -> TableData:
    f = Fmt(doc)
    total = doc.total
    ct = doc.class_totals()
    inc = [(INCOME_ITEMS[0], total), (INCOME_ITEMS[1], total)] + [(x, 0) for x in INCOME_ITEMS[2:]]
    exp = [(f"{cn_ordinal(int(c) - 200)}、{nm}", ct.get(c, 0)) for c, nm in EXPENSE_CLASSES]
    body, truth = [], []
    for i in range(max(len(inc), len(exp))):
        li, la = inc[i] if i < len(inc) else ("", None)
        ri, ra = exp[i] if i < len(exp) else ("", None)
        body.append([li, "" if la is None else f.cell(la), ri, "" if ra is None else f.cell(ra)])
        t: dict = {"kind": "detail"}
        if li:
            t["income_item"] = li
            f.put(t, "income_amount", la)
        t["expense_item"] = ri
        f.put(t, "expense_amount", ra)
        truth.append(t)
    n = len(body)
    for li, la, ri, ra, kind in [
        ("本年收入合计", total, "本年支出合计", total, "total"),
        ("上年结转结余", 0, "年终结转结余", 0, "detail"),
        ("收入总计", total, "支出总计", total, "total"),
    ]:
        rcell = f.cell(ra) if ri != "年终结转结余" else "0.00"
        body.append([li, f.cell(la), ri, rcell])
        t = {"kind": kind, "income_item": li}
        f.put(t, "income_amount", la)
        t["expense_item"] = ri
        if ri == "年终结转结余":
            t["expense_amount"] = "0.00"
        else:
            f.put(t, "expense_amount", ra)
        truth.append(t)
    header = [["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"]]
    spans = [(0, 0, 1, 0), (2, 0, 3, 0)]
    return TableData(
        TABLE_INCOME_EXPENDITURE,
        1,
        table_title(doc, TABLE_INCOME_EXPENDITURE),
        doc.unit,
        header,
        spans,
        body,
        truth,
        [4.5, 2.2, 4.5, 2.2],
        left_cols={0, 2},
        right_cols={1, 3},
        bold_rows={n, n + 2},
    )


FISCAL_INCOME = [
    ("一、本年收入", "t"),
    ("（一）一般公共预算拨款", "t"),
    ("其中：财政拨款", "t"),
    ("（二）政府性基金预算拨款", ""),
    ("（三）国有资本经营预算拨款", ""),
    ("二、上年结转", ""),
    ("（一）一般公共预算拨款", ""),
    ("（二）政府性基金预算拨款", ""),
    ("（三）国有资本经营预算拨款", ""),
]


def fiscal_table(doc: Document) -> TableData:
    f = Fmt(doc)
    total = doc.total
    ct = doc.class_totals()
    exp = (
        [("一、本年支出", total)]
        + [(f"（{cn_ordinal(int(c) - 200)}）{nm}", ct.get(c, 0)) for c, nm in FISCAL_CLASSES]
        + [("二、年终结转结余", 0)]
    )
    body, truth = [], []
    for i, (ri, ra) in enumerate(exp):
        li, lt = FISCAL_INCOME[i] if i < len(FISCAL_INCOME) else ("", None)
        la = None if lt is None else (total if lt else 0)
        row = [li, "" if la is None else f.cell(la), ri, f.cell(ra), f.cell(ra), f.cell(ra), f.cell(0), f.cell(0)]
        body.append(row)
        t: dict = {"kind": "detail"}
        if li:
            t["income_item"] = li
            f.put(t, "income_amount", la)
        t["expense_item"] = ri
        for k, a in [
            ("expense_total", ra),
            ("expense_gpb", ra),
            ("expense_gpb_fiscal", ra),
            ("expense_gov_fund", 0),
            ("expense_soe", 0),
        ]:
            f.put(t, k, a)
        truth.append(t)
    body.append(
        ["收入合计", f.cell(total), "支出合计", f.cell(total), f.cell(total), f.cell(total), f.cell(0), f.cell(0)]
    )
    t = {"kind": "total", "income_item": "收入合计", "expense_item": "支出合计"}
    f.put(t, "income_amount", total)
    for k, a in [
        ("expense_total", total),
        ("expense_gpb", total),
        ("expense_gpb_fiscal", total),
        ("expense_gov_fund", 0),
        ("expense_soe", 0),
    ]:
        f.put(t, k, a)
    truth.append(t)
    header = [
        ["收入", "", "支出", "", "", "", "", ""],
        ["项 目", "金 额", "项 目", "合 计", "一般公共预算", "", "政府性基金", "国有资本经营预算"],
        ["", "", "", "", "小 计", "其中：财政拨款", "", ""],
    ]
    spans = [
        (0, 0, 1, 0),
        (2, 0, 7, 0),
        (0, 1, 0, 2),
        (1, 1, 1, 2),
        (2, 1, 2, 2),
        (3, 1, 3, 2),
        (4, 1, 5, 1),
        (6, 1, 6, 2),
        (7, 1, 7, 2),
    ]
    return TableData(
        TABLE_FISCAL_APPROPRIATION,
        4,
        table_title(doc, TABLE_FISCAL_APPROPRIATION),
        doc.unit,
        header,
        spans,
        body,
        truth,
        [4.2, 2.0, 5.0, 2.0, 2.0, 2.0, 2.0, 2.2],
        wide=True,
        left_cols={0, 2},
        right_cols={1, 3, 4, 5, 6, 7},
        bold_rows={0, len(body) - 1},
    )


# ---------------------------------------------------------------------------
# economic classification, 三公, projects
# ---------------------------------------------------------------------------


def basic_table(doc: Document) -> TableData:
    f = Fmt(doc)
    pers = sum(e.amount for e in doc.econ_rows if e.personnel)
    pub = sum(e.amount for e in doc.econ_rows if not e.personnel)
    body = [["合计", "", "", "", f.cell(pers + pub), f.cell(pers), f.cell(pub)]]
    t = {"kind": "total", "econ_name": "合计"}
    for k, a in [("total", pers + pub), ("personnel", pers), ("public", pub)]:
        f.put(t, k, a)
    truth = [t]
    for e in doc.econ_rows:
        p, q = (e.amount, 0) if e.personnel else (0, e.amount)
        body.append([e.code, f.name(e.name), e.gov_code, f.name(e.gov_name), f.cell(e.amount), f.cell(p), f.cell(q)])
        t = {
            "kind": "detail",
            "econ_code": e.code,
            "econ_name": f.name(e.name),
            "gov_econ_code": e.gov_code,
            "gov_econ_name": f.name(e.gov_name),
        }
        for k, a in [("total", e.amount), ("personnel", p), ("public", q)]:
            f.put(t, k, a)
        truth.append(t)
    header = [
        ["部门预算支出经济分类科目", "", "政府预算支出经济分类科目", "", "本年一般公共预算基本支出", "", ""],
        ["科目编码", "科目名称", "科目编码", "科目名称", "合计", "人员经费", "公用经费"],
    ]
    spans = [(0, 0, 1, 0), (2, 0, 3, 0), (4, 0, 6, 0)]
    return TableData(
        TABLE_GPB_BASIC,
        6,
        table_title(doc, TABLE_GPB_BASIC),
        doc.unit,
        header,
        spans,
        body,
        truth,
        [1.5, 4.0, 1.5, 4.0, 2.2, 2.2, 2.2],
        left_cols={1, 3},
        right_cols={4, 5, 6},
        bold_rows={0},
    )


THREE_NOTE = (
    "注：按照党中央、国务院有关规定及部门预算管理有关规定，“三公”经费包括因公出国(境)费、"
    "公务用车购置及运行费和公务接待费。(1)因公出国(境)费，指单位工作人员公务出国(境)的住宿费、"
    "差旅费、伙食补助费、杂费、培训费等支出。(2)公务用车购置及运行费，指单位公务用车购置费及租用费、"
    "燃料费、维修费、过路过桥费、保险费、安全奖励费用等支出，公务用车指用于履行公务的机动车辆，"
    "包括一般公务用车和执法执勤用车。(3)公务接待费，指单位按规定开支的各类公务接待(含外宾接待)支出。"
)


def three_public_table(doc: Document) -> TableData:
    f = Fmt(doc)
    header = [
        ["“三公”经费合计", "因公出国(境)费", "公务用车购置及运行费", "", "", "公务接待费"],
        ["", "", "小计", "公务用车购置费", "公务用车运行费", ""],
    ]
    spans = [(0, 0, 0, 1), (1, 0, 1, 1), (2, 0, 4, 0), (5, 0, 5, 1)]
    tp = doc.three_public
    td = TableData(
        TABLE_THREE_PUBLIC,
        7,
        table_title(doc, TABLE_THREE_PUBLIC),
        doc.unit,
        header,
        spans,
        [],
        [],
        [2.0] * 6,
        right_cols=set(range(6)),
        notes=[THREE_NOTE],
    )
    if tp is None:
        td.empty = True
        td.notes.append(f"备注：{doc.department}{doc.fiscal_year}年无三公经费预算拨款安排的支出，故此表无数据。")
        return td
    vals = [tp.total, tp.outbound, tp.vehicle_total, tp.vehicle_purchase, tp.vehicle_operation, tp.reception]
    td.body = [[f.cell(a) for a in vals]]
    t = {"kind": "total"}
    for k, a in zip(
        ["total", "outbound", "vehicle_total", "vehicle_purchase", "vehicle_operation", "reception"], vals, strict=False
    ):
        f.put(t, k, a)
    td.truth_rows = [t]
    return td


def project_table(doc: Document) -> TableData:
    f = Fmt(doc)
    header = [
        [
            "类型",
            "项目名称",
            "项目单位",
            "合计",
            "本年拨款",
            "",
            "",
            "财政拨款结转结余",
            "",
            "",
            "财政专户管理资金",
            "单位资金",
        ],
        [
            "",
            "",
            "",
            "",
            "一般公共预算",
            "政府性基金预算",
            "国有资本经营预算",
            "一般公共预算",
            "政府性基金预算",
            "国有资本经营预算",
            "",
            "",
        ],
    ]
    spans = [
        (0, 0, 0, 1),
        (1, 0, 1, 1),
        (2, 0, 2, 1),
        (3, 0, 3, 1),
        (4, 0, 6, 0),
        (7, 0, 9, 0),
        (10, 0, 10, 1),
        (11, 0, 11, 1),
    ]
    widths = [2.0, 6.5, 3.5] + [1.8] * 9
    td = TableData(
        TABLE_PROJECT,
        10,
        table_title(doc, TABLE_PROJECT),
        doc.unit,
        header,
        spans,
        [],
        [],
        widths,
        wide=True,
        left_cols={1, 2},
        right_cols=set(range(3, 12)),
    )
    if not doc.projects:
        td.empty = True
        td.body = [["", "", "", ""] + [""] * 8]
        td.notes = [f"备注：{doc.department}{doc.fiscal_year}年无项目支出预算，故此表无数据。"]
        return td

    def line(cat: str, name: str, unit: str, amt: int, kind: str) -> None:
        td.body.append([cat, name, unit, f.cell(amt), f.cell(amt)] + [f.cell(0)] * 7)
        t: dict = {"kind": kind}
        if cat:
            t["category"] = cat
        if name:
            t["project_name"] = name
        if unit:
            t["project_unit"] = unit
        f.put(t, "total", amt)
        f.put(t, "gpb", amt)
        for k in (
            "gov_fund",
            "soe_capital",
            "carryover_gpb",
            "carryover_gov_fund",
            "carryover_soe_capital",
            "special_account",
            "unit_funds",
        ):
            f.put(t, k, 0)  # printed as 0.00 / - / — in the zero_* variants
        td.truth_rows.append(t)

    line("", "", "", sum(p.amount for p in doc.projects), "total")
    td.bold_rows.add(0)
    for u in doc.units:
        if not u.projects:
            continue
        td.bold_rows.add(len(td.body))
        line("", u.code, u.name, sum(p.amount for p in u.projects), "subtotal")
        for p in u.projects:
            line(p.category, f.name(p.name), u.name, p.amount, "detail")
    return td


# ---------------------------------------------------------------------------
# performance (text) tables
# ---------------------------------------------------------------------------

DEPT_INDICATORS = [
    (
        "投入管理指标",
        "工作目标管理",
        "年度履职目标相关性",
        "相关",
        "年度履职目标是否符合国家、省委省政府战略部署和发展规划，与国家、省宏观政策、行业政策一致。",
    ),
    (
        "投入管理指标",
        "工作目标管理",
        "工作任务科学性",
        "科学",
        "工作任务是否有明确的绩效目标，绩效目标是否与部门年度履职目标一致。",
    ),
    ("投入管理指标", "工作目标管理", "预算编制完整性", "完整", "部门所有收入是否全部纳入部门预算。"),
    (
        "投入管理指标",
        "预算和财务管理",
        "预算执行率",
        "≥91%",
        "预算执行率=（预算完成数/预算数）×100%。预算完成数指部门实际执行的预算数。",
    ),
    (
        "投入管理指标",
        "预算和财务管理",
        "“三公经费”控制率",
        "≤90%",
        "“三公经费”控制率=本年度“三公经费”实际支出数/“三公经费”预算数*100%",
    ),
    (
        "投入管理指标",
        "预算和财务管理",
        "政府采购执行率",
        "≥90%",
        "政府采购执行率=(实际政府采购金额/政府采购预算数)×100%。",
    ),
    (
        "投入管理指标",
        "绩效管理",
        "绩效目标编制完成率",
        "100%",
        "部门(单位)按要求编制绩效目标的项目数量占应编制绩效目标项目总数的比重。",
    ),
    ("产出指标", "重点工作任务完成", "任务完成率", "100%", "反映本部门负责的重点工作任务进展情况。"),
    ("产出指标", "履职目标实现", "目标实现率", "100%", "反映本部门制定的年度工作目标达成情况。"),
    ("效益指标", "履职效益", "不满意率", "≤10%", "反映部门履职对经济社会发展等所带来的直接或间接影响。"),
    ("效益指标", "满意度", "满意率", "≥98%", "反映社会公众或服务对象在部门履职效果方面的满意程度。"),
]


def dept_performance_table(doc: Document) -> TableData:
    total, basic, proj = wan_str(doc.total), wan_str(doc.basic), wan_str(doc.project)
    header = [["部门（单位）名称", doc.department, "", "", ""]]
    spans = [(1, 0, 4, 0)]
    body = [
        ["年度履职目标", doc.annual_goal, "", "", ""],
        ["年度主要任务", "任务名称", "", "主要内容", ""],
        ["", doc.annual_goal[:30], "", "完成年度重点工作任务", ""],
        ["预算情况", "部门预算总额（万元）", "", total, ""],
        ["", "1、资金来源：", "(1) 政府预算资金", total, ""],
        ["", "", "(2) 财政专户管理资金", "", ""],
        ["", "", "(3) 单位资金", "", ""],
        ["", "2、资金结构：", "(1) 基本支出", basic, ""],
        ["", "", "(2) 项目支出", proj, ""],
        ["一级指标", "二级指标", "三级指标", "指标值", "指标值说明"],
    ]
    bs = [
        (1, 0, 4, 0),
        (1, 1, 2, 1),
        (3, 1, 4, 1),
        (1, 2, 2, 2),
        (3, 2, 4, 2),
        (0, 1, 0, 2),
        (1, 3, 2, 3),
        (3, 3, 4, 3),
        (0, 3, 0, 8),
        (1, 4, 1, 6),
        (1, 7, 1, 8),
    ]
    bs += [(3, r, 4, r) for r in range(4, 9)]
    truth = []
    start = len(body)
    for l1, l2, l3, val, desc in DEPT_INDICATORS:
        body.append([l1, l2, l3, val, desc])
        truth.append(
            {
                "kind": "text",
                "indicator_l1": l1,
                "indicator_l2": l2,
                "indicator_l3": l3,
                "target": val,
                "description": desc,
            }
        )
    # merge runs of equal 一级/二级 indicator cells, as printed
    orig = [list(r) for r in body]
    for col in (0, 1):
        i = start
        while i < len(body):
            j = i
            while j + 1 < len(body) and orig[j + 1][: col + 1] == orig[i][: col + 1]:
                j += 1
            if j > i:
                bs.append((col, i, col, j))
                for k in range(i + 1, j + 1):
                    body[k][col] = ""
            i = j + 1
    td = TableData(
        TABLE_DEPT_PERFORMANCE,
        11,
        table_title(doc, TABLE_DEPT_PERFORMANCE),
        "万元",
        header,
        spans,
        body,
        truth,
        [2.2, 2.6, 3.0, 2.0, 7.0],
        body_spans=bs,
        left_cols={1, 2, 4},
    )
    td.extra = {"department": doc.department, "budget_total": total, "basic_total": basic, "project_total": proj}
    return td


def project_performance_table(doc: Document) -> TableData:
    f = Fmt(doc)
    header = [
        [
            "单位编码（项目编码）",
            "项目单位（项目名称）",
            "项目分类",
            "资金总额",
            "政府预算资金",
            "指标类别",
            "三级指标",
            "指标值",
        ]
    ]
    body, truth, bs, bold = [], [], [], set()
    for u in doc.units:
        if not u.projects:
            continue
        amt = sum(p.amount for p in u.projects)
        bold.add(len(body))
        body.append([u.code, u.name, "", f.cell(amt), f.cell(amt), "", "", ""])
        t = {"kind": "subtotal", "project_code": u.code, "project_name": u.name}
        f.put(t, "total", amt)
        f.put(t, "gpb", amt)
        truth.append(t)
        for p in u.projects:
            first = len(body)
            for i, (typ, ind, val) in enumerate(p.indicators):
                lead = [p.code, f.name(p.name), p.category, f.cell(p.amount), f.cell(p.amount)] if i == 0 else [""] * 5
                body.append(lead + [typ, ind, val])
                t = {"kind": "text", "project_code": p.code, "project_name": f.name(p.name), "category": p.category}
                f.put(t, "total", p.amount)
                f.put(t, "gpb", p.amount)
                t.update({"indicator_type": typ, "indicator": ind, "target": val})
                truth.append(t)
            if len(p.indicators) > 1:
                bs += [(c, first, c, len(body) - 1) for c in range(5)]
    td = TableData(
        TABLE_PROJECT_PERFORMANCE,
        12,
        table_title(doc, TABLE_PROJECT_PERFORMANCE),
        doc.unit,
        header,
        [],
        body,
        truth,
        [3.6, 4.5, 1.8, 1.8, 1.8, 1.8, 5.0, 2.0],
        wide=True,
        body_spans=bs,
        left_cols={1, 6},
        right_cols={3, 4},
        bold_rows=bold,
    )
    if not body:
        td.empty = True
        td.body = [[""] * 8]
        td.notes = [f"备注：{doc.department}{doc.fiscal_year}年无项目支出，故此表无数据。"]
    return td


# ---------------------------------------------------------------------------


def _empty_note(doc: Document, what: str) -> str:
    return f"备注：{doc.department}{doc.fiscal_year}年无{what}拨款安排的支出，故此表无数据。"


def build_tables(doc: Document) -> list[TableData]:
    if doc.doc_type == "final_accounts":
        t1 = income_expenditure_table(doc)
        t2 = function_table(doc, TABLE_GPB_EXPENDITURE)
        t3 = basic_table(doc)
        return [t1, t2, t3]
    out = [
        income_expenditure_table(doc),
        revenue_table(doc),
        function_table(doc, TABLE_EXPENDITURE),
        fiscal_table(doc),
        function_table(doc, TABLE_GPB_EXPENDITURE),
        basic_table(doc),
        three_public_table(doc),
        function_table(doc, TABLE_GOV_FUND, _empty_note(doc, "政府性基金预算")),
        function_table(doc, TABLE_SOE_CAPITAL, _empty_note(doc, "国有资本经营预算")),
        project_table(doc),
        dept_performance_table(doc),
        project_performance_table(doc),
    ]
    if "wrong_total" in doc.defects:
        _apply_wrong_total(doc, out)
    return out


def _apply_wrong_total(doc: Document, tables: list[TableData]) -> None:
    """Print a wrong 合计 in the 一般公共预算支出预算表 (the defect the validator must catch)."""
    t = next(t for t in tables if t.key == TABLE_GPB_EXPENDITURE)
    joined, _ = _code_layout(doc)
    col = (1 if joined else 3) + 2  # 合计 column
    delta = 1_000_000 if doc.unit == "万元" else 12_345  # +1.00 万元 / +123.45 元
    right = doc.total
    wrong = right + delta
    f = Fmt(doc)
    t.body[0][col] = f.cell(wrong)
    t.truth_rows[0]["total"] = amount_str(wrong, doc.unit)
    t.extra["defect_detail"] = {
        "row": 0,
        "field": "total",
        "printed": amount_str(wrong, doc.unit),
        "correct": amount_str(right, doc.unit),
    }
