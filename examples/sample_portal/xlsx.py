"""The second producer: a document as an office workbook (.xlsx), exported to PDF by LibreOffice.

Most published 部门预算 PDFs are office-suite exports of spreadsheets.  This
producer lays the same :class:`~.tables.TableData` out as a department's
workbook would: one sheet per table, the title row merged across the table,
the 部门名称 / 单位 line, the header over up to three rows with merged cells,
thin borders on every cell, amounts as numbers with number formats (元 with
thousands separators, 万元 with 2 decimals, zero as blank / 0.00 / "-" / "—"),
long names wrapping inside their cells, row heights as the office suite saves
them, A4 page setup fitted to the page width (landscape for wide tables), the
header rows repeated on every page (print titles) or not.  A cover sheet and
a 说明 sheet come first, so the PDF reads like a whole document.

``render_xlsx_pdf(doc, pdf)`` writes the workbook, converts it with
``soffice --headless`` (:mod:`.office`, cached by content) and returns the
pages of every table, read back from the PDF's text: the truth (``truth.py``)
is the same as the reportlab producer's for the same document.

Spreadsheet-only variants (``XLSX_VARIANTS`` in ``corpus.py``):

* ``codes_merged``: split 类/款/项 columns, the 类 and 款 cells merged down
  their group (the code is printed once, in the middle of its rows);
* ``codes_own_level``: 类/款 subtotal rows (``codes_tree``) and every row
  prints only its own level (``201`` / ``03`` / ``06``): the parents are the
  rows above;
* ``header_codes_low``: 科目编码 over the first two header rows, 类|款|项 on
  the third (as the seed's 一般公共预算支出预算表 prints it);
* ``multipage_repeat_title``: the title and 部门名称 lines are print titles
  too, repeated over the header on every page;
* ``no_unit_code`` / ``project_single``: function tables without the 单位代码
  column (科目名称) / with 项目支出 as one column (these change the truth's
  fields, so they are applied to the tables, ``xlsx_tables``);
* ``header_synonyms``: 人员支出 / 日常公用支出 / 合计 for 人员经费 / 公用经费 /
  the groups' 小计;
* ``column_numbers``: a 栏次 row numbering the amount columns under the header;
* ``wan_separators``: 万元 amounts with thousands separators too (1,145.25);
* ``amounts_wrapped``: amounts typed as text in columns too narrow for them,
  so long ones wrap inside their cell (``1,067,420.0`` / ``0``).
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from assets.records import (
    TABLE_EXPENDITURE,
    TABLE_GOV_FUND,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_PROJECT,
    TABLE_REVENUE,
    TABLE_SOE_CAPITAL,
)

from .model import Document
from .narrative import narrative_sections
from .tables import BASE_TITLES, TableData, build_tables

PRODUCER = "xlsx"
FONT = "宋体"  # as the templates name it; LibreOffice substitutes the installed CJK font (WenQuanYi Zen Hei)
TITLE_FONT = "黑体"
SIZE = 10.0  # body and header type, pt
TITLE_SIZE = 16.0
PT_PER_UNIT = 7.0  # LibreOffice: one Excel column-width unit ≈ 7 pt (measured)
PT_PER_WEIGHT = 34.0  # TableData.weights → column width in pt at 100 %
LINE = 1.35  # line height / type size
PAD = 5.0  # vertical padding of a row, pt
FUNCTION_TABLES = {TABLE_EXPENDITURE, TABLE_GPB_EXPENDITURE, TABLE_GOV_FUND, TABLE_SOE_CAPITAL, TABLE_REVENUE}
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FIXED_TIME = "2000-01-01T00:00:00Z"

Span = tuple[int, int, int, int]  # (col0, row0, col1, row1) inclusive, as in tables.py


# ---------------------------------------------------------------------------
# text metrics (conservative: a row is never too short for its text)
# ---------------------------------------------------------------------------


def _em(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.62


def text_width(text: str, size: float) -> float:
    return sum(_em(c) for c in text) * size


def line_count(text: str, width_pt: float, size: float) -> int:
    """Lines ``text`` wraps to in a cell ``width_pt`` wide (character-wise, with a safety margin)."""
    avail = max(size, (width_pt - 6) * 0.93)
    n = 0
    for para in str(text).split("\n"):
        lines, w = 1, 0.0
        for ch in para:
            cw = _em(ch) * size
            if w + cw > avail and w > 0:
                lines, w = lines + 1, cw
            else:
                w += cw
        n += lines
    return n


def _height(lines: int, size: float) -> float:
    return round(lines * size * LINE + PAD, 1)


# ---------------------------------------------------------------------------
# the printed grid of one table, with the spreadsheet variants applied
# ---------------------------------------------------------------------------


@dataclass
class Grid:
    header: list[list[str]]
    header_spans: list[Span]
    body: list[list[str]]
    body_spans: list[Span] = field(default_factory=list)


def has_layout(doc: Document, t: TableData, tag: str) -> bool:
    """Whether layout variant ``tag`` applies to table ``t`` (``doc.table_layout`` narrows a tag to some tables)."""
    if tag in doc.table_layout:
        return t.key in doc.table_layout[tag]
    return tag in doc.variants


def _split_codes(doc: Document, t: TableData) -> bool:
    return t.key in FUNCTION_TABLES and "codes_joined" not in doc.variants


# --- layouts that change what a table prints (and so its truth) -------------------------------------


def _drop_columns(t: TableData, drop: set[int]) -> None:
    """Remove columns from a table in place: cells, spans (shrunk), widths, column roles."""
    keep = [c for c in range(len(t.weights)) if c not in drop]
    new = {c: i for i, c in enumerate(keep)}

    def spans(ss: list[Span]) -> list[Span]:
        out = []
        for c0, r0, c1, r1 in ss:
            cols = [new[c] for c in range(c0, c1 + 1) if c in new]
            if cols and (len(cols) > 1 or r1 > r0):
                out.append((cols[0], r0, cols[-1], r1))
        return out

    t.header = [[r[c] for c in keep] for r in t.header]
    t.header_spans = spans(t.header_spans)
    t.body = [[r[c] for c in keep] for r in t.body]
    t.body_spans = spans(t.body_spans)
    t.weights = [t.weights[c] for c in keep]
    t.left_cols = {new[c] for c in t.left_cols if c in new}
    t.right_cols = {new[c] for c in t.right_cols if c in new}


def _function_offset(t: TableData) -> int:
    """Column of 单位代码 in a function-classified table (after the 1 or 3 code columns)."""
    return t.header[0].index("单位代码")


def _no_unit_code(t: TableData) -> None:
    """No 单位代码 column: the name column is headed 科目名称, a unit row prints its name only."""
    o = _function_offset(t)
    _drop_columns(t, {o})
    t.header[0][o] = "科目名称"
    for row in t.truth_rows:
        row.pop("unit_code", None)


def _project_single(t: TableData) -> None:
    """项目支出 as one column (its 小计), not split into 其他运转类 / 特定目标类."""
    o = _function_offset(t)
    p = o + 8  # 项目支出 / 小计
    if len(t.header) != 3 or t.header[0][p] != "项目支出":
        return
    _drop_columns(t, {p + 1, p + 2})
    t.header[0][p], t.header[1][p], t.header[2][p] = "项目支出", "", ""
    t.header_spans = [s for s in t.header_spans if s[0] != p] + [(p, 0, p, 2)]
    for row in t.truth_rows:
        row.pop("project_other_operating", None)
        row.pop("project_specific", None)


def xlsx_tables(doc: Document) -> list[TableData]:
    """The tables as this producer prints them: ``build_tables`` with the layouts that change a table's
    columns applied (``no_unit_code``, ``project_single``); truth and workbook are both made from these."""
    tables = build_tables(doc)
    for t in tables:
        if t.key not in FUNCTION_TABLES:
            continue
        if has_layout(doc, t, "no_unit_code"):
            _no_unit_code(t)
        if t.key != TABLE_REVENUE and has_layout(doc, t, "project_single"):
            _project_single(t)
    return tables


def printed_grid(doc: Document, t: TableData) -> Grid:
    """Header and body cells as this workbook prints them (``t`` itself is left unchanged)."""
    g = Grid([list(r) for r in t.header], list(t.header_spans), [list(r) for r in t.body], list(t.body_spans))
    if has_layout(doc, t, "header_synonyms"):
        _header_synonyms(g)
    if has_layout(doc, t, "column_numbers") and t.key in NUMBERED_TABLES and g.header:
        _add_column_numbers(g, t)
    if not _split_codes(doc, t):
        return g
    if has_layout(doc, t, "header_codes_low") and len(g.header) == 3:
        _header_codes_low(g)
    codes = [r.get("function_code", "") for r in t.truth_rows] if len(t.truth_rows) == len(g.body) else []
    if has_layout(doc, t, "codes_own_level") and codes:
        _codes_own_level(g, codes)
    if has_layout(doc, t, "codes_merged") and codes:
        _codes_merged(g)
    return g


def _add_column_numbers(g: Grid, t: TableData) -> None:
    """A header row numbering the amount columns (栏次 1 2 3 …)."""
    row = [""] * len(g.header[0])
    names = sorted(t.left_cols)
    if names:
        row[names[0]] = "栏次"
    for i, c in enumerate(sorted(t.right_cols)):
        row[c] = str(i + 1)
    g.header.append(row)


def _header_codes_low(g: Grid) -> None:
    """科目编码 over the three code columns, 类 / 款 / 项 on the header's last row."""
    g.header[0][:3] = ["科目编码", "", ""]
    g.header[1][:3] = ["", "", ""]
    g.header[2][:3] = ["类", "款", "项"]
    g.header_spans = [s for s in g.header_spans if s[0] > 2] + [(0, 0, 2, 1)]


def _codes_own_level(g: Grid, codes: list[str]) -> None:
    """Each code part printed on its own level's row only (a 项 row prints its 项, a 款 row its 款 and 项)."""
    for row, code in zip(g.body, codes, strict=False):
        if len(code) == 7:
            row[0] = row[1] = ""
        elif len(code) == 5:
            row[0] = ""


def _codes_merged(g: Grid) -> None:
    """类 and 款 cells merged down the rows that share them."""
    orig = [list(r) for r in g.body]
    for col in (0, 1):
        i = 0
        while i < len(orig):
            key = tuple(orig[i][: col + 1])
            j = i
            if orig[i][col]:
                while j + 1 < len(orig) and tuple(orig[j + 1][: col + 1]) == key:
                    j += 1
            if j > i:
                g.body_spans.append((col, i, col, j))
                for k in range(i + 1, j + 1):
                    g.body[k][col] = ""
            i = j + 1


#: header words some templates print instead (the same columns)
HEADER_SYNONYMS = {"人员经费": "人员支出", "公用经费": "日常公用支出"}
#: tables whose templates number the amount columns under the header (栏次 1 2 3 …)
NUMBERED_TABLES = FUNCTION_TABLES | {TABLE_GPB_BASIC, TABLE_PROJECT}


def _header_synonyms(g: Grid) -> None:
    """人员支出 / 日常公用支出 for 人员经费 / 公用经费, and 合计 for the 小计 of the 基本支出 and 项目支出 groups."""
    for r, row in enumerate(g.header):
        for c, x in enumerate(row):
            if x in HEADER_SYNONYMS:
                row[c] = HEADER_SYNONYMS[x]
            elif (
                x == "小计"
                and r > 0
                and any(
                    g.header[0][c0] in ("基本支出", "项目支出")
                    for c0, r0, c1, r1 in g.header_spans
                    if r0 == 0 and c0 <= c <= c1
                )
            ):
                row[c] = "合计"


# ---------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------


def _number_format(doc: Document, unit: str) -> str:
    pos = "#,##0.00" if unit == "元" or "wan_separators" in doc.variants else "0.00"
    v = doc.variants
    if "zero_dash" in v:
        return f'{pos};-{pos};"-"'
    if "zero_emdash" in v:
        return f'{pos};-{pos};"—"'
    return pos


def _amount(s: str) -> float | None:
    """A printed amount cell → its number (the zero forms "-" / "—" / "0.00" → 0); None: not an amount."""
    if s in ("-", "—"):
        return 0.0
    try:
        return float(Decimal(s.replace(",", "")))
    except InvalidOperation:
        return None


def _orientation(doc: Document, t: TableData) -> str:
    if "portrait" in doc.variants:
        return "portrait"
    if "landscape" in doc.variants:
        return "landscape"
    return "landscape" if t.wide else "portrait"


def _shown(x: str) -> str:
    """The widest form an amount cell can print (with thousands separators)."""
    num = _amount(x)
    return x if num is None else f"{num:,.2f}"


def _column_widths(t: TableData, grid: Grid, title: str, wrap_amounts: bool = False) -> list[float]:
    """Column widths in pt: the table's weights, widened so that every amount fits unwrapped (a number
    too wide for its column prints as ###; not when amounts are text that wraps) and the whole row
    holds the title."""
    sw = [w * PT_PER_WEIGHT for w in t.weights]
    for c in t.right_cols if not wrap_amounts else ():
        need = max((text_width(_shown(r[c]), SIZE) + 10 for r in grid.body if c < len(r) and r[c]), default=0)
        sw[c] = max(sw[c], need)
    for c in range(len(sw)):
        sw[c] = max(sw[c], 2.6 * SIZE)
    need = text_width(title, TITLE_SIZE) + 40
    if sum(sw) < need:
        f = need / sum(sw)
        sw = [w * f for w in sw]
    return sw


class _Sheet:
    """Writes cells row by row, tracking merged spans and the height each row needs."""

    def __init__(self, ws, widths: list[float]):
        self.ws, self.widths = ws, widths
        self.need: dict[int, float] = {}  # row → min height
        self.span_need: list[tuple[int, int, float]] = []  # (row0, row1, height)
        for i, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = round(w / PT_PER_UNIT, 2)

    def width(self, c0: int, c1: int) -> float:
        return sum(self.widths[c0 : c1 + 1])

    def put(
        self,
        row: int,
        col: int,
        value,
        font: Font,
        align: Alignment,
        border: Border | None = None,
        number_format: str | None = None,
    ):
        cell = self.ws.cell(row=row, column=col + 1, value=value)
        cell.font, cell.alignment = font, align
        if border is not None:
            cell.border = border
        if number_format:
            cell.number_format = number_format
        return cell

    def want(self, r0: int, r1: int, height: float) -> None:
        if r0 == r1:
            self.need[r0] = max(self.need.get(r0, 0.0), height)
        else:
            self.span_need.append((r0, r1, height))

    def merge(self, c0: int, r0: int, c1: int, r1: int) -> None:
        if (c0, r0) != (c1, r1):
            self.ws.merge_cells(start_row=r0, start_column=c0 + 1, end_row=r1, end_column=c1 + 1)

    def finish_heights(self, default: float) -> None:
        rows = set(self.need) | {r for a, b, _ in self.span_need for r in range(a, b + 1)}
        h = {r: max(self.need.get(r, 0.0), default) for r in rows}
        for r0, r1, need in self.span_need:
            have = sum(h[r] for r in range(r0, r1 + 1))
            if have < need:
                extra = (need - have) / (r1 - r0 + 1)
                for r in range(r0, r1 + 1):
                    h[r] += extra
        for r, v in h.items():
            self.ws.row_dimensions[r].height = round(v, 1)


def _page_setup(ws, orientation: str, title_rows: str | None = None, footer: bool = True) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = orientation
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.75, header=0.3, footer=0.35)
    if title_rows:
        ws.print_title_rows = title_rows
    if footer:
        ws.oddFooter.center.text = "- &P -"
        ws.oddFooter.center.size = 9
        ws.oddFooter.center.font = FONT


def table_sheet(wb: Workbook, doc: Document, t: TableData, name: str) -> None:
    ws = wb.create_sheet(name)
    grid = printed_grid(doc, t)
    ncol = len(grid.header[0]) if grid.header else len(t.weights)
    wrap_amounts = has_layout(doc, t, "amounts_wrapped")
    widths = _column_widths(t, grid, t.title, wrap_amounts)
    sh = _Sheet(ws, widths)
    fmt = _number_format(doc, t.unit)
    plain, bold = Font(name=FONT, size=SIZE), Font(name=FONT, size=SIZE, bold=True)

    _write_title(sh, doc, t, ncol, plain)
    h0 = 3
    _write_header(sh, grid, ncol, widths, h0, plain)
    b0 = h0 + len(grid.header)
    _write_body(sh, grid, t, ncol, widths, b0, fmt, (plain, bold), wrap_amounts)
    end = b0 + len(grid.body) - 1

    # notes under the table
    r = end + 1
    for note in t.notes:
        r += 1
        sh.put(r, 0, note, Font(name=FONT, size=9), Alignment(horizontal="left", vertical="top", wrap_text=True))
        sh.merge(0, r, ncol - 1, r)
        sh.want(r, r, _height(line_count(note, sum(widths), 9), 9))
    sh.finish_heights(_height(1, SIZE))

    if "multipage_no_header" in doc.variants:
        titles = None
    elif "multipage_repeat_title" in doc.variants:
        titles = f"1:{b0 - 1}"
    else:
        titles = f"{h0}:{b0 - 1}" if grid.header else None
    _page_setup(ws, _orientation(doc, t), titles)
    ws.print_area = f"A1:{get_column_letter(ncol)}{max(r, end)}"


def _write_title(sh: _Sheet, doc: Document, t: TableData, ncol: int, plain: Font) -> None:
    """Rows 1 and 2: the title, 部门名称 and 单位."""
    sh.put(
        1,
        0,
        t.title,
        Font(name=TITLE_FONT, size=TITLE_SIZE, bold=True),
        Alignment(horizontal="center", vertical="center"),
    )
    sh.merge(0, 1, ncol - 1, 1)
    sh.want(1, 1, TITLE_SIZE * 2.0)
    split = max(1, ncol - 2) if ncol > 3 else ncol - 1
    sh.put(2, 0, f"部门名称：{doc.department}", plain, Alignment(horizontal="left", vertical="center"))
    sh.merge(0, 2, split - 1, 2)
    sh.put(2, split, f"单位：{t.unit}", plain, Alignment(horizontal="right", vertical="center"))
    sh.merge(split, 2, ncol - 1, 2)


def _write_header(sh: _Sheet, grid: Grid, ncol: int, widths: list[float], h0: int, plain: Font) -> None:
    """The header rows from row ``h0``, merged as printed, each row as high as its text needs."""
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    covered = {
        (c, r)
        for c0, r0, c1, r1 in grid.header_spans
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
        if (c, r) != (c0, r0)
    }
    for r, row in enumerate(grid.header):
        for c in range(ncol):
            x = row[c] if c < len(row) else ""
            sh.put(h0 + r, c, x or None, plain, center, BORDER)
    for c0, r0, c1, r1 in grid.header_spans:
        text = grid.header[r0][c0]
        if text:
            sh.want(h0 + r0, h0 + r1, _height(line_count(text, sh.width(c0, c1), SIZE), SIZE))
        sh.merge(c0, h0 + r0, c1, h0 + r1)
    for r, row in enumerate(grid.header):
        for c, x in enumerate(row):
            if x and (c, r) not in covered and not any(s[0] == c and s[1] == r for s in grid.header_spans):
                sh.want(h0 + r, h0 + r, _height(line_count(x, widths[c], SIZE), SIZE))


def _write_body(
    sh: _Sheet,
    grid: Grid,
    t: TableData,
    ncol: int,
    widths: list[float],
    b0: int,
    fmt: str,
    fonts: tuple[Font, Font],
    wrap_amounts: bool,
) -> None:
    """The body rows from row ``b0``: amounts as numbers in ``fmt`` (as text that wraps when
    ``wrap_amounts``), labels left, merged as printed; ``fonts``: plain and bold (``t.bold_rows``)."""
    plain, bold = fonts
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    right = Alignment(horizontal="right", vertical="center")
    right_wrap = Alignment(horizontal="right", vertical="center", wrap_text=True)
    span_at = {(s[0], s[1]): s for s in grid.body_spans}
    in_span = {(c, r) for c0, r0, c1, r1 in grid.body_spans for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    for i, row in enumerate(grid.body):
        font = bold if i in t.bold_rows else plain
        for c in range(ncol):
            x = row[c] if c < len(row) else ""
            value, nf = (x or None), None
            if c in t.right_cols and x:
                num = _amount(x)
                if num is not None and wrap_amounts:  # text typed or pasted in: wraps in a narrow column
                    sh.put(b0 + i, c, x, font, right_wrap, BORDER)
                    sh.want(b0 + i, b0 + i, _height(line_count(x, widths[c], SIZE), SIZE))
                    continue
                if num is not None:
                    value, nf = num, fmt
            align = right if nf else left if c in t.left_cols else center
            sh.put(b0 + i, c, value, font, align, BORDER, nf)
            if x and not nf:
                s = span_at.get((c, i))
                if s:
                    sh.want(b0 + s[1], b0 + s[3], _height(line_count(x, sh.width(s[0], s[2]), SIZE), SIZE))
                elif (c, i) not in in_span:
                    sh.want(b0 + i, b0 + i, _height(line_count(x, widths[c], SIZE), SIZE))
    for c0, r0, c1, r1 in grid.body_spans:
        sh.merge(c0, b0 + r0, c1, b0 + r1)


# ---------------------------------------------------------------------------
# cover and 说明 sheets
# ---------------------------------------------------------------------------

_TEXT_WIDTH = 518.0  # pt: A4 portrait less the 0.5 in margins


def cover_sheet(wb: Workbook, doc: Document) -> None:
    ws = wb.create_sheet("封面")
    sh = _Sheet(ws, [_TEXT_WIDTH])
    sh.want(1, 1, 200)
    sh.put(
        2,
        0,
        doc.title,
        Font(name=TITLE_FONT, size=22, bold=True),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
    )
    sh.want(2, 2, _height(line_count(doc.title, _TEXT_WIDTH, 22), 22))
    sh.want(3, 3, 230)
    date = f"{doc.published[:4] or doc.fiscal_year}年{int(doc.published[5:7] or 3)}月"
    sh.put(4, 0, date, Font(name=FONT, size=14), Alignment(horizontal="center", vertical="center"))
    sh.finish_heights(_height(1, 14))
    _page_setup(ws, "portrait", footer=False)


_STYLES = {
    "title": (16.0, True, "center"),
    "h1": (14.0, True, "center"),
    "h2": (11.5, True, "left"),
    "p": (10.5, False, "left"),
}


def narrative_sheet(wb: Workbook, doc: Document, tables: list[TableData]) -> None:
    ws = wb.create_sheet("说明")
    sh = _Sheet(ws, [_TEXT_WIDTH])
    r = 0
    for kind, text in narrative_sections(doc, tables):
        if kind == "pagebreak":
            if r:
                ws.row_breaks.append(Break(id=r))
            continue
        r += 1
        size, is_bold, align = _STYLES[kind]
        if kind == "p":
            text = "\u3000\u3000" + text  # first-line indent, as typed in a cell
        font = Font(name=TITLE_FONT if kind in ("title", "h1") else FONT, size=size, bold=is_bold)
        sh.put(r, 0, text, font, Alignment(horizontal=align, vertical="center", wrap_text=True))
        sh.want(r, r, _height(line_count(text, _TEXT_WIDTH, size), size) + (6 if kind != "p" else 2))
    sh.finish_heights(_height(1, 10.5))
    _page_setup(ws, "portrait")


# ---------------------------------------------------------------------------
# the workbook, byte-for-byte reproducible
# ---------------------------------------------------------------------------


def _sheet_name(t: TableData) -> str:
    name = f"{t.number}{BASE_TITLES.get(t.key, t.key)}"
    return re.sub(r"[\[\]:*?/\\]", "", name)[:31]


def build_workbook(doc: Document, tables: list[TableData]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    cover_sheet(wb, doc)
    narrative_sheet(wb, doc, tables)
    seen: set[str] = set()
    for t in tables:
        name = _sheet_name(t)
        while name in seen:
            name = name[:29] + "_" + str(len(seen))
        seen.add(name)
        table_sheet(wb, doc, t, name)
    wb.properties.creator = "Administrator"
    wb.properties.lastModifiedBy = "Administrator"
    wb.properties.title = doc.title
    return wb


def workbook_bytes(doc: Document, tables: list[TableData] | None = None) -> bytes:
    """The .xlsx of ``doc``: the same bytes on every run (fixed zip times and document dates)."""
    buf = io.BytesIO()
    build_workbook(doc, tables if tables is not None else xlsx_tables(doc)).save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + _FIXED_TIME.encode() + rb"\g<3>",
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def write_xlsx(doc: Document, path: str | Path, tables: list[TableData] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(doc, tables))
    return path


# ---------------------------------------------------------------------------
# PDF: convert, then read every table's pages back from the text
# ---------------------------------------------------------------------------


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def pdf_page_lines(pdf: str | Path) -> list[list[str]]:
    """Each page's text lines, whitespace removed."""
    import pypdfium2 as pdfium

    out = []
    doc = pdfium.PdfDocument(str(pdf))
    try:
        for page in doc:
            text = page.get_textpage().get_text_range()
            out.append([_norm(ln) for ln in text.splitlines() if ln.strip()])
    finally:
        doc.close()
    return out


def table_pages_in_pdf(pdf: str | Path, tables: list[TableData]) -> dict[str, list[int]]:
    """{table key: pages} of a converted workbook.  Every table sheet starts a page whose text has the
    table's title as a line of its own; the pages up to the next table's title are its continuation."""
    lines = pdf_page_lines(pdf)
    pages: dict[str, list[int]] = {}
    nxt, cur = 0, None
    for n, page in enumerate(lines, 1):
        if nxt < len(tables) and _norm(tables[nxt].title) in page:
            cur = tables[nxt].key
            pages[cur] = [n]
            nxt += 1
        elif cur is not None:
            pages[cur].append(n)
    if nxt != len(tables):
        missing = [t.title for t in tables[nxt:]]
        raise ValueError(f"{pdf}: table titles not found on their own line in the converted PDF: {missing}")
    return pages


def convert_documents(docs: list[Document], tables: dict[str, list[TableData]] | None = None) -> dict[str, Path]:
    """Convert the workbooks of several documents in as few LibreOffice starts as possible
    (cache-aware); {doc_id: cached PDF}."""
    from .office import convert_to_pdf

    with tempfile.TemporaryDirectory(prefix="budget-etl-xlsx-") as tmp:
        paths = []
        for i, doc in enumerate(docs):
            tb = (tables or {}).get(doc.doc_id) or xlsx_tables(doc)
            paths.append(write_xlsx(doc, Path(tmp) / f"{i:03d}.xlsx", tb))
        pdfs = convert_to_pdf(paths)
    return {d.doc_id: p for d, p in zip(docs, pdfs, strict=False)}


def render_xlsx_pdf(
    doc: Document, path: str | Path, tables: list[TableData] | None = None, xlsx_path: str | Path | None = None
) -> dict[str, list[int]]:
    """Write ``doc`` as a workbook, convert it to the PDF ``path``; return {table_key: [pages]}."""
    from .office import convert_to_pdf

    tables = tables if tables is not None else xlsx_tables(doc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="budget-etl-xlsx-") as tmp:
        wb = write_xlsx(doc, xlsx_path or Path(tmp) / "doc.xlsx", tables)
        pdf = convert_to_pdf([wb])[0]
    shutil.copyfile(pdf, path)
    return table_pages_in_pdf(path, tables)
